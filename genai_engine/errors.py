"""User-facing errors: each carries one sentence saying what is wrong and what to do.

The CLI prints ``str(error)`` on one stderr line and exits non-zero; the app shows it in a
message box. Anything that is *not* a ``GenAIError`` is a bug and keeps its traceback.
"""

from typing import Any


class GenAIError(Exception):
    """An error the user can act on."""


class DataError(GenAIError):
    """A dataset file or folder cannot be read."""


class CheckpointError(GenAIError):
    """A checkpoint cannot be read, or does not fit the model or dataset."""


class WeightsError(GenAIError):
    """A feature-network weight file is missing or is not the expected one."""


class TrainingDiverged(GenAIError):
    """The loss became NaN or infinite; the last good weights were kept."""


class StorageError(GenAIError, OSError):
    """A file or folder cannot be written (full disk, read-only place, quota). Also an
    ``OSError``, so code that tolerates a failed optional write (a cache) still does."""


class CheckpointNotSaved(StorageError):
    """Training stopped because its checkpoint could not be written. ``checkpoint`` (set by the
    trainer) is the trained model in memory, a ``Checkpoint`` without a path, to save elsewhere."""

    checkpoint: Any = None  # a Checkpoint (checkpoints.py imports this module)
