"""A tiny untrained GAN snapshot (MLP, latent 8): a model with a latent that decodes and can be
inverted, but no encoder and no likelihood. Capability tests need no training."""

from __future__ import annotations

from genai_engine.families import get_family


def untrained_gan(image_shape=(1, 28, 28), latent_dim: int = 8):
    family = get_family("gan")
    config = family.config_type(kind="mlp", latent_dim=latent_dim, width=8, image_shape=tuple(image_shape))
    return family.snapshot(family.build(config))
