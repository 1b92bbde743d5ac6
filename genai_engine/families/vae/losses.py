"""The negative ELBO in nats per image: reconstruction summed over pixels, plus beta * KL."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor, likelihood: str, log_sigma=None):
    """Per-image negative log-likelihood (B,), summed over pixels.

    Bernoulli: BCE against pixel values in [0, 1] (the classic VAE objective).
    Gaussian: mean = sigmoid(logits), learned per-pixel sigma.
    """
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        mean = torch.sigmoid(logits)
        nll = HALF_LOG_2PI + log_sigma + 0.5 * ((x - mean) * torch.exp(-log_sigma)) ** 2
    return nll.flatten(1).sum(1)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per latent dimension, (B, D)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def negative_elbo(logits, x, mu, logvar, likelihood="bernoulli", log_sigma=None, beta=1.0):
    """Return (objective, recon, kl) as batch sums; the objective weights KL by beta.

    Reported losses use beta = 1 so they are true negative ELBOs whatever beta trains with.
    """
    recon = reconstruction_nll(logits, x, likelihood, log_sigma).sum()
    kl = kl_per_dim(mu, logvar).sum()
    return recon + beta * kl, recon, kl


def decoded_mean(logits: torch.Tensor) -> torch.Tensor:
    """The image a decoder 'shows': the likelihood's mean, in [0, 1]."""
    return torch.sigmoid(logits)
