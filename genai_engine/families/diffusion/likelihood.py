"""The variational bound on a diffusion model's negative log-likelihood (Ho et al. 2020, eq. 5).

For an 8-bit image scaled to x in [-1, 1], with our levels t = 0 .. T-1 (x_t = sqrt(abar_t) x +
sqrt(1 - abar_t) eps, and abar_{-1} = 1 for the clean image),

    -log P(x) <= L_prior + sum_{t=1}^{T-1} L_t + L_decoder      (nats per image)

* L_prior = KL(q(x_{T-1} | x) || N(0, I)), analytic: about 1e-8 nats per pixel for the cosine
  schedule (abar_{T-1} ~ 2e-9), so it is nearly free.
* L_t = E_{x_t} KL(q(x_{t-1} | x_t, x) || p(x_{t-1} | x_t)). The model's step p has the
  posterior's fixed variance beta~_t = (1 - abar_{t-1}) / (1 - abar_t) * beta_t, which is the
  variance the DDPM sampler draws with at T steps (DDIM with eta = 1), and the posterior's mean
  with x replaced by the model's (clipped, as in sampling) prediction x0_hat of its eps or v
  output. Two Gaussians of equal variance whose means differ by c (x - x0_hat): the KL reduces
  to (SNR_{t-1} - SNR_t) / 2 * ||x - x0_hat(x_t)||^2, SNR = abar / (1 - abar).
* L_decoder = -log P(x | x_0): a Gaussian around x0_hat(x_0) integrated over each pixel's bin
  of width 2/255 (the end bins take the tails), so the bound is on the probability of the 8-bit
  image itself. Its variance is beta~_1, the first non-zero posterior variance (beta~_0 = 0), as
  Nichol & Dhariwal clip it. Even a perfect x0_hat then pays -log(2 Phi(1 / (255 sigma)) - 1)
  per pixel: about 0.7 bits/dim for the cosine schedule at T = 1000 (a floor of fixed variances).

Each expectation over x_t is one noise draw. The T - 1 middle terms cost a network evaluation
each, so the full sum costs T evaluations per image (about as much as sampling it with T steps;
on a 2-core CPU ~30 minutes for 1,000 Fashion-MNIST images with the default U-Net). ``terms``
< T - 1 estimates the sum without bias from ``terms`` strata of t, equal in log t: one random t
per image in each stratum, weighted by the stratum's size (stratified sampling), for ``terms``
+ 1 evaluations per image. On the demo model (Fashion-MNIST, about 4.15 bits/dim) an image's
estimate scatters by 0.07 bits/dim with 24 strata and 0.28 with 8, and means over 64 images
agree with the full sum to 0.01 bits/dim.

How the numbers compare (``base.bits_per_dim``: nats / (C H W ln 2)): this bounds -log2 P(8-bit
image) per dimension, where 8 bits/dim is uniform guessing. The autoregressive model's exact
bits/dim are of the image rounded to K levels; spread evenly over the 256 / K 8-bit values of
each level, that model scores its bits/dim + log2(256 / K) on this scale (+5 for K = 8), the
number to set beside this bound. The VAE's negative ELBO is a Bernoulli cross-entropy (or a
Gaussian density) of continuous grey values, not a probability of 8-bit images: the same unit,
but not the same quantity.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from genai_engine.families.diffusion.samplers import Denoiser

HALF_BIN = 1 / 255  # half the width of one 8-bit level on the [-1, 1] scale
DEFAULT_TERMS = 24  # strata of t per image: 25 network evaluations, the cost of a 25-step sample


@dataclass
class BoundParts:
    """The bound's three parts per image, nats, float64 (B,) each."""

    prior: torch.Tensor
    diffusion: torch.Tensor  # sum over t = 1 .. T-1 of L_t (an unbiased estimate of it)
    decoder: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.prior + self.diffusion + self.decoder


def _per_image(values: torch.Tensor) -> torch.Tensor:
    return values.flatten(1).sum(1)


def posterior_variance(abar: torch.Tensor, t) -> torch.Tensor:
    """beta~_t of q(x_{t-1} | x_t, x) for levels t >= 1 (float64 abar)."""
    a, a_prev = abar[t], abar[t - 1]
    return (1 - a_prev) / (1 - a) * (1 - a / a_prev)


def prior_kl(x: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """KL(N(sqrt(abar_{T-1}) x, 1 - abar_{T-1}) || N(0, 1)) summed per image."""
    a = abar[-1]
    return _per_image(0.5 * (a * x**2 - a - torch.log1p(-a)))


def _log_ndtr_difference(low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """log(Phi(high) - Phi(low)) for low < high (either may be infinite), computed in the
    lower tail, or mirrored into it when both ends are above 0, so that a bin far from the
    mean keeps its tiny mass instead of rounding to log 0."""
    mirror = low > 0
    near, far = torch.where(mirror, -low, high), torch.where(mirror, -high, low)
    near_log = torch.special.log_ndtr(near)
    return near_log + torch.log1p(-torch.exp(torch.special.log_ndtr(far) - near_log))


def discretised_gaussian_nll(x: torch.Tensor, mean: torch.Tensor, std) -> torch.Tensor:
    """-log P(x) per image, float64 (B,), of 8-bit values x (on the [-1, 1] grid) under a
    Gaussian of ``mean`` and ``std`` integrated over each value's bin; the end bins extend to
    -inf and +inf, so the 256 probabilities sum to 1."""
    x, mean = x.double(), mean.double()
    inf = torch.tensor(torch.inf, dtype=torch.float64)
    low = torch.where(x < -1 + HALF_BIN, -inf, (x - HALF_BIN - mean) / std)
    high = torch.where(x > 1 - HALF_BIN, inf, (x + HALF_BIN - mean) / std)
    return -_per_image(_log_ndtr_difference(low, high))


def predict_x0(denoise: Denoiser, abar: torch.Tensor, x: torch.Tensor, t: torch.Tensor,
               noise: torch.Tensor, device) -> torch.Tensor:
    """x0_hat (float64, CPU) from x_t made of x and ``noise`` at levels t (B,). The bound's
    arithmetic stays in float64 on the CPU (MPS has no float64); only the network runs on
    ``device``, in float32."""
    a = abar[t].view(-1, 1, 1, 1)
    x_t = (a.sqrt() * x + (1 - a).sqrt() * noise).float().to(device)
    return denoise(x_t, t.to(device))[1].double().cpu()


def diffusion_term(denoise: Denoiser, abar: torch.Tensor, x: torch.Tensor, t: torch.Tensor,
                   noise: torch.Tensor, device="cpu") -> torch.Tensor:
    """L_t per image (float64 (B,)) for levels t (B,) >= 1, at x_t made from ``noise``."""
    x0_hat = predict_x0(denoise, abar, x, t, noise, device)
    snr_drop = abar[t - 1] / (1 - abar[t - 1]) - abar[t] / (1 - abar[t])
    return 0.5 * snr_drop * _per_image((x - x0_hat) ** 2)


def decoder_nll(denoise: Denoiser, abar: torch.Tensor, x: torch.Tensor, noise: torch.Tensor,
                device="cpu") -> torch.Tensor:
    """L_decoder per image: -log P(x | x_0) under the discretised Gaussian around x0_hat(x_0)."""
    x0_hat = predict_x0(denoise, abar, x, torch.zeros(len(x), dtype=torch.long), noise, device)
    return discretised_gaussian_nll(x, x0_hat, posterior_variance(abar, 1).sqrt())


def strata(terms: int, timesteps: int) -> np.ndarray:
    """Edges of ``terms`` strata of the levels 1 .. T-1 (at most T - 1 of them, each non-empty),
    stratum j being edges[j] <= t < edges[j + 1]: equal steps of log t, so the first levels,
    where the terms are largest (they fall about as 1 / t), are strata of their own."""
    terms = min(terms, timesteps - 1)
    edges = np.floor(np.geomspace(1, timesteps, terms + 1)).astype(np.int64)
    edges[0], edges[-1] = 1, timesteps
    for j in range(1, terms + 1):  # at least one level per stratum, from the start...
        edges[j] = max(edges[j], edges[j - 1] + 1)
    for j in range(terms - 1, 0, -1):  # ... and room for the ones after it, from the end
        edges[j] = min(edges[j], edges[j + 1] - 1)
    return edges


def image_generators(images_u8: np.ndarray) -> list[torch.Generator]:
    """One generator per image, seeded by its bytes: an image's bound is the same in any batch."""
    generators = []
    for image in images_u8:
        digest = hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=8).digest()
        generators.append(torch.Generator().manual_seed(int.from_bytes(digest, "little") >> 1))
    return generators


def _draw_noise(generators: list[torch.Generator], shape) -> torch.Tensor:
    """One standard-normal image per generator, float64 on the CPU."""
    return torch.stack([torch.randn(shape, generator=g, dtype=torch.float64) for g in generators])


def variational_bound(denoise: Denoiser, abar: torch.Tensor, x: torch.Tensor,
                      generators: list[torch.Generator], terms: int | None = DEFAULT_TERMS,
                      device="cpu") -> BoundParts:
    """The bound's parts for images x (B, C, H, W) in [-1, 1] on the 8-bit grid (float64, CPU)
    with ``abar`` float64 (T,) and the network of ``denoise`` on ``device``; one generator per
    image draws its timesteps and noises. ``terms`` strata of t give an unbiased estimate of
    the middle sum; None (or >= T - 1) sums every term."""
    timesteps = len(abar)
    edges = strata(timesteps - 1 if terms is None else terms, timesteps)
    sizes = np.diff(edges)
    # all of an image's draws come from its own generator: stratum positions, then the noises
    positions = torch.stack([torch.rand(len(sizes), generator=g, dtype=torch.float64) for g in generators])
    decoder = decoder_nll(denoise, abar, x, _draw_noise(generators, x.shape[1:]), device)
    diffusion = torch.zeros(len(x), dtype=torch.float64)
    for j, (low, size) in enumerate(zip(edges[:-1], sizes, strict=True)):
        t = int(low) + (positions[:, j] * int(size)).long()
        noise = _draw_noise(generators, x.shape[1:])
        diffusion += int(size) * diffusion_term(denoise, abar, x, t, noise, device)
    return BoundParts(prior_kl(x, abar), diffusion, decoder)
