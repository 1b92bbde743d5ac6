"""Checkpoints: family, weights, trainer state, configs, history and the dataset fingerprint.

Format 2 (``genai-lab``) names the model family; format 1 (``genai-lab-vae``, every checkpoint
written before families existed, the shipped demo model among them) is read as a VAE.

Saved atomically (temp file, fsync, rename) so a crash mid-save leaves the previous file intact.
Loaded with ``torch.load(weights_only=True)``: only tensors and plain containers are accepted,
so a checkpoint can never run code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genai_engine.errors import CheckpointError, GenAIError
from genai_engine.families import get_family
from genai_engine.files import atomic_write

FORMAT = "genai-lab"
FORMAT_VERSION = 2
FORMAT_1 = "genai-lab-vae"  # before families: always a VAE, optimizer state under its own key


@dataclass
class Checkpoint:
    path: Path | None
    family: str
    model: torch.nn.Module  # the family's network, on the CPU, eval mode
    model_config: object  # the family's config dataclass
    train_config: dict
    epoch: int
    history: dict[str, list[float]]
    dataset: dict  # name, fingerprint, image_shape, class_names, source
    raw: dict = field(repr=False, default_factory=dict)  # optimizer/RNG state for resuming
    # sampling settings (sampler, steps, ...) every snapshot of it gets: Snapshot.configure_sampling
    sampling: dict = field(default_factory=dict)

    @property
    def timeline(self) -> list[dict]:
        """Per-epoch decoder snapshots: [{'epoch': int, 'decoder': state_dict (float16)}]."""
        return self.raw.get("timeline", [])

    @property
    def trainer_state(self) -> dict | None:
        """Optimizers (and any extra state of the family's training step), for resuming."""
        if self.raw.get("format") == FORMAT_1:
            state = self.raw.get("optimizer_state")
            return {"optimizers": [state]} if state else None
        return self.raw.get("trainer_state")

    @property
    def diagnostics(self) -> dict[str, np.ndarray]:
        """The family's last per-epoch diagnostics (``latent_importance``, ...), as arrays."""
        if self.raw.get("format") == FORMAT_1:
            kl = self.raw.get("kl_per_dim")
            return {} if kl is None else {"latent_importance": np.asarray(kl, np.float64)}
        return {k: np.asarray(v, np.float64) for k, v in (self.raw.get("diagnostics") or {}).items()}

    def snapshot(self, device: str = "cpu"):
        """A frozen numpy-in/numpy-out copy of the model (its family's ``Snapshot``)."""
        snapshot = get_family(self.family).snapshot(self.model, device, self.dataset.get("class_names"))
        snapshot.configure_sampling(**self.sampling)
        return snapshot


def atomic_torch_save(payload: dict, path: str | os.PathLike) -> Path:
    return atomic_write(path, lambda handle: torch.save(payload, handle))


def save_checkpoint(path, model, **fields) -> Path:
    """Write ``checkpoint_payload(model, **fields)`` to ``path`` atomically."""
    return atomic_torch_save(checkpoint_payload(model, **fields), path)


def checkpoint_payload(model, *, family: str, train_config: dict, epoch: int, history: dict,
                       dataset: dict, trainer_state: dict | None = None, extra: dict | None = None) -> dict:
    """What a checkpoint file holds (``checkpoint_from_dict`` reads it back without a file)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "family": family,
        "model_config": model.config.to_dict(),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "train_config": dict(train_config),
        "epoch": int(epoch),
        "history": {k: [float(v) for v in vs] for k, vs in history.items()},
        "dataset": dict(dataset),
        "trainer_state": trainer_state,
        **(extra or {}),
    }


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
    if not isinstance(raw, dict) or raw.get("format") not in (FORMAT, FORMAT_1):
        raise CheckpointError(f"{where}: not a GenAI Lab checkpoint")
    if int(raw.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{where}: written by a newer GenAI Lab; update the app to open it")
    family_name = "vae" if raw["format"] == FORMAT_1 else str(raw.get("family"))
    try:
        family = get_family(family_name)
    except GenAIError as error:
        raise CheckpointError(f"{where}: {error} (written by a newer GenAI Lab?)") from None
    try:
        config = family.config_type.from_dict(raw["model_config"])
        model = family.build(config)
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
        family=family.name,
        model=model,
        model_config=config,
        train_config=dict(raw.get("train_config") or {}),
        epoch=int(raw.get("epoch", 0)),
        history={k: list(v) for k, v in (raw.get("history") or {}).items()},
        dataset=dict(raw.get("dataset") or {}),
        raw=raw,
    )
