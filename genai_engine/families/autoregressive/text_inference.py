"""``TextInference``: a character-model snapshot that writes text and scores it.

Like ``ARInference`` it is a frozen copy of the network with plain values in and out (``str``
and numpy), but it writes text, not images: it is a ``TextGenerator``, and neither a
``GenerativeModel`` nor a ``DensityModel`` of images, so the image views say in place that they
cannot serve it.

The context window: the model was trained on windows of L = ``context`` characters, a start
token at position 0 and then the characters. Character t of a longer text is predicted from the
start token and the characters from ``window_start(t)`` on: all of them while t < L; after that
the window hops forward by H = L // 2 characters whenever it is full, dropping the oldest, so
it always sees between H and L - 1 of the latest characters. Positions are absolute within the
window, so dropping one character at a time would change every cached key and value; hopping by
H lets the key/value cache be rebuilt in one forward pass of the kept characters once every H
characters. Generating with and without the cache, ``next_distribution`` and ``bits_per_char``
all follow this one rule, so they agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F

from genai_engine.data.text import encode_text
from genai_engine.errors import GenAIError
from genai_engine.families.autoregressive.sampling import (
    SamplingSettings,
    draw,
    filter_distribution,
    uniforms_for,
)
from genai_engine.families.base import Snapshot


class TextInference(Snapshot):
    family = "autoregressive"
    likelihood_kind = "exact"

    @property
    def vocabulary(self) -> str:
        """The characters the model knows, in id order."""
        return self.config.vocabulary

    @property
    def context(self) -> int:
        """The window L the model was trained on, in characters: it predicts a character from
        at most L - 1 before it (position 0 holds the start token)."""
        return self.config.tokens

    def window_start(self, t: int) -> int:
        """The first character the model sees when it predicts character ``t`` (module docstring)."""
        length, hop = self.context, self.context // 2
        return 0 if t < length else t - hop - (t - length) % hop

    def _window_end(self, t: int) -> int:
        """The first character after ``t`` whose window starts elsewhere."""
        length, hop = self.context, self.context // 2
        return length if t < length else t + hop - (t - length) % hop

    def _ids(self, text: str, what: str) -> torch.Tensor:
        return torch.from_numpy(encode_text(text, self.vocabulary, what).astype(np.int64)).to(self.device)

    def _inputs(self, ids: torch.Tensor, start: int, end: int) -> torch.Tensor:
        """The start token and characters ``start..end-1``, (1, end - start + 1)."""
        first = self.model.start_tokens(None, 1, self.device)
        return torch.cat([first, ids[start:end]])[None]

    def next_distribution(self, prompt: str, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                          ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The next character after ``prompt``: the characters, then the model's probabilities
        before and after the knobs (float64 (V,) each, summing to 1), in vocabulary order."""
        settings = SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)
        with torch.inference_mode():
            ids = self._ids(prompt, "the prompt")
            t = len(ids)
            logits = self.model.run(self._inputs(ids, self.window_start(t), t))[:, -1]
            before = torch.softmax(logits.double(), -1)[0]
            after = filter_distribution(logits, settings)[0].double()  # what ``generate`` draws from
            after /= after.sum()
        return list(self.vocabulary), before.cpu().numpy(), after.cpu().numpy()

    def generate(self, prompt: str, length: int, temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0, use_cache: bool = True) -> Iterator[str]:
        """``length`` characters after ``prompt``, yielded one at a time as they are drawn.

        The same seed writes the same text with or without the cache (``use_cache=False`` runs
        the whole window for every character: the naive method, kept to measure the cache). A
        bad prompt or knob is refused here, before the first character is asked for."""
        settings = SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)
        if isinstance(length, bool) or not isinstance(length, Integral) or length < 0:
            raise GenAIError(f"the length must be a whole number of characters, 0 or more, got {length!r}")
        with torch.inference_mode():
            given = self._ids(prompt, "the prompt")
            ids = torch.cat([given, given.new_zeros(int(length))])
            uniforms = uniforms_for(seed, 1, int(length)).to(self.device)
        return self._draws(ids, len(given), uniforms, settings, use_cache)

    def _draws(self, ids: torch.Tensor, given: int, uniforms: torch.Tensor, settings: SamplingSettings,
               use_cache: bool) -> Iterator[str]:
        """Fill ``ids`` after the first ``given``, one drawn character per step."""
        cache, cache_start = None, -1
        for i, t in enumerate(range(given, len(ids))):
            # each step runs under inference mode; the caller's code between steps does not
            with torch.inference_mode():
                start = self.window_start(t)
                if not use_cache:
                    logits = self.model.run(self._inputs(ids, start, t))
                elif start != cache_start:  # a new window: its characters in one pass
                    cache, cache_start = self.model.new_cache(1), start
                    logits = self.model.run(self._inputs(ids, start, t), cache)
                else:
                    logits = self.model.run(ids[t - 1:t][None], cache)
                value = int(draw(filter_distribution(logits[:, -1], settings), uniforms[:, i]))
                ids[t] = value
            yield self.vocabulary[value]

    def bits_per_char(self, text: str) -> float:
        """The exact negative log-likelihood of ``text`` (from its first character, under the
        window rule of the module docstring), in bits per character."""
        if not text:
            raise GenAIError("give at least one character of text to score")
        total = 0.0
        with torch.inference_mode():
            ids = self._ids(text, "the text")
            t = 0
            while t < len(ids):  # one forward pass per run of characters that share a window
                start, end = self.window_start(t), min(self._window_end(t), len(ids))
                logits = self.model.run(self._inputs(ids, start, end - 1))[0, t - start:]
                total += float(F.cross_entropy(logits.double(), ids[t:end], reduction="sum"))
                t = end
        return total / (len(ids) * math.log(2))
