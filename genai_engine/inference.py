"""Encode, decode and sample with a frozen copy of a trained VAE.

``VAEInference`` holds its own copy of the weights (a snapshot), so the app can decode while a
training run keeps changing the live model. All calls take and return numpy arrays and run
under ``torch.inference_mode()``.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from genai_engine.checkpoints import Checkpoint
from genai_engine.devices import resolve_device
from genai_engine.losses import decoded_mean, reconstruction_nll
from genai_engine.models import VAE
from genai_engine.training import images_to_tensor, to_uint8_images, to_unit


class VAEInference:
    def __init__(self, model: VAE, device: str = "cpu", class_names: list[str] | None = None) -> None:
        self.device = resolve_device(device)
        self.model = copy.deepcopy(model).to(self.device).eval()
        self.config = model.config
        self.class_names = list(class_names or [])

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, device: str = "cpu") -> VAEInference:
        return cls(checkpoint.model, device, checkpoint.dataset.get("class_names"))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def conditional(self) -> bool:
        return self.config.num_classes > 0

    def _labels(self, labels, n: int) -> torch.Tensor | None:
        if not self.conditional:
            return None
        labels = np.zeros(n, np.int64) if labels is None else np.broadcast_to(np.asarray(labels), (n,))
        return torch.as_tensor(np.array(labels, dtype=np.int64), device=self.device)

    @torch.inference_mode()
    def decode(self, z: np.ndarray, labels=None) -> np.ndarray:
        """(D,) or (N, D) latent -> uint8 image (H, W, C) or images (N, H, W, C)."""
        z = np.asarray(z, dtype=np.float32)
        single = z.ndim == 1
        zt = torch.from_numpy(np.atleast_2d(z).copy()).to(self.device)
        images = to_uint8_images(decoded_mean(self.model.decode(zt, self._labels(labels, len(zt)))))
        return images[0] if single else images

    @torch.inference_mode()
    def encode(self, images: np.ndarray, labels=None, batch_size: int = 1000):
        """uint8 (N, H, W, C) -> posterior means and log-variances, float32 (N, D) each."""
        mus, logvars = [], []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            x = to_unit(images_to_tensor(chunk, self.device))
            y = None if labels is None else self._labels(labels[start:start + batch_size], len(chunk))
            mu, logvar = self.model.encode(x, y)
            mus.append(mu.float().cpu().numpy())
            logvars.append(logvar.float().cpu().numpy())
        d = self.latent_dim
        return (np.concatenate(mus) if mus else np.zeros((0, d), np.float32),
                np.concatenate(logvars) if logvars else np.zeros((0, d), np.float32))

    def reconstruct(self, images: np.ndarray, labels=None) -> np.ndarray:
        mu, _ = self.encode(images, labels)
        return self.decode(mu, labels)

    def sample(self, n: int, seed: int = 0, labels=None, batch_size: int = 1000) -> np.ndarray:
        """n images decoded from z ~ N(0, I), repeatable for a seed."""
        z = prior_samples(n, self.latent_dim, seed)
        labels = None if labels is None else np.broadcast_to(np.asarray(labels), (n,))
        parts = [self.decode(z[s:s + batch_size], None if labels is None else labels[s:s + batch_size])
                 for s in range(0, n, batch_size)]
        return np.concatenate(parts)

    @torch.inference_mode()
    def reconstruction_error(self, images: np.ndarray, labels=None, batch_size: int = 1000) -> np.ndarray:
        """Per-image reconstruction NLL (nats) through the posterior mean: an anomaly score."""
        scores = []
        for start in range(0, len(images), batch_size):
            x = to_unit(images_to_tensor(images[start:start + batch_size], self.device))
            y = None if labels is None else self._labels(labels[start:start + batch_size], len(x))
            mu, _ = self.model.encode(x, y)
            logits = self.model.decode(mu, y)
            log_sigma = getattr(self.model, "log_sigma", None)
            nll = reconstruction_nll(logits, x, self.config.likelihood, log_sigma)
            scores.append(nll.double().cpu().numpy())
        return np.concatenate(scores) if scores else np.zeros(0)


def prior_samples(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def decode_each_class(decoder, z: np.ndarray, num_classes: int) -> np.ndarray:
    """One latent "style" ``z`` (D,) decoded as every class of a conditional model, in one
    batch: uint8 (K, H, W, C), tile k = ``decoder.decode(z, [k])``. ``decoder`` is anything
    with ``VAEInference.decode``'s signature (e.g. one epoch of a training timeline)."""
    z = np.asarray(z, np.float32).reshape(1, -1)
    return decoder.decode(np.repeat(z, num_classes, 0), np.arange(num_classes, dtype=np.int64))
