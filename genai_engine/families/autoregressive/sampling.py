"""Sampling pixel by pixel: the knobs (temperature, top-k, top-p) and the generation loop.

Every draw is an inverse-CDF lookup of one uniform number per image and pixel, drawn up front
from the seed: the same seed gives the same image whatever the batch size, the device, and
whether the key/value cache is used (the cache changes the cost, not the distribution).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import torch

from genai_engine.errors import GenAIError
from genai_engine.families.autoregressive.nets import PixelTransformer

MAX_TEMPERATURE = 10.0


@dataclass(frozen=True)
class SamplingSettings:
    """How each pixel's predicted distribution is reshaped before a value is drawn.

    ``temperature`` divides the logits (0: always the most likely value, "greedy"; < 1 sharper,
    > 1 flatter); ``top_k`` keeps the k most likely values (0: all; ties at the k-th are kept);
    ``top_p`` keeps the fewest most likely values whose probabilities add up to at least p
    (1: all). They apply in that order, as in most language-model libraries."""

    # The metadata builds the app's controls (``Snapshot.sampling_fields``), as a config's does;
    # "off" is the value that leaves the distribution as it is (captions say "off").
    temperature: float = field(default=1.0, metadata={
        "label": "Temperature", "min": 0.0, "max": MAX_TEMPERATURE,
        "help": "Divides the logits: 0 always takes the most likely value, below 1 sharper, above 1 "
                "flatter and noisier."})
    top_k: int = field(default=0, metadata={
        "label": "Top-k", "min": 0, "max": 256, "off": 0,
        "help": "Draw only from the k most likely values of each pixel (0: all)."})
    top_p: float = field(default=1.0, metadata={
        "label": "Top-p", "min": 0.01, "max": 1.0, "off": 1.0,
        "help": "Draw only from the fewest most likely values whose probabilities add up to p (1: all)."})

    def __post_init__(self) -> None:
        t, k, p = self.temperature, self.top_k, self.top_p
        if isinstance(t, bool) or not isinstance(t, Real) or not 0 <= t <= MAX_TEMPERATURE:
            raise GenAIError(f"temperature must be a number from 0 (greedy) to {MAX_TEMPERATURE:g}, "
                             f"got {t!r}")
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 0:
            raise GenAIError(f"top-k must be a whole number, 0 (off) or more, got {k!r}")
        if isinstance(p, bool) or not isinstance(p, Real) or not (math.isfinite(p) and 0 < p <= 1):
            raise GenAIError(f"top-p must be above 0 and at most 1 (1 is off), got {p!r}")


def filter_distribution(logits: torch.Tensor, settings: SamplingSettings) -> torch.Tensor:
    """Logits (..., K) -> the probabilities values are drawn from, after the three knobs."""
    if settings.temperature == 0:
        return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    logits = logits / settings.temperature
    if 0 < settings.top_k < logits.shape[-1]:
        kth = torch.topk(logits, settings.top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    probs = torch.softmax(logits, dim=-1)
    if settings.top_p < 1:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        mass_before = sorted_probs.cumsum(-1) - sorted_probs
        sorted_drop = mass_before >= settings.top_p  # the top value always stays (mass before it: 0)
        drop = torch.empty_like(sorted_drop).scatter_(-1, order, sorted_drop)
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def draw(probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """One value per row of ``probs`` (B, K), given uniforms in [0, 1) (B,): the inverse CDF.
    Scaling by the total keeps rounding from ever picking a value of probability 0."""
    cdf = probs.cumsum(-1)
    u = (uniforms.to(cdf.dtype) * cdf[:, -1]).unsqueeze(-1)
    return torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp_(max=probs.shape[-1] - 1)


def uniforms_for(seed: int, n: int, length: int) -> torch.Tensor:
    """The seed's uniform numbers, (n, length): row i is the same for any n > i."""
    return torch.from_numpy(np.random.default_rng(seed).random((n, length), dtype=np.float32))


@dataclass
class PixelStep:
    """One pixel drawn by ``generate``: position, the distribution before and after the knobs
    (B, K), and the values drawn (B,). ``tokens`` (B, L) is the sequence so far (shared and
    updated in place: copy it to keep it)."""

    index: int
    logits: torch.Tensor
    probs: torch.Tensor
    values: torch.Tensor
    tokens: torch.Tensor


def generate(model: PixelTransformer, labels: torch.Tensor | None, uniforms: torch.Tensor,
             settings: SamplingSettings, prompt: torch.Tensor | None = None,
             cached: bool = True) -> Iterator[PixelStep]:
    """Draw every pixel after the ``prompt`` tokens (B, P) in raster order, one per step.

    ``cached=False`` is the naive method, one full forward pass over the prefix per pixel,
    kept to measure and test the cache against."""
    device = model.head.weight.device
    n, length = uniforms.shape
    tokens = torch.zeros(n, length, dtype=torch.long, device=device)
    given = 0 if prompt is None else prompt.shape[1]
    if given:
        tokens[:, :given] = prompt.to(device)
    inputs = model.inputs(tokens, labels)  # updated as pixels are drawn
    cache = model.new_cache(n) if cached else None
    pending = inputs[:, :given + 1]  # the inputs the cache has not seen yet: the prompt at first
    uniforms = uniforms.to(device)
    for t in range(given, length):
        if cached:
            logits = model.run(pending, cache)[:, -1]
        else:
            logits = model.run(inputs[:, :t + 1])[:, -1]
        probs = filter_distribution(logits, settings)
        values = draw(probs, uniforms[:, t])
        tokens[:, t] = values
        if t + 1 < length:
            inputs[:, t + 1] = values
        pending = values[:, None]
        yield PixelStep(t, logits, probs, values, tokens)


def sample_tokens(model: PixelTransformer, labels: torch.Tensor | None, uniforms: torch.Tensor,
                  settings: SamplingSettings, prompt: torch.Tensor | None = None,
                  cached: bool = True) -> torch.Tensor:
    """Whole sequences (B, L): ``generate`` run to the end."""
    if prompt is not None and prompt.shape[1] == uniforms.shape[1]:
        return prompt.clone()
    *_, last = generate(model, labels, uniforms, settings, prompt, cached)
    return last.tokens
