"""The Train tab's work on the worker thread: the engine's training records, plus what the
GUI thread needs from them without touching files: a frozen snapshot of the weights after each
epoch, the final checkpoint loaded, or the in-memory model when its checkpoint could not be
written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genai_engine.checkpoints import Checkpoint, load_checkpoint
from genai_engine.data import Dataset
from genai_engine.errors import CheckpointNotSaved
from genai_engine.families.base import Snapshot
from genai_engine.training import EpochRecord, TrainingDone, train


@dataclass
class EpochSnapshot:
    """A frozen copy of the weights after an epoch, made on the worker thread."""

    epoch: int
    model: Snapshot
    latent_importance: np.ndarray | None


@dataclass
class RunSaved:
    """The run's final checkpoint, loaded on the worker thread."""

    checkpoint: Checkpoint


@dataclass
class RunNotSaved:
    """The run stopped because its checkpoint could not be written: the trained model, in
    memory (no path), for File ▸ Save Checkpoint As…"""

    checkpoint: Checkpoint


def training_work(dataset: Dataset, family: str, model_config, train_config, run_dir: Path,
                  resume: Checkpoint | None):
    """``work(control)`` for the task runner: the engine's records plus weight snapshots."""

    def work(control):
        last_path = None
        records = train(dataset, model_config, train_config, family=family, out_dir=run_dir,
                        resume=resume, control=control)
        for record in _keeping_unsaved(records):
            yield record
            if isinstance(record, EpochRecord) and record.checkpoint:
                snapshot = load_checkpoint(record.checkpoint)
                yield EpochSnapshot(record.epoch, snapshot.snapshot(),
                                    record.diagnostics.get("latent_importance"))
            if isinstance(record, TrainingDone):
                last_path = record.checkpoint
        if last_path:
            yield RunSaved(load_checkpoint(last_path))

    return work


def _keeping_unsaved(records):
    """The trainer's records; when a checkpoint cannot be written, its in-memory model as a
    ``RunNotSaved`` before the error itself."""
    try:
        yield from records
    except CheckpointNotSaved as error:
        yield RunNotSaved(error.checkpoint)
        raise
