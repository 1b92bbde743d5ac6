"""Persistent app settings: a thin, typed wrapper over ``QSettings``.

The file location can be forced with ``GENAI_LAB_SETTINGS`` (an .ini path) or a ``path``
argument, so tests and the self-test never touch the user's real settings.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from genai_engine.errors import StorageError
from genai_engine.files import make_folder, storage_error

log = logging.getLogger(__name__)

ORGANIZATION = "GenAILab"
APPLICATION = "GenAI Lab"
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
RECENT_KINDS = ("datasets", "checkpoints")
RECENT_MAX = 8


class Settings:
    def __init__(self, path: str | os.PathLike | None = None) -> None:
        path = path or os.environ.get("GENAI_LAB_SETTINGS")
        if path:
            try:
                make_folder(Path(path).parent)
            except StorageError as error:  # the app still runs; its settings are not kept
                log.warning("%s", error)
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                       ORGANIZATION, APPLICATION)

    @property
    def path(self) -> str:
        return self.qsettings.fileName()

    # -- plain values -------------------------------------------------------------------------
    def get_str(self, key: str, default: str = "") -> str:
        value = self.qsettings.value(key, default)
        return default if value is None else str(value)

    def set_value(self, key: str, value) -> None:
        self.qsettings.setValue(key, value)

    def remove(self, key: str) -> None:
        self.qsettings.remove(key)

    def sync(self) -> str | None:
        """Write the settings (QSettings saves atomically); the sentence to show when the
        file could not be written, else None."""
        self.qsettings.sync()
        if self.qsettings.status() != QSettings.Status.AccessError:
            return None
        # Qt does not say why; a disk with (almost) no room left is the likely other cause
        folder = Path(self.path).parent
        full = folder.is_dir() and shutil.disk_usage(folder).free < 1 << 16
        cause = OSError(errno.ENOSPC if full else errno.EACCES, "settings not written")
        message = f"{storage_error(cause, self.path)} (the settings were not saved)"
        log.warning("%s", message)
        return message

    # -- the keys the app uses ----------------------------------------------------------------
    @property
    def device(self) -> str:
        device = self.get_str("device", "auto")
        return device if device in DEVICE_CHOICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self.set_value("device", value)

    @property
    def last_dataset(self) -> str:
        """A dataset spec: a builtin name (``fashion-mnist``) or a file/folder path."""
        return self.get_str("last_dataset", "")

    @last_dataset.setter
    def last_dataset(self, value: str) -> None:
        self.set_value("last_dataset", value)

    @property
    def last_checkpoint(self) -> str:
        return self.get_str("last_checkpoint", "")

    @last_checkpoint.setter
    def last_checkpoint(self, value: str) -> None:
        self.set_value("last_checkpoint", value)

    @property
    def geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.set_value("window/geometry", value)

    def splitter_state(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(f"splitters/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_splitter_state(self, key: str, value: QByteArray) -> None:
        self.set_value(f"splitters/{key}", value)

    # -- recent files ---------------------------------------------------------------------------
    def recent(self, kind: str) -> list[str]:
        """Recently opened ``datasets`` or ``checkpoints``, newest first."""
        value = self.qsettings.value(f"recent/{kind}")
        if isinstance(value, str):  # QSettings reads a one-item list back as a plain string
            value = [value]
        return [str(v) for v in value or [] if v][:RECENT_MAX]

    def set_recent(self, kind: str, specs: list[str]) -> None:
        if specs:
            self.set_value(f"recent/{kind}", list(specs[:RECENT_MAX]))
        else:
            self.remove(f"recent/{kind}")

    def add_recent(self, kind: str, spec: str) -> None:
        """Put ``spec`` first, once, keeping at most ``RECENT_MAX``."""
        self.set_recent(kind, [spec] + [s for s in self.recent(kind) if s != spec])

    @property
    def confirm_close(self) -> bool:
        """Ask before closing while a task runs (tests turn it off)."""
        value = self.get_str("confirm_close", "true").lower()
        return value not in ("false", "0", "no")

    @confirm_close.setter
    def confirm_close(self, value: bool) -> None:
        self.set_value("confirm_close", "true" if value else "false")

    def train_defaults(self) -> dict:
        """The Train tab's last-used settings: plain strings keyed by field name."""
        self.qsettings.beginGroup("train")
        try:
            return {key: str(self.qsettings.value(key)) for key in self.qsettings.childKeys()}
        finally:
            self.qsettings.endGroup()

    def set_train_defaults(self, values: dict) -> None:
        self.qsettings.beginGroup("train")
        try:
            for key, value in values.items():
                self.qsettings.setValue(key, str(value))
        finally:
            self.qsettings.endGroup()
