"""A tiny untrained diffusion snapshot (12x12 grey, T = 60) whose zero-initialised layers got
random weights, so its predictions (and so its samples) depend on t and the number of steps.
Views of the denoising film and the noise latent need no training."""

from __future__ import annotations

import torch

from genai_engine.families import get_family

TIMESTEPS = 60


def untrained_diffusion(num_classes: int = 0, class_names=None):
    family = get_family("diffusion")
    config = family.config_type(width=8, levels=2, timesteps=TIMESTEPS, image_shape=(1, 12, 12),
                                num_classes=num_classes)
    torch.manual_seed(0)
    model = family.build(config)
    with torch.no_grad():
        for p in model.ema.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return family.snapshot(model, class_names=class_names)
