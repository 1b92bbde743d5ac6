"""Writing files atomically: a temp file beside the target, fsync, then rename over it.

A crash at any moment leaves either the old file or the new one, never a torn one. The temp
file is created with ``os.open(..., 0o666)``, so the user's umask gives the final file the mode
a plain ``open(path, "w")`` would (0644 under umask 022): reports, checkpoints and pictures are
meant to be shared, and ``tempfile.mkstemp``'s private 0600 would lock other users out.

Every write of the app goes through here, so a full disk, a read-only folder or a used-up quota
fails the same way everywhere: a ``StorageError`` whose one sentence names the path, the cause
and what to do (``storage_error``), with the earlier file intact and no temp file left.
"""

from __future__ import annotations

import errno
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

from genai_engine.errors import StorageError

_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_QUOTA = getattr(errno, "EDQUOT", None)
# the errors of a place that cannot take the file, not of the program writing it
STORAGE_ERRNOS = frozenset({errno.ENOSPC, *_READ_ONLY} | ({_QUOTA} if _QUOTA else set()))


def storage_error(error: OSError, path: str | os.PathLike, action: str = "write") -> StorageError:
    """One sentence for a failed write or mkdir of ``path``: where, why, and what to do."""
    path = Path(path)
    where = _existing_folder(path.parent)
    if error.errno == errno.ENOSPC:
        cause = f"no space left on the disk holding {where}; free some space or choose another folder"
    elif _QUOTA is not None and error.errno == _QUOTA:
        cause = f"your disk quota on {where} is used up; delete some files or choose another folder"
    elif error.errno in _READ_ONLY:
        cause = f"{where} is read-only or not yours; choose a folder you can write to"
    else:
        cause = f"{error.strerror or error}; check {where} or choose another folder"
    result = StorageError(f"cannot {action} {path}: {cause}")
    result.errno = error.errno
    return result


def make_folder(folder: str | os.PathLike) -> Path:
    """``mkdir -p`` that fails with a ``StorageError`` sentence."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise storage_error(error, folder, "create the folder") from error
    return folder


def check_writable(path: str | os.PathLike) -> Path:
    """Make ``path``'s folder and prove a file can be created in it, before work that would be
    lost if ``path`` could not be written (a read-only place fails now, not after an epoch)."""
    path = Path(path)
    make_folder(path.parent)
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as error:
        raise storage_error(error, path) from error
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Create ``path`` (and its folder) with the bytes ``write(handle)`` puts in a binary file.

    If ``write`` raises, the temp file is removed and ``path`` is left as it was. A write that
    fails for lack of room or rights raises ``StorageError`` (see ``storage_error``).
    """
    path = Path(path)
    make_folder(path.parent)
    # the writer's pid in the name tells a later save whether the temp file's owner is alive
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as error:
        raise storage_error(error, path) from error
    recorder = None
    try:
        with os.fdopen(fd, "wb") as handle:
            recorder = _RecordingFile(handle)
            write(cast(BinaryIO, recorder))  # duck-typed: the writers only write to it
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, StorageError):
            raise
        raise storage_error(error, path) from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        # torch's serializer turns the OSError of a full disk into "RuntimeError: [enforce
        # fail at inline_container.cc] unexpected pos"; the recorder kept the real cause
        if recorder is not None and recorder.error is not None:
            raise storage_error(recorder.error, path) from recorder.error
        raise
    _remove_stale_temp_files(path)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """``atomic_write`` for a string, as UTF-8 (line ends written as given)."""
    data = text.encode("utf-8")
    return atomic_write(path, lambda handle: handle.write(data))


class _RecordingFile:
    """The temp file as the writer sees it: remembers the ``OSError`` a write raised, even when
    the writer (torch, Pillow, zipfile) swallows it into an exception of its own."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.error: OSError | None = None

    def write(self, data) -> int:
        try:
            return self._handle.write(data)
        except OSError as error:
            self.error = error
            raise

    def __getattr__(self, name: str):
        return getattr(self._handle, name)


def _existing_folder(folder: Path) -> Path:
    """The nearest folder of ``folder``'s ancestry that exists: the one whose disk or rights
    decide whether it can be created."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return candidate
    return folder


def _remove_stale_temp_files(path: Path) -> None:
    """A process killed mid-save leaves its temp file behind; a later save clears it. A temp
    file whose writer is still running (this process's other threads, or another process)
    may be in use, so only those of dead processes go."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        pid = stale.name[len(path.name) + 2:].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            stale.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else (or the platform cannot tell)
        return True
    return True
