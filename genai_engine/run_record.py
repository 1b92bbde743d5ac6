"""A run's record beside its checkpoint, readable without the app (``jq``, pandas, a spreadsheet).

``run.json`` holds the full config (family, model and training config, dataset with its
fingerprint, seed), the versions and the device; it is written when training starts and again,
with ``summary``, when it ends. ``metrics.jsonl`` gets one JSON object per step and per epoch
record (plain numbers only), appended as training goes; a resumed run keeps appending.
``genai-lab train --config run.json`` reads the settings back.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path

from genai_engine import __version__
from genai_engine.errors import GenAIError, StorageError
from genai_engine.files import atomic_write_text, storage_error

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"


def new_run_dir(name: str, root: str | Path) -> Path:
    """A fresh ``root/YYYYmmdd-HHMMSS-<name>`` folder (``-2``, ``-3``... when taken), created."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:40] or "data"
    base = Path(root) / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    try:
        path.mkdir(parents=True)
    except OSError as error:
        raise storage_error(error, path, "create the folder") from error
    return path


def _number(value):
    value = float(value)
    return value if math.isfinite(value) else None


class RunRecord:
    """Writes ``run.json`` and ``metrics.jsonl`` into ``folder``; does nothing when it is None.

    The record never stops training: when a write fails (a full disk), it says so once and
    records no more, and the checkpoint save that follows stops the run keeping the model."""

    def __init__(self, folder: str | Path | None, *, family: str, model_config: dict, train_config: dict,
                 dataset: dict, device: str, resumed_from: str | None = None, start_epoch: int = 0) -> None:
        self.folder = None if folder is None else Path(folder)
        if self.folder is None:
            return
        import torch

        self.run = {
            "family": family,
            "model_config": model_config,
            "train_config": train_config,
            "dataset": dataset,
            "seed": train_config.get("seed"),
            "resumed_from": resumed_from,
            "start_epoch": start_epoch,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": {"genai_lab": __version__, "torch": torch.__version__,
                         "python": platform.python_version(), "platform": platform.platform()},
            "device": device,
        }
        self._write_run()
        if start_epoch == 0:  # a fresh run (or --overwrite) starts a fresh metrics file
            self._write(lambda folder: atomic_write_text(folder / METRICS_FILE, ""))

    def step(self, record):
        """Append a StepRecord to metrics.jsonl; returns it."""
        return self._note(record, {"kind": "step", "epoch": record.epoch, "step": record.step,
                                   "lr": record.lr, "images_per_s": record.images_per_s,
                                   "elapsed_s": record.elapsed_s,
                                   **{f"train_{k}": v for k, v in record.metrics.items()}})

    def epoch(self, record, partial: bool = False):
        """Append an EpochRecord to metrics.jsonl; returns it. A ``partial`` epoch (cancelled
        midway) is not in the checkpoint's history, and a resume trains it again in full."""
        return self._note(record, {"kind": "epoch", "epoch": record.epoch, "partial": partial,
                                   "elapsed_s": record.elapsed_s,
                                   "images_per_s": record.images_per_s,
                                   **{f"train_{k}": v for k, v in record.train.items()},
                                   **{f"test_{k}": v for k, v in record.test.items()}})

    def _note(self, record, row: dict):
        if self.folder is not None:
            exact = ("kind", "epoch", "step", "partial")
            line = json.dumps({k: v if k in exact else _number(v) for k, v in row.items()})
            self._write(lambda folder: _append(folder / METRICS_FILE, line))
        return record

    def finish(self, done) -> None:
        """Add the final summary (a TrainingDone) to run.json."""
        if self.folder is None:
            return
        self.run["summary"] = {
            "status": done.reason, "epochs": done.epochs, "train_loss": _number(done.train_loss),
            "test_loss": _number(done.test_loss), "images_per_s": _number(done.samples_per_s),
            "seconds": _number(done.seconds), "checkpoint": done.checkpoint,
            "last_epoch": {k: _number(v[-1]) for k, v in done.history.items() if v},
        }
        self._write_run()

    def _write_run(self) -> None:
        text = json.dumps(self.run, indent=2) + "\n"
        self._write(lambda folder: atomic_write_text(folder / RUN_FILE, text))

    def _write(self, write: Callable[[Path], object]) -> None:
        """``write(folder)``, unless there is no folder (or writing it failed before)."""
        if self.folder is None:
            return
        try:
            write(self.folder)
        except StorageError as error:
            log.warning("%s; the run record stops here", error)
            self.folder = None


def read_run(path: str | Path) -> dict:
    """A run's settings from a ``run.json`` or a ``.toml`` of the same shape (``family``,
    ``dataset``, ``[train_config]``, ``[model_config]``), or a GenAIError sentence."""
    import tomllib

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        run = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise GenAIError(f"{path}: no such settings file") from None
    except (OSError, ValueError) as error:  # tomllib's and json's decode errors are ValueErrors
        raise GenAIError(f"{path}: not a readable run record ({error})") from None
    if not isinstance(run, dict) or not {"family", "train_config", "model_config"} & set(run):
        raise GenAIError(f"{path}: not a run record: it needs family, train_config or model_config")
    return run


def _append(path: Path, line: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as error:
        raise storage_error(error, path) from error
