"""The three GAN losses, per image (B,), from discriminator scores (logits, not probabilities).

    ns       D: -log s(r) - log(1 - s(f))    G: -log s(f)      (Goodfellow et al. 2014, section 3)
    hinge    D: relu(1 - r) + relu(1 + f)   G: -f             (Lim & Ye 2017; Miyato et al. 2018)
    wgan-gp  D: f - r + 10 (|grad D(x^)| - 1)^2   G: -f        (Gulrajani et al. 2017)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GP_WEIGHT = 10.0


def discriminator_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Per-image D loss without the gradient penalty."""
    if kind == "ns":
        return F.softplus(-real) + F.softplus(fake)
    if kind == "hinge":
        return F.relu(1.0 - real) + F.relu(1.0 + fake)
    return fake - real


def generator_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake) if kind == "ns" else -fake


def gradient_penalty(discriminator, real: torch.Tensor, fake: torch.Tensor, labels) -> torch.Tensor:
    """Per-image (|grad_x D(x)| - 1)^2 at random points between real and fake images."""
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    mixed = (eps * real + (1.0 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(mixed, labels).sum(), mixed, create_graph=True)
    return GP_WEIGHT * (grad.flatten(1).norm(dim=1) - 1.0).pow(2)
