"""The state the tabs share: dataset, model, device and the task runner.

Tabs read from ``AppState`` and listen to its signals instead of talking to each other, so
each tab stays a thin view that can be built and tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop.task_runner import TaskRunner
from genai_engine.checkpoints import Checkpoint
from genai_engine.data import Dataset
from genai_engine.families.base import Snapshot


@dataclass(frozen=True)
class ModelIdentity:
    """What a model is called where results name it: a checkpoint (run folder and file) and its
    epoch, or weights that were never saved (a training epoch's)."""

    name: str
    epoch: int | None
    saved: bool = True

    def __str__(self) -> str:
        return f"{self.name}, epoch {self.epoch}" if self.epoch is not None else self.name


UNSAVED = ModelIdentity("current weights (not saved)", None, saved=False)


def checkpoint_name(checkpoint: Checkpoint) -> str:
    """'run-folder/checkpoint.pt' for a run's checkpoint, else the file name."""
    path = checkpoint.path
    if path is None:
        return "checkpoint"
    return f"{path.parent.name}/{path.name}" if path.name == "checkpoint.pt" else path.name


class AppState(QObject):
    dataset_changed = Signal(object)  # Dataset
    model_changed = Signal(object)  # Snapshot (a weight snapshot, safe to use while training)
    checkpoint_changed = Signal(object)  # Checkpoint, after a load or save
    status_message = Signal(str)  # short text for the status bar
    error = Signal(str, str)  # title, message: shown to the user in a dialog

    def __init__(self, runner: TaskRunner | None = None, device: str = "auto",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner or TaskRunner(parent=self)
        self.device = device
        self.dataset: Dataset | None = None
        self.checkpoint: Checkpoint | None = None
        self.model: Snapshot | None = None
        # The snapshot made from ``checkpoint``: while ``model is checkpoint_model`` the model is
        # the checkpoint's (its training timeline applies); a training epoch's model is not.
        self.checkpoint_model: Snapshot | None = None
        # The family's per-dimension importance (VAE: KL per dimension) from the latest
        # evaluation of the model: the order of the Explore sliders.
        self.latent_importance: np.ndarray | None = None

    def missing_model_or_data(self) -> str | None:
        """Why work that needs a model and a dataset cannot start yet (None: it can)."""
        if self.model is None:
            return "Open or train a model first."
        if self.dataset is None:
            return "Open a dataset first."
        return None

    def model_identity(self) -> ModelIdentity | None:
        """The open model's name: its checkpoint while it is the checkpoint's weights."""
        if self.model is None:
            return None
        if self.checkpoint is not None and self.model is self.checkpoint_model:
            return ModelIdentity(checkpoint_name(self.checkpoint), self.checkpoint.epoch)
        return UNSAVED

    def set_dataset(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.dataset_changed.emit(dataset)

    def set_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Adopt a loaded or freshly saved checkpoint as the current model."""
        self.checkpoint = checkpoint
        self.checkpoint_model = checkpoint.snapshot("cpu")
        self.set_model(self.checkpoint_model, checkpoint.diagnostics.get("latent_importance"))
        self.checkpoint_changed.emit(checkpoint)

    def set_model(self, model: Snapshot, latent_importance: np.ndarray | None = None) -> None:
        """A new weight snapshot (e.g. after a training epoch) for Explore and Interpolate."""
        self.model = model
        if latent_importance is not None:
            self.latent_importance = np.asarray(latent_importance, dtype=np.float64)
        self.model_changed.emit(model)
