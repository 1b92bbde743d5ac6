"""Reverse-process samplers over a strided timestep sequence, and DDIM inversion.

Every sampler takes ``denoise(x_t, t) -> (eps, x0)`` (the network with guidance and
clipping folded in, see ``model.DiffusionModel.denoiser``), the schedule's abar, the
descending timestep sequence and the starting noise; ``on_step(x_t, x0)`` sees each step.

* DDIM (Song et al.): x_prev = sqrt(abar') x0 + sqrt(1 - abar' - sigma^2) eps + sigma z, with
  sigma = eta * sqrt((1 - abar') / (1 - abar) * (1 - abar / abar')). eta = 0 is deterministic
  (the starting noise is a latent code), eta = 1 is ancestral sampling.
* DDPM (Ho et al.): ancestral sampling with the posterior variance, which over any strided
  sequence *is* DDIM with eta = 1, so it is run as that.
* DPM-Solver++(2M) (Lu et al. 2022): a second-order multistep solver of the same ODE as
  DDIM-0, in log-SNR time, on the x0 predictions. Chosen over Heun / Karras because it needs
  one network evaluation per step (Heun two), so "10 steps" costs the same as 10 DDIM steps,
  and its data-prediction form was designed to stay stable under classifier-free guidance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from genai_engine.errors import GenAIError

SAMPLERS = ("ddim", "ddpm", "dpm++2m")
MAX_GUIDANCE = 20.0

Denoiser = Callable[[torch.Tensor, int | torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
StepHook = Callable[[torch.Tensor, torch.Tensor], None] | None


@dataclass
class SamplingSettings:
    """How a snapshot turns starting noise into images."""

    # The metadata builds the app's controls (``Snapshot.sampling_fields``), as a config's does.
    sampler: str = field(default="ddim", metadata={
        "label": "Sampler",
        "choices": {"ddim": "DDIM", "ddpm": "DDPM (ancestral)", "dpm++2m": "DPM-Solver++ 2M"},
        "help": "DDIM with eta 0 is deterministic (the noise is a latent); DDPM adds fresh noise at "
                "every step; DPM-Solver++ is a fast solver, good at 10-20 steps."})
    steps: int = field(default=25, metadata={
        "label": "Steps", "min": 1, "max": 10_000,
        "help": "Network evaluations from noise to image: more steps, better images, slower "
                "sampling. At most the model's noise steps T."})
    eta: float = field(default=0.0, metadata={
        "label": "DDIM eta", "min": 0.0, "max": 1.0,
        "help": "DDIM only: 0 is deterministic, 1 adds as much fresh noise per step as DDPM."})
    guidance: float = field(default=1.0, metadata={
        "label": "Guidance scale", "min": 0.0, "max": MAX_GUIDANCE, "conditional": True,
        "help": "Classifier-free guidance: 1 is the plain conditional model, 0 ignores the class, "
                "above 1 pushes samples towards their class (sharper, less varied)."})

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise GenAIError(f"unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}")
        whole = not isinstance(self.steps, float) or self.steps.is_integer()
        if not whole or not 1 <= int(self.steps) <= 10_000:
            raise GenAIError(f"the number of sampling steps must be a whole number from 1 to 10000, "
                             f"got {self.steps}")
        self.steps = int(self.steps)
        self.eta, self.guidance = float(self.eta), float(self.guidance)
        if not (math.isfinite(self.eta) and 0.0 <= self.eta <= 1.0):
            raise GenAIError(f"eta must be between 0 and 1, got {self.eta}")
        if not (math.isfinite(self.guidance) and 0.0 <= self.guidance <= MAX_GUIDANCE):
            raise GenAIError(f"the guidance scale must be between 0 and {MAX_GUIDANCE:g}, "
                             f"got {self.guidance}")

    @property
    def stochastic(self) -> bool:
        return self.sampler == "ddpm" or (self.sampler == "ddim" and self.eta > 0)

    def to_dict(self) -> dict:
        return asdict(self)


def timestep_sequence(timesteps: int, steps: int) -> list[int]:
    """``steps`` timesteps from T-1 (pure noise) down to 0, evenly spaced; at most T of them."""
    return [int(t) for t in np.unique(np.round(np.linspace(0, timesteps - 1, min(steps, timesteps))))[::-1]]


def _next_abar(abar: torch.Tensor, sequence: list[int], i: int) -> float:
    """abar of the level after step i; 1.0 (the clean image) after the last one."""
    return float(abar[sequence[i + 1]]) if i + 1 < len(sequence) else 1.0


def ddim(denoise: Denoiser, abar: torch.Tensor, sequence: list[int], x: torch.Tensor, eta: float = 0.0,
         generator: torch.Generator | None = None, on_step: StepHook = None) -> torch.Tensor:
    for i, t in enumerate(sequence):
        eps, x0 = denoise(x, t)
        if on_step:
            on_step(x, x0)
        a, a_next = float(abar[t]), _next_abar(abar, sequence, i)
        sigma = eta * math.sqrt((1 - a_next) / (1 - a) * (1 - a / a_next))
        x = math.sqrt(a_next) * x0 + math.sqrt(max(1 - a_next - sigma**2, 0.0)) * eps
        if sigma > 0:
            # drawn on the CPU so a seed gives the same samples on every device
            x = x + sigma * torch.randn(x.shape, generator=generator).to(x.device)
    return x


def ddpm(denoise: Denoiser, abar: torch.Tensor, sequence: list[int], x: torch.Tensor,
         generator: torch.Generator | None = None, on_step: StepHook = None) -> torch.Tensor:
    return ddim(denoise, abar, sequence, x, 1.0, generator, on_step)


def dpm_solver_2m(denoise: Denoiser, abar: torch.Tensor, sequence: list[int], x: torch.Tensor,
                  on_step: StepHook = None) -> torch.Tensor:
    previous_x0, previous_h = None, None
    for i, t in enumerate(sequence):
        _, x0 = denoise(x, t)
        if on_step:
            on_step(x, x0)
        a, a_next = float(abar[t]), _next_abar(abar, sequence, i)
        if a_next >= 1.0:  # the last step lands on the clean image: first order, x = x0
            return x0
        alpha, sigma = math.sqrt(a), math.sqrt(1 - a)
        alpha_next, sigma_next = math.sqrt(a_next), math.sqrt(1 - a_next)
        h = math.log(alpha_next / sigma_next) - math.log(alpha / sigma)  # log-SNR step
        if previous_x0 is None:
            d = x0
        else:  # extrapolate x0 linearly in log-SNR from the previous step's prediction
            r = previous_h / h
            d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * previous_x0
        x = (sigma_next / sigma) * x - alpha_next * math.expm1(-h) * d
        previous_x0, previous_h = x0, h
    return x


def run(settings: SamplingSettings, denoise: Denoiser, abar: torch.Tensor, timesteps: int,
        x: torch.Tensor, generator: torch.Generator | None = None, on_step: StepHook = None) -> torch.Tensor:
    """Starting noise x (B, C, H, W) -> images in [-1, 1] with the sampler ``settings`` name."""
    sequence = timestep_sequence(timesteps, settings.steps)
    if settings.sampler == "dpm++2m":
        return dpm_solver_2m(denoise, abar, sequence, x, on_step)
    if settings.sampler == "ddpm":
        return ddpm(denoise, abar, sequence, x, generator, on_step)
    return ddim(denoise, abar, sequence, x, settings.eta, generator, on_step)


def ddim_invert(denoise: Denoiser, abar: torch.Tensor, timesteps: int, steps: int,
                x0: torch.Tensor) -> torch.Tensor:
    """Clean images (in [-1, 1]) -> the starting noise from which DDIM-0 with ``steps`` steps
    returns (about) them: the same sequence walked backwards, each step reusing the noise
    predicted at the level it starts from (the usual approximation; exact as steps grow)."""
    sequence = timestep_sequence(timesteps, steps)
    x, t_current = x0, sequence[-1]  # the clean image enters as the lowest noise level
    for target in reversed(sequence):
        eps, x0_hat = denoise(x, t_current)
        a = float(abar[target])
        x = math.sqrt(a) * x0_hat + math.sqrt(1 - a) * eps
        t_current = target
    return x
