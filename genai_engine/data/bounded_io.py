"""Reading exact byte counts from plain or gzip files, in chunks, with one clear error on failure.

``read_exact`` never asks a stream for more than ``CHUNK_BYTES`` at once: many streams
(``GzipFile``, zip members) allocate the requested size up front, and the size comes from a
header we do not trust yet. Memory therefore grows only with data that really exists.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from genai_engine.data.limits import CHUNK_BYTES, MAX_DEFLATE_RATIO, format_bytes
from genai_engine.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
_INPUT_BYTES = 2**20  # compressed bytes handed to zlib at a time

# What zlib/gzip/zipfile raise on damaged data; turned into DataError at the read site.
STREAM_ERRORS = (OSError, EOFError, zlib.error, ValueError)


def file_size(path: Path) -> int:
    """The size of an existing regular file, or a DataError saying why it cannot be read."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not path.is_file():
        raise DataError(f"{path}: is not a regular file")
    if stat.st_size == 0:
        raise DataError(f"{path}: is empty (0 bytes)")
    return stat.st_size


class Gunzip:
    """Streaming gunzip with bounded output per ``read``, several members allowed.

    Faster than ``gzip.GzipFile`` (which feeds zlib 8 KiB at a time) and never allocates more
    than the requested output. zlib itself verifies each member's CRC and length.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(wbits=31)  # 31: expect the gzip wrapper
        self._input = b""
        self._raw_done = False

    def _more_input(self) -> bytes:
        data = b"" if self._raw_done else self._raw.read(_INPUT_BYTES)
        self._raw_done = not data
        return data

    def read(self, size: int) -> bytes:
        parts = []
        while size > 0:
            if self._inflate.eof:  # a member ended: stop, or start the next one
                rest = self._inflate.unused_data or self._more_input()
                if not rest:
                    break
                self._inflate = zlib.decompressobj(wbits=31)
                self._input = rest
            if not self._input:
                self._input = self._more_input()
            # Even with no new input zlib may still hold output it could not return last time.
            chunk = self._inflate.decompress(self._input, size)
            self._input = b"" if self._inflate.eof else self._inflate.unconsumed_tail
            if not chunk and not self._input and self._raw_done and not self._inflate.eof:
                raise EOFError("the compressed data ends before its end-of-stream marker")
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)


class DataStream:
    """A byte stream read in bounded chunks: a file (gunzipped on the fly when its first bytes
    are the gzip magic) or an archive member. ``size`` is the stream's size when it is known
    exactly (plain files, zip members), else the compressed size."""

    def __init__(self, where: str, raw: BinaryIO, compressed: bool, size: int) -> None:
        self.where = where  # the file (or archive member) named in error messages
        self.compressed = compressed
        self.size = size  # bytes on disk
        self._raw = raw
        self._stream = Gunzip(raw) if compressed else raw

    def check_claim(self, offset: int, claimed: int, what: str) -> None:
        """Reject a payload claim the file cannot hold, before reading or allocating for it."""
        if self.compressed:
            if claimed > self.size * MAX_DEFLATE_RATIO:
                raise DataError(
                    f"{self.where}: the header claims {what} of {format_bytes(claimed)}, which a "
                    f"{format_bytes(self.size)} gzip file cannot hold: the header is corrupt"
                )
            return
        available = self.size - offset
        if claimed > available:
            raise DataError(
                f"{self.where}: truncated: the header claims {what} of {format_bytes(claimed)} "
                f"but the file holds only {format_bytes(available)} after the header"
            )
        if claimed < available:
            raise DataError(
                f"{self.where}: {available - claimed} unexpected bytes after {what}: the file is "
                "corrupt or its header is wrong"
            )

    def read_exact(self, count: int, what: str) -> bytearray:
        """Exactly ``count`` bytes; memory grows only with the bytes actually delivered."""
        buffer = bytearray()
        try:
            while len(buffer) < count:
                chunk = self._stream.read(min(CHUNK_BYTES, count - len(buffer)))
                if not chunk:
                    break
                buffer += chunk
        except STREAM_ERRORS as error:
            raise self._corrupt(error) from None
        if len(buffer) < count:
            raise DataError(
                f"{self.where}: truncated: {what} needs {format_bytes(count)} but the data ends "
                f"after {format_bytes(len(buffer))}"
            )
        return buffer

    def expect_end(self, what: str) -> None:
        """Fail on trailing data; for gzip this also makes the stream verify its CRC."""
        try:
            extra = self._stream.read(1)
        except STREAM_ERRORS as error:
            raise self._corrupt(error) from None
        if extra:
            raise DataError(
                f"{self.where}: unexpected data after {what}: the file is corrupt or its header "
                "is wrong"
            )

    def _corrupt(self, error: BaseException) -> DataError:
        kind = "gzip data" if self.compressed else "file"
        detail = str(error) or type(error).__name__
        return DataError(f"{self.where}: corrupt or truncated {kind} ({detail})")


@contextmanager
def open_data(path: Path) -> Iterator[DataStream]:
    """Open ``path`` for bounded reading; sniffs gzip by content, not by name."""
    size = file_size(path)
    try:
        raw = open(path, "rb")  # closed in the finally below
    except OSError as error:
        raise DataError(f"{path}: cannot be opened ({error.strerror or error})") from None
    try:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0, os.SEEK_SET)
        if path.name.lower().endswith(".gz") and not compressed:
            raise DataError(f"{path}: is named .gz but is not gzip-compressed")
        yield DataStream(str(path), raw, compressed, size)
    finally:
        raw.close()
