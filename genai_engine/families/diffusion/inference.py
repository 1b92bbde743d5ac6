"""``DiffusionInference``: a diffusion snapshot whose latent is the starting noise.

``decode(z)`` runs the configured sampler from the flat noise z (C*H*W,), so ``sample(n, seed)``
is ``decode(prior_samples(n, D, seed))`` as in every latent family; under DDIM with eta = 0 (or
DPM-Solver++) the map is the deterministic probability-flow ODE, and ``encode`` inverts it by
DDIM inversion. ``denoising_film`` records every step of one reverse process. ``nll`` is the
variational bound on the likelihood (``diffusion.likelihood``), so it is a ``DensityModel``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from genai_engine.errors import GenAIError
from genai_engine.families.base import LatentSnapshot, prior_samples
from genai_engine.families.diffusion.likelihood import DEFAULT_TERMS, image_generators, variational_bound
from genai_engine.families.diffusion.samplers import SamplingSettings, ddim_invert, timestep_sequence
from genai_engine.families.diffusion.schedule import alphas_cumprod
from genai_engine.tensors import images_to_tensor, to_uint8_images, to_unit


@dataclass
class DenoisingFilm:
    """One reverse process, frame by frame: ``x_t[i]`` is the image entering step i (``x_t[-1]``
    the result) and ``x0[i]`` the network's guess of the clean image at that step."""

    timesteps: np.ndarray  # int64 (S,), descending
    x_t: np.ndarray  # uint8 (S + 1, H, W, C), noise shown as (x + 1) / 2
    x0: np.ndarray  # uint8 (S, H, W, C)


class DiffusionInference(LatentSnapshot):
    family = "diffusion"
    latent_kind = "noise"
    likelihood_kind = "bound"  # the variational bound of Ho et al., an upper bound on -log P(x)

    def __init__(self, model, device: str = "cpu", class_names=None) -> None:
        super().__init__(model, device, class_names)
        self.model.unet = None  # only the EMA network samples; the trained one is dead weight here
        self.model.to(memory_format=torch.channels_last)  # faster convolutions: bench_diffusion.py
        self._bound_terms: int | None = DEFAULT_TERMS

    @property
    def bound_terms(self) -> int | None:
        """Timesteps per image that estimate the bound's sum over t (``diffusion.likelihood``);
        None sums all T - 1 of them (exact up to the noise draws, T network evaluations per image)."""
        return self._bound_terms

    @bound_terms.setter
    def bound_terms(self, terms: int | None) -> None:
        if terms is not None and (isinstance(terms, bool) or not isinstance(terms, (int, np.integer))
                                  or terms < 1):
            raise GenAIError(f"the bound's timesteps per image must be a whole number of at least 1 "
                             f"(or all), got {terms!r}")
        self._bound_terms = None if terms is None else int(terms)

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.ema.parameters())

    @property
    def sampling(self) -> SamplingSettings:
        return self.model.sampling

    def configure_sampling(self, **settings) -> None:
        """Set any of sampler ("ddim", "ddpm", "dpm++2m"), steps, eta (DDIM's noise, 0..1) and
        guidance (classifier-free guidance scale); raises GenAIError for a bad value."""
        unknown = set(settings) - set(SamplingSettings.__dataclass_fields__)
        if unknown:
            raise GenAIError(f"unknown sampling setting {sorted(unknown)[0]!r}; use sampler, steps, eta "
                             "or guidance")
        chosen = replace(self.model.sampling, **settings)
        if "steps" in settings and chosen.steps > self.config.timesteps:
            # the sampler would silently take only T steps
            raise GenAIError(f"this model has {self.config.timesteps} noise steps, so it samples with at "
                             f"most {self.config.timesteps} steps, not {chosen.steps}; choose fewer")
        self.model.sampling = chosen

    def sampling_fields(self) -> SamplingSettings:
        return self.sampling

    def _noise(self, z) -> torch.Tensor:
        z = np.atleast_2d(np.asarray(z, np.float32))
        if z.shape[1] != self.latent_dim:
            raise GenAIError(f"a starting noise needs {self.latent_dim} values, got {z.shape[1]}")
        return torch.from_numpy(z.copy()).to(self.device).reshape(-1, *self.config.image_shape)

    @torch.inference_mode()
    def denoising_film(self, z=None, labels=None, steps: int | None = None, seed: int = 0) -> DenoisingFilm:
        """Every step of the configured sampler (with ``steps`` steps, default the configured
        number) from the noise z (D,), or from ``prior_samples(1, D, seed)`` when z is None;
        the last x_t frame equals ``decode(z, labels)`` at that number of steps."""
        z = prior_samples(1, self.latent_dim, seed)[0] if z is None else np.asarray(z, np.float32)
        if z.ndim != 1:
            raise GenAIError("the denoising film follows one sample: give one noise vector of shape (D,)")
        settings = replace(self.sampling, steps=steps if steps is not None else self.sampling.steps)
        frames_xt: list[np.ndarray] = []
        frames_x0: list[np.ndarray] = []

        def record(x_t, x0):
            frames_xt.append(to_uint8_images((x_t + 1) / 2))
            frames_x0.append(to_uint8_images((x0 + 1) / 2))

        final = self.model.generate(self._noise(z), self._labels(labels, 1), settings, on_step=record)
        sequence = timestep_sequence(self.config.timesteps, settings.steps)
        return DenoisingFilm(np.asarray(sequence, np.int64),
                             np.concatenate([*frames_xt, to_uint8_images(final)]), np.concatenate(frames_x0))

    @torch.inference_mode()
    def encode(self, images: np.ndarray, labels=None, batch_size: int = 1000):
        """uint8 (N, H, W, C) -> (starting noise z, zeros), float32 (N, D) each, by DDIM
        inversion with the configured number of steps and guidance. The zeros stand for a
        log-variance: the map is deterministic (``base.Encoder``'s shape)."""
        codes = []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            x = to_unit(images_to_tensor(chunk, self.device)) * 2 - 1
            y = None if labels is None else self._labels(labels[start:start + batch_size], len(chunk))
            denoise = self.model.denoiser(y, self.sampling.guidance, clip=False)
            z = ddim_invert(denoise, self.model.abar, self.config.timesteps, self.sampling.steps, x)
            codes.append(z.flatten(1).float().cpu().numpy())
        z = np.concatenate(codes) if codes else np.zeros((0, self.latent_dim), np.float32)
        return z, np.zeros_like(z)

    @torch.inference_mode()
    def nll(self, images: np.ndarray, labels=None, batch_size: int = 250) -> np.ndarray:
        """The variational bound on -log P(x) of uint8 images (N, H, W, C), nats per image,
        float64 (N,): with ``bound_terms`` timesteps per image an unbiased estimate of it, from
        noise seeded by each image, so an image scores the same in any batch. The EMA network
        of the samplers with clipped predictions, at guidance 1 (the model itself): for a
        conditional model with labels, -log P(x | y)."""
        config = self.config
        abar = alphas_cumprod(config.timesteps, config.schedule)
        scores = []
        for start in range(0, len(images), batch_size):
            chunk = np.asarray(images[start:start + batch_size])
            x = images_to_tensor(chunk, "cpu").double() / 127.5 - 1
            y = None if labels is None else self._labels(labels[start:start + batch_size], len(chunk))
            bound = variational_bound(self.model.denoiser(y), abar, x, image_generators(chunk),
                                      self.bound_terms, self.device)
            scores.append(bound.total.numpy())
        return np.concatenate(scores) if scores else np.zeros(0)

    def reconstruction_error(self, images: np.ndarray, labels=None, batch_size: int = 1000) -> np.ndarray:
        """Per-image mean squared error (pixels in [0, 1]) of DDIM inversion then deterministic
        DDIM decoding with the configured steps: how well the noise latent holds the image."""
        previous = self.sampling
        self.model.sampling = replace(previous, sampler="ddim", eta=0.0)
        try:
            z, _ = self.encode(images, labels, batch_size)
            recon = np.concatenate([self.decode(z[s:s + batch_size], None if labels is None else
                                                labels[s:s + batch_size])
                                    for s in range(0, len(z), batch_size)]) if len(z) else images[:0]
        finally:
            self.model.sampling = previous
        error = (recon.astype(np.float64) - np.asarray(images, np.float64)) / 255.0
        return (error**2).reshape(len(error), -1).mean(1)
