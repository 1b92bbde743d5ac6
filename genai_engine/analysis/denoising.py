"""The reverse process of a step-by-step sampler (``base.StepwiseDenoiser``), for people.

- ``filmstrip_frames``: which frames of a denoising film a strip of n thumbnails shows.
- ``steps_trade``: one starting noise sampled with several step counts, timed: what fewer
  steps cost in quality and save in time. One image at a time (as in the denoising film), so
  the times are latency, not a batch's throughput.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from genai_engine.errors import GenAIError
from genai_engine.tasks import TaskControl


def filmstrip_frames(frames: int, count: int) -> np.ndarray:
    """``count`` frame indices (int64) evenly spaced from the first frame to the last of a film
    of ``frames`` frames, without repeats (fewer when the film is shorter)."""
    if frames < 1 or count < 1:
        raise GenAIError(f"a filmstrip needs at least one frame, got {count} of {frames}")
    return np.unique(np.round(np.linspace(0, frames - 1, min(count, frames))).astype(np.int64))


@dataclass
class TradeRow:
    steps: int
    image: np.ndarray  # uint8 (H, W, C)
    ms_per_image: float
    done: int  # rows finished so far, of ``total``
    total: int


def steps_trade(model, step_counts: Sequence[int], z: np.ndarray, labels=None,
                control: TaskControl | None = None) -> Iterator[TradeRow]:
    """Sample the starting noise ``z`` (D,) with each number of steps in ``step_counts`` with the
    model's configured sampler; yields one timed row per count, stops early when cancelled."""
    counts = [int(s) for s in step_counts]
    if not counts or min(counts) < 1:
        raise GenAIError("give one or more step counts of at least 1, e.g. 5,10,25,50")
    model.denoising_film(z, labels, steps=1)  # warm-up: the first call pays for kernel setup
    for done, steps in enumerate(counts, 1):
        if control is not None and not control.checkpoint():
            return
        start = time.perf_counter()
        film = model.denoising_film(z, labels, steps=steps)
        yield TradeRow(steps, film.x_t[-1], 1000 * (time.perf_counter() - start), done, len(counts))
