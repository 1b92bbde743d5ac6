"""A fixed-size uniform sample of a stream of feature rows (reservoir sampling, Algorithm R).

KID, precision/recall and the FID bootstrap need the feature vectors themselves, not only
their mean and covariance. Keeping every row would make memory grow with the number of
samples; a reservoir keeps at most ``capacity`` rows, each row of the stream equally likely to
be among them, whatever the stream's order (an image folder sorted by class included). With a
fixed seed the kept rows depend only on the stream, not on how it was cut into batches.
"""

from __future__ import annotations

import numpy as np


class FeatureReservoir:
    def __init__(self, capacity: int, dim: int, seed: int = 0, dtype=np.float32) -> None:
        if capacity < 1:
            raise ValueError("reservoir capacity must be positive")
        self.capacity = int(capacity)
        self.dim = int(dim)
        self.seen = 0
        self._rows = np.empty((self.capacity, self.dim), dtype=dtype)
        self._rng = np.random.default_rng(seed)

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch)
        if batch.ndim != 2 or batch.shape[1] != self.dim:
            raise ValueError(f"expected rows of shape (b, {self.dim}), got {batch.shape}")
        b = len(batch)
        if b == 0:
            return
        free = max(0, min(b, self.capacity - self.seen))
        if free:
            self._rows[self.seen : self.seen + free] = batch[:free]
        rest = batch[free:]
        if len(rest):
            # Row at 0-based stream position t replaces slot j ~ U{0..t} when j < capacity.
            positions = np.arange(self.seen + free, self.seen + b, dtype=np.int64)
            slots = (self._rng.random(len(rest)) * (positions + 1)).astype(np.int64)
            keep = slots < self.capacity
            slots, rows = slots[keep], rest[keep]
            if len(slots):
                # later rows win when two land in the same slot, as in the sequential algorithm
                last = len(slots) - 1 - np.unique(slots[::-1], return_index=True)[1]
                self._rows[slots[last]] = rows[last]
        self.seen += b

    @property
    def rows(self) -> np.ndarray:
        """The kept rows, (min(seen, capacity), dim); a view, copy it to keep it."""
        return self._rows[: min(self.seen, self.capacity)]
