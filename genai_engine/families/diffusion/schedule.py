"""The forward noising process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t = 0 .. T-1.

``alphas_cumprod`` is abar_t for a cosine (Nichol & Dhariwal) or linear (Ho et al.) schedule;
``split_prediction`` turns the network's output (eps or v) into the pair (eps, x0) every
sampler works with. Images live in [-1, 1] inside the diffusion process.
"""

from __future__ import annotations

import math

import torch


def alphas_cumprod(timesteps: int, schedule: str) -> torch.Tensor:
    """abar_t for t = 0 .. T-1, float64."""
    if schedule == "cosine":
        s = 0.008  # keeps beta_0 from being vanishingly small
        steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
        f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)  # the clip keeps the last step finite
    else:
        scale = 1000 / timesteps  # the DDPM range (1e-4 .. 0.02 at T = 1000) for any T
        betas = torch.linspace(scale * 1e-4, min(scale * 0.02, 0.999), timesteps, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0)


def add_noise(x0: torch.Tensor, noise: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """x_t for per-image abar (B,)."""
    abar = abar.view(-1, 1, 1, 1)
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


def velocity(x0: torch.Tensor, noise: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """v = sqrt(abar) eps - sqrt(1 - abar) x0 (Salimans & Ho), the v-prediction target."""
    abar = abar.view(-1, 1, 1, 1)
    return abar.sqrt() * noise - (1 - abar).sqrt() * x0


def root(value: float | torch.Tensor) -> float | torch.Tensor:
    """Square root of a float (one noise level for the batch) or a tensor (one per image)."""
    return value.sqrt() if isinstance(value, torch.Tensor) else math.sqrt(value)


def split_prediction(output: torch.Tensor, x_t: torch.Tensor, abar: float | torch.Tensor, prediction: str):
    """The network's output at one noise level (or per image, abar (B, 1, 1, 1)) -> (eps, x0)."""
    a, s = root(abar), root(1 - abar)
    if prediction == "v":
        return s * x_t + a * output, a * x_t - s * output
    return output, (x_t - s * output) / a
