"""The family contract: what every generative model offers, and what some can do besides.

Two levels, both written as code:

* A **family** (``Family``) is what the generic trainer, the checkpoint reader and the CLI
  talk to: its config type, how to build the network, its training step (one or several
  optimizers, an EMA, ...), how it is measured on the test split after each epoch, and which
  weights make an epoch's timeline snapshot.
* A **snapshot** is a frozen copy of a trained model with numpy in and out, safe to use while
  training goes on; this is what the app and the metrics use. Every snapshot is a
  ``GenerativeModel``; the optional capabilities below are discovered with ``isinstance``,
  never guessed from the family name.

The registry (``genai_engine.families``) finds every sub-package of ``families/`` that
defines ``FAMILY``: adding a family is adding a folder.
"""

from __future__ import annotations

import argparse
import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from genai_engine.devices import resolve_device
from genai_engine.distributed import DistContext
from genai_engine.errors import GenAIError
from genai_engine.tensors import labels_tensor, to_uint8_images

# --------------------------------------------------------------------------- capabilities


@runtime_checkable
class GenerativeModel(Protocol):
    """Every family: seeded samples as uint8 (N, H, W, C), optionally per class."""

    family: str
    config: Any
    class_names: list[str]

    @property
    def conditional(self) -> bool: ...

    def sample(self, n: int, seed: int = 0, labels=None, batch_size: int = 1000) -> np.ndarray: ...


@runtime_checkable
class LatentDecoder(Protocol):
    """A latent space that decodes: z (D,) or (N, D) float32 -> uint8 image(s)."""

    latent_dim: int

    def decode(self, z: np.ndarray, labels=None) -> np.ndarray: ...


@runtime_checkable
class Encoder(Protocol):
    """An amortised encoder: images -> (mean, log-variance) of their latent codes, (N, D) each."""

    def encode(self, images: np.ndarray, labels=None, batch_size: int = 1000): ...


@runtime_checkable
class DensityModel(Protocol):
    """A likelihood: ``nll`` per image in nats, exact or an upper bound (``likelihood_kind``)."""

    likelihood_kind: str  # "bound" or "exact"

    def nll(self, images: np.ndarray, labels=None, batch_size: int = 1000) -> np.ndarray: ...


@runtime_checkable
class Invertible(Protocol):
    """No encoder, but a latent can be fitted to an image by optimisation (a GAN)."""

    def invert(self, images: np.ndarray, labels=None, *, steps: int, control=None) -> Iterator: ...


@runtime_checkable
class StepwiseDenoiser(Protocol):
    """A step-by-step sampler (diffusion): every step of one reverse process, frame by frame."""

    def denoising_film(self, z=None, labels=None, steps: int | None = None, seed: int = 0): ...


@runtime_checkable
class StepwiseSampler(Protocol):
    """Draws an image one value of ``levels`` at a time (autoregressive): per step, the predicted
    distribution before and after the sampling knobs, the value drawn and the image so far."""

    levels: int

    def generation_steps(self, seed: int = 0, label: int | None = None, prompt=None, rows_given: int = 0,
                         temperature=None, top_k=None, top_p=None) -> Iterator: ...


@runtime_checkable
class Completer(Protocol):
    """Completes images from their top rows (an image model's prompt): uint8 (N, n, H, W, C)."""

    def complete(self, images: np.ndarray, rows_given: int, n_completions: int = 1, seed: int = 0,
                 labels=None, **knobs) -> np.ndarray: ...


@runtime_checkable
class TextGenerator(Protocol):
    """Writes text one character at a time (a character model): the next character's distribution
    before and after the sampling knobs, streamed generation, and exact bits per character. It
    is not a ``GenerativeModel``: it draws no images."""

    vocabulary: str  # the characters it knows, in id order
    context: int  # the window it was trained on, in characters

    def next_distribution(self, prompt: str, temperature: float = 1.0, top_k: int = 0,
                          top_p: float = 1.0) -> tuple[list[str], np.ndarray, np.ndarray]: ...

    def generate(self, prompt: str, length: int, temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0, use_cache: bool = True) -> Iterator[str]: ...

    def bits_per_char(self, text: str) -> float: ...


def capabilities(model) -> dict[str, bool]:
    """What a snapshot can do, by name (for messages and reports)."""
    return {"latent": isinstance(model, LatentDecoder), "encoder": isinstance(model, Encoder),
            "likelihood": isinstance(model, DensityModel), "inversion": isinstance(model, Invertible),
            "text": isinstance(model, TextGenerator),
            "conditional": bool(getattr(model, "conditional", False))}


def bits_per_dim(nll_nats: np.ndarray | float, image_shape) -> np.ndarray | float:
    """Nats per image -> bits per pixel-channel, the unit likelihoods are compared in."""
    return np.asarray(nll_nats) / (math.prod(image_shape) * math.log(2))


# --------------------------------------------------------------------------- snapshots


def prior_samples(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


class Snapshot:
    """A private copy of a model on a device, numpy in and out, under inference mode."""

    family: ClassVar[str]
    # The family's network and config dataclass: a subclass names their types (``model: VAE``),
    # since torch types an undeclared attribute of a module as ``Tensor | Module``.
    model: Any
    config: Any

    def __init__(self, model: nn.Module, device: str = "cpu", class_names: list[str] | None = None) -> None:
        self.device = resolve_device(device)
        self.model = copy.deepcopy(model).to(self.device).eval()
        self.config = model.config
        self.class_names = list(class_names or [])

    @classmethod
    def from_checkpoint(cls, checkpoint, device: str = "cpu"):
        return cls(checkpoint.model, device, checkpoint.dataset.get("class_names"))

    @property
    def conditional(self) -> bool:
        return self.config.num_classes > 0

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def _labels(self, labels, n: int) -> torch.Tensor | None:
        return labels_tensor(labels, n, self.config.num_classes, self.device)

    def sampling_fields(self):
        """The current sampling settings as a dataclass whose fields carry form metadata (label,
        help, choices or min/max, as a family config's do), or None for a family without any.
        Change them only with ``configure_sampling(**dataclasses.asdict(settings))``."""
        return None

    def configure_sampling(self, **settings) -> None:
        """Sampling settings (a diffusion model's sampler, steps, eta, guidance), for families
        that have them; a family without any refuses every one."""
        if settings:
            raise GenAIError(f"a {self.family} model has no sampling settings such as "
                             f"{sorted(settings)[0]!r}; leave them out")


class LatentSnapshot(Snapshot):
    """A snapshot of a model that decodes a standard-normal latent (``model.decode_images``).

    Samples are ``decode(prior_samples(n, D, seed))``, so a seed names the same latents in
    every family, every tab and every metric."""

    # What a latent vector is, for the views: "code" (a learned code, a few meaningful
    # dimensions) or "noise" (a starting noise image, one value per pixel, that a deterministic
    # sampler decodes: a diffusion model), where per-dimension sliders would mean little.
    latent_kind: ClassVar[str] = "code"

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

    @torch.inference_mode()
    def decode(self, z: np.ndarray, labels=None) -> np.ndarray:
        """(D,) or (N, D) latent -> uint8 image (H, W, C) or images (N, H, W, C)."""
        z = np.asarray(z, dtype=np.float32)
        single = z.ndim == 1
        zt = torch.from_numpy(np.atleast_2d(z).copy()).to(self.device)
        images = to_uint8_images(self.model.decode_images(zt, self._labels(labels, len(zt))))
        return images[0] if single else images

    def sample(self, n: int, seed: int = 0, labels=None, batch_size: int = 1000) -> np.ndarray:
        """n images decoded from z ~ N(0, I), repeatable for a seed."""
        z = prior_samples(n, self.latent_dim, seed)
        labels = None if labels is None else np.broadcast_to(np.asarray(labels), (n,))
        parts = [self.decode(z[s:s + batch_size], None if labels is None else labels[s:s + batch_size])
                 for s in range(0, n, batch_size)]
        return np.concatenate(parts)


def decode_each_class(decoder, z: np.ndarray, num_classes: int) -> np.ndarray:
    """One latent "style" ``z`` (D,) decoded as every class of a conditional model, in one
    batch: uint8 (K, H, W, C), tile k = ``decoder.decode(z, [k])``. ``decoder`` is anything
    with ``LatentSnapshot.decode``'s signature (e.g. one epoch of a training timeline)."""
    z = np.asarray(z, np.float32).reshape(1, -1)
    return decoder.decode(np.repeat(z, num_classes, 0), np.arange(num_classes, dtype=np.int64))


# --------------------------------------------------------------------------- configs


class FamilyConfig:
    """What every family's config dataclass shares: plain-data round trips for checkpoints.

    ``to_dict`` gives lists for tuples (a checkpoint holds only plain containers);
    ``from_dict`` ignores keys it does not know, so a checkpoint written by a version with an
    extra field still opens. Field ``metadata`` (label, help, choices, min, max, hidden) is
    what the Train form is built from."""

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict):
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


# --------------------------------------------------------------------------- training


@dataclass
class Batch:
    x: torch.Tensor  # float (B, C, H, W) in [0, 1]
    y: torch.Tensor | None  # class labels of a conditional model


class TrainingStep(ABC):
    """One optimisation step of a family, with its optimizers and any extra state (EMA...).

    ``__call__`` trains on one batch and returns the batch's metrics as 0-d tensors, by name
    (per image, not yet synchronised: the trainer averages them). ``optimizers`` get the
    learning-rate schedule from the trainer; ``state_dict`` makes a resume exact."""

    optimizers: list[torch.optim.Optimizer]

    @abstractmethod
    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]: ...

    def health(self, metrics: dict[str, float]) -> str | None:
        """A reason to stop (beyond a non-finite metric, which always stops), or None."""
        return None

    def state_dict(self) -> dict:
        return {"optimizers": [opt.state_dict() for opt in self.optimizers]}

    def load_state_dict(self, state: dict) -> None:
        for opt, opt_state in zip(self.optimizers, state["optimizers"], strict=True):
            opt.load_state_dict(opt_state)


def adam(params, lr: float, device: torch.device, betas=(0.9, 0.999)) -> torch.optim.Adam:
    # The fused kernel updates all parameters in one call: ~2x fewer optimizer cycles for
    # small models, where per-tensor overhead dominates.
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=device.type in ("cpu", "cuda"))


def distributed(module: nn.Module, device: torch.device, dist: DistContext) -> nn.Module:
    """``module`` wrapped for torchrun (gradients averaged over ranks), or itself."""
    if not dist.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


@dataclass
class EpochMeasure:
    """What a family measures after each epoch: ``metrics`` by name (``loss`` is the headline
    test number where the family has one) and ``diagnostics`` arrays for its own views."""

    metrics: dict[str, float]
    diagnostics: dict[str, np.ndarray]


class Family(ABC):
    """A model family: registered by defining ``FAMILY = MyFamily()`` in its package."""

    name: ClassVar[str]  # the --family value and the checkpoint's "family"
    title: ClassVar[str]  # for people: "Variational autoencoder"
    config_type: ClassVar[type[FamilyConfig]]  # a dataclass with image_shape, num_classes, to_dict, from_dict
    snapshot_type: ClassVar[type[Snapshot]]
    # Training settings where this family's defaults differ from TrainConfig's (lr, epochs...).
    train_defaults: ClassVar[dict[str, Any]] = {}
    # The headline metric of an epoch record, and how to print the others on the CLI.
    headline: ClassVar[str] = "loss"
    loss_unit: ClassVar[str] = ""
    # What ``preview`` draws: "samples" (from fixed noise), "reconstructions" (test images, then
    # their reconstructions) or "predictions" (test images, then each pixel as predicted).
    preview_kind: ClassVar[str] = "samples"
    # What to try when training diverges (a non-finite metric, or ``TrainingStep.health``).
    divergence_hint: ClassVar[str] = "Try a smaller learning rate."

    @abstractmethod
    def build(self, config) -> nn.Module:
        """A fresh network for ``config`` (with ``.config`` set)."""

    @abstractmethod
    def training_step(self, model: nn.Module, train_config, device: torch.device,
                      dist: DistContext) -> TrainingStep: ...

    @abstractmethod
    def measure(self, model: nn.Module, test_x: torch.Tensor, test_y: torch.Tensor | None,
                dist: DistContext) -> EpochMeasure:
        """The model on the test split (uint8 tensors) after an epoch."""

    def preview(self, model: nn.Module, x_u8: torch.Tensor, y: torch.Tensor | None) -> np.ndarray:
        """uint8 (N, H, W, C) the Train tab shows while training (inputs and outputs, or samples)."""
        return np.zeros((0, *x_u8.shape[2:], x_u8.shape[1]), np.uint8)

    def default_config(self, dataset) -> Any:
        return self.config_type(image_shape=dataset.image_shape)

    def train_defaults_for(self, dataset) -> dict[str, Any]:
        """``train_defaults`` for ``dataset``: a family that also trains on text may differ there."""
        return dict(self.train_defaults)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The family's own ``genai-lab train`` options. Families share one parser that lets a
        later option of the same name replace an earlier one, so shared options (--latent-dim)
        default to None and each family fills in its own default."""
        return None

    def config_from_args(self, args: argparse.Namespace, dataset) -> Any:
        return self.default_config(dataset)

    def summary_fields(self, config) -> dict[str, Any]:
        """Extra keys of the ``train --json`` summary that describe the model (e.g. ``levels``)."""
        return {}

    def describe(self, config) -> str:
        """A short line for people: "MLP VAE, latent 20"."""
        return self.title

    def snapshot(self, model: nn.Module, device: str = "cpu", class_names=None) -> Snapshot:
        return self.snapshot_type(model, device, class_names)
