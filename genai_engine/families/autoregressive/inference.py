"""``ARInference``: a pixel-transformer snapshot that samples, completes and scores images.

It has an exact likelihood (a ``DensityModel``) and no latent space: it is neither a
``LatentDecoder`` nor an ``Encoder``.

About the likelihood: ``nll`` is the exact negative log-likelihood of the image *quantised to
K levels*, a discrete distribution: 0 <= bits/dim, and log2 K bits/dim is uniform guessing.
Only models of the same K-level images compare on this scale. The VAE's negative ELBO is a
bound on another quantity, a Bernoulli cross-entropy of grey values in [0, 1] (not the
probability of K-level images, with a floor above 0 for grey pixels), so its bits/dim are not
comparable as such. Like for like, a VAE or diffusion decoder gives each pixel a distribution
over the same K levels; its negative ELBO then bounds its own exact NLL from above, so a bound
above this model's bits/dim proves nothing, and a bound below it proves this model worse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import torch

from genai_engine.errors import GenAIError
from genai_engine.families.autoregressive.nets import image_nll
from genai_engine.families.autoregressive.sampling import (
    SamplingSettings,
    generate,
    sample_tokens,
    uniforms_for,
)
from genai_engine.families.base import Snapshot
from genai_engine.tensors import images_to_tensor, to_uint8_images, to_unit

CACHE_BYTES = 256 << 20  # the key/value cache of one sampling chunk stays under this


class ARInference(Snapshot):
    family = "autoregressive"
    likelihood_kind = "exact"

    def __init__(self, model, device: str = "cpu", class_names=None) -> None:
        super().__init__(model, device, class_names)
        self.sampling = SamplingSettings()

    @property
    def levels(self) -> int:
        return int(self.config.levels)

    def configure_sampling(self, *, temperature: float | None = None, top_k: int | None = None,
                           top_p: float | None = None, **others) -> SamplingSettings:
        """Set the knobs ``sample`` and ``complete`` use (None keeps a knob); returns them. Another
        family's setting (a diffusion model's steps) is refused in one sentence."""
        if others:
            raise GenAIError(f"an autoregressive model has no sampling setting {sorted(others)[0]!r}; "
                             "use temperature, top_k or top_p")
        self.sampling = self._knobs(temperature, top_k, top_p)
        return self.sampling

    def sampling_fields(self) -> SamplingSettings:
        return self.sampling

    def _knobs(self, temperature=None, top_k=None, top_p=None) -> SamplingSettings:
        """The configured knobs with those given replaced (GenAIError on a bad value)."""
        given = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
        return dataclasses.replace(self.sampling, **{k: v for k, v in given.items() if v is not None})

    # --- images <-> tokens ---------------------------------------------------------------
    def _tokens(self, images: np.ndarray) -> torch.Tensor:
        return self.model.to_tokens(to_unit(images_to_tensor(images, self.device)))

    def _images(self, tokens: torch.Tensor) -> np.ndarray:
        return to_uint8_images(self.model.to_images(tokens))

    @torch.inference_mode()
    def quantise(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, C) -> the same images rounded to the model's K levels."""
        return self._images(self._tokens(images))

    # --- likelihood ------------------------------------------------------------------------
    @torch.inference_mode()
    def nll(self, images: np.ndarray, labels=None, batch_size: int = 256) -> np.ndarray:
        """Exact negative log-likelihood of each image quantised to K levels, nats, float64 (N,)."""
        scores = []
        for start in range(0, len(images), batch_size):
            tokens = self._tokens(images[start:start + batch_size])
            y = None if labels is None else self._labels(labels[start:start + batch_size], len(tokens))
            scores.append(image_nll(self.model(tokens, y), tokens).double().cpu().numpy())
        return np.concatenate(scores) if scores else np.zeros(0)

    # --- sampling --------------------------------------------------------------------------
    def _chunk(self, batch_size: int) -> int:
        c = self.config
        per_image = 2 * c.layers * c.tokens * c.width * 4  # keys and values, float32
        return max(1, min(int(batch_size), CACHE_BYTES // per_image))

    @torch.inference_mode()
    def _draw(self, uniforms: torch.Tensor, labels: torch.Tensor | None, prompt: torch.Tensor | None,
              settings: SamplingSettings, batch_size: int, cached: bool) -> np.ndarray:
        chunk = self._chunk(batch_size)
        parts = []
        for s in range(0, len(uniforms), chunk):
            rows = [None if t is None else t[s:s + chunk] for t in (labels, uniforms, prompt)]
            tokens = sample_tokens(self.model, rows[0], rows[1], settings, rows[2], cached)
            parts.append(self._images(tokens))
        return np.concatenate(parts)

    def sample(self, n: int, seed: int = 0, labels=None, batch_size: int = 1000, *,
               cached: bool = True) -> np.ndarray:
        """n images drawn pixel by pixel with the current knobs, uint8 (N, H, W, C), repeatable
        for a seed. ``cached=False`` is the naive sampler (tests and benchmarks compare it)."""
        if n < 1:
            raise GenAIError(f"the number of samples must be at least 1, got {n}")
        uniforms = uniforms_for(seed, n, self.config.tokens)
        return self._draw(uniforms, self._labels(labels, n), None, self.sampling, batch_size, cached)

    def _prompt(self, images: np.ndarray, rows_given: int) -> torch.Tensor:
        c, h, w = self.config.image_shape
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1:] != (h, w, c):
            raise GenAIError(f"prompt images must be uint8 (N, {h}, {w}, {c}), got shape {images.shape}")
        if not 0 <= int(rows_given) <= h:
            raise GenAIError(f"the rows given must be from 0 to the image height {h}, got {rows_given}")
        return self._tokens(images)[:, :int(rows_given) * w * c]

    def complete(self, images: np.ndarray, rows_given: int, n_completions: int = 1, seed: int = 0,
                 labels=None, *, batch_size: int = 1000, temperature: float | None = None,
                 top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
        """Keep the top ``rows_given`` rows of each image (quantised to K levels) and draw the
        rest: uint8 (N, n_completions, H, W, C). Knobs given here override the configured
        ones for this call."""
        if n_completions < 1:
            raise GenAIError(f"the number of completions must be at least 1, got {n_completions}")
        prompt = self._prompt(images, rows_given).repeat_interleave(n_completions, dim=0)
        n = len(prompt)
        settings = self._knobs(temperature, top_k, top_p)
        labels = None if labels is None else np.repeat(np.broadcast_to(np.asarray(labels), (len(images),)),
                                                       n_completions)
        out = self._draw(uniforms_for(seed, n, self.config.tokens), self._labels(labels, n), prompt,
                         settings, batch_size, cached=True)
        return out.reshape(len(images), n_completions, *out.shape[1:])

    def generation_steps(self, seed: int = 0, label: int | None = None, prompt: np.ndarray | None = None,
                         rows_given: int = 0, temperature: float | None = None, top_k: int | None = None,
                         top_p: float | None = None) -> Iterator[GenerationStep]:
        """One image drawn pixel by pixel, for a view to animate: per pixel, its position and the
        distribution over the K values before (``before``) and after (``after``) the knobs.
        ``prompt`` (H, W, C) with ``rows_given`` starts from a given top part."""
        settings = self._knobs(temperature, top_k, top_p)
        tokens = None if prompt is None else self._prompt(np.asarray(prompt)[None], rows_given)
        labels = None if label is None else self._labels([label], 1)
        c, h, w = self.config.image_shape
        steps = generate(self.model, labels, uniforms_for(seed, 1, self.config.tokens), settings, tokens)
        while True:
            # each step runs under inference mode, but the caller's code between steps does not
            with torch.inference_mode():
                step = next(steps, None)
                if step is None:
                    return
                row, rest = divmod(step.index, w * c)
                record = GenerationStep(
                    index=step.index, row=row, column=rest // c, channel=rest % c,
                    before=torch.softmax(step.logits[0].double(), -1).cpu().numpy(),
                    after=step.probs[0].double().cpu().numpy(), value=int(step.values[0]),
                    image=self._images(step.tokens)[0])
            yield record


@dataclasses.dataclass
class GenerationStep:
    """A pixel just drawn: where, from which distribution (K,) before/after the knobs, which
    level, and the image so far (uint8 (H, W, C); pixels not drawn yet are black)."""

    index: int
    row: int
    column: int
    channel: int
    before: np.ndarray
    after: np.ndarray
    value: int
    image: np.ndarray

