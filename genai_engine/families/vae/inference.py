"""``VAEInference``: a VAE snapshot that decodes, encodes and bounds the likelihood."""

from __future__ import annotations

import numpy as np
import torch

from genai_engine.families.base import LatentSnapshot
from genai_engine.families.vae.losses import kl_per_dim, reconstruction_nll
from genai_engine.families.vae.nets import VAE, ModelConfig
from genai_engine.tensors import images_to_tensor, to_unit


class VAEInference(LatentSnapshot):
    family = "vae"
    model: VAE
    config: ModelConfig
    likelihood_kind = "bound"  # the negative ELBO; analysis.likelihood tightens it with k samples

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

    @torch.inference_mode()
    def _per_image(self, images: np.ndarray, labels, batch_size: int, with_kl: bool) -> np.ndarray:
        scores = []
        for start in range(0, len(images), batch_size):
            x = to_unit(images_to_tensor(images[start:start + batch_size], self.device))
            y = None if labels is None else self._labels(labels[start:start + batch_size], len(x))
            mu, logvar = self.model.encode(x, y)
            nll = reconstruction_nll(self.model.decode(mu, y), x, self.config.likelihood,
                                     getattr(self.model, "log_sigma", None))
            if with_kl:
                nll = nll + kl_per_dim(mu, logvar).sum(1)
            scores.append(nll.double().cpu().numpy())
        return np.concatenate(scores) if scores else np.zeros(0)

    def reconstruction_error(self, images: np.ndarray, labels=None, batch_size: int = 1000) -> np.ndarray:
        """Per-image reconstruction NLL (nats) through the posterior mean: an anomaly score."""
        return self._per_image(images, labels, batch_size, with_kl=False)

    def nll(self, images: np.ndarray, labels=None, batch_size: int = 1000) -> np.ndarray:
        """Per-image negative ELBO in nats, decoded at the posterior mean instead of a sample:
        a deterministic estimate of the bound (``analysis.likelihood`` tightens it with IWAE)."""
        return self._per_image(images, labels, batch_size, with_kl=True)
