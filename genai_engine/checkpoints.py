"""Checkpoints: weights, optimizer state, configs, history and the dataset fingerprint.

Saved atomically (temp file, fsync, rename) so a crash mid-save leaves the previous file intact.
Loaded with ``torch.load(weights_only=True)``: only tensors and plain containers are accepted,
so a checkpoint can never run code.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from genai_engine.errors import CheckpointError
from genai_engine.models import VAE, ModelConfig, build_model

FORMAT = "genai-lab-vae"
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    path: Path | None
    model: VAE  # on the CPU, eval mode
    model_config: ModelConfig
    train_config: dict
    epoch: int
    history: dict[str, list[float]]
    dataset: dict  # name, fingerprint, image_shape, class_names, source
    raw: dict = field(repr=False, default_factory=dict)  # optimizer/RNG state for resuming

    @property
    def timeline(self) -> list[dict]:
        """Per-epoch decoder snapshots: [{'epoch': int, 'decoder': state_dict (float16)}]."""
        return self.raw.get("timeline", [])


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Write a file via ``write(handle)`` into a temp file, fsync, then rename over ``path``.

    A crash at any moment leaves either the old file or the new one, never a torn one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # A process killed mid-save leaves its temp file behind; the next good save clears them.
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def atomic_torch_save(payload: dict, path: str | os.PathLike) -> Path:
    return atomic_write(path, lambda handle: torch.save(payload, handle))


def save_checkpoint(path, model: VAE, *, train_config: dict, epoch: int, history: dict,
                    dataset: dict, optimizer_state: dict | None = None, extra: dict | None = None) -> Path:
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "train_config": dict(train_config),
        "epoch": int(epoch),
        "history": {k: [float(v) for v in vs] for k, vs in history.items()},
        "dataset": dict(dataset),
        "optimizer_state": optimizer_state,
        **(extra or {}),
    }
    return atomic_torch_save(payload, path)


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the file is empty")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling refused, truncated zip, not a torch file at all
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "weights_only" in reason or "Unsupported global" in reason:
            reason = "it holds Python objects that could run code, so it was refused"
        raise CheckpointError(f"{path}: not a readable GenAI Lab checkpoint ({reason[:200]})") from None
    return checkpoint_from_dict(raw, path)


def checkpoint_from_dict(raw, path: Path | None = None) -> Checkpoint:
    where = str(path) if path else "checkpoint"
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f"{where}: not a GenAI Lab VAE checkpoint")
    if int(raw.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{where}: written by a newer GenAI Lab; update the app to open it")
    try:
        config = ModelConfig.from_dict(raw["model_config"])
        model = build_model(config)
        model.load_state_dict(raw["model_state"], strict=True)
    except CheckpointError:
        raise
    except Exception as error:
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{where}: weights do not fit the model it describes ({first})") from None
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{where}: weight {name!r} holds NaN or infinite values")
    model.eval()
    return Checkpoint(
        path=path,
        model=model,
        model_config=config,
        train_config=dict(raw.get("train_config") or {}),
        epoch=int(raw.get("epoch", 0)),
        history={k: list(v) for k, v in (raw.get("history") or {}).items()},
        dataset=dict(raw.get("dataset") or {}),
        raw=raw,
    )
