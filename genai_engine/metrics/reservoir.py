"""A fixed-size uniform sample of a stream of feature rows, the same however the stream is cut.

KID, precision/recall and the FID bootstrap need the feature vectors themselves, not only
their mean and covariance. Keeping every row would make memory grow with the number of
samples; a reservoir keeps at most ``capacity`` rows, each row of the stream equally likely to
be among them, whatever the stream's order (an image folder sorted by class included).

Bottom-k sampling: the row at 0-based stream position ``i`` gets the priority
``splitmix64(seed, i)``, a fixed pseudo-random 64-bit number (distinct positions get distinct
priorities), and the reservoir keeps the ``capacity`` rows with the smallest priorities. So
the kept rows depend only on the seed and on which rows sit at which positions: not on the
batch sizes, not on the order the batches arrive in, and not on how the stream was split
between processes. Reservoirs of disjoint parts of a stream merge into exactly the reservoir
of the whole stream (``merge``; ``gather`` does it across torchrun ranks), which is how
``evaluate`` under torchrun keeps the same rows as one process. ``rows`` are returned in
stream order.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection of uint64 that scrambles every bit."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def priorities(seed: int, positions: np.ndarray) -> np.ndarray:
    """uint64 priorities of the stream ``positions`` under ``seed`` (distinct for distinct
    positions: ``base + (i + 1) * golden`` is injective modulo 2^64 and the mix is a bijection)."""
    base = _splitmix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    steps = np.asarray(positions, dtype=np.int64).astype(np.uint64) + np.uint64(1)
    with np.errstate(over="ignore"):
        return _splitmix64(base + steps * _GOLDEN)


class FeatureReservoir:
    def __init__(self, capacity: int, dim: int, seed: int = 0, dtype=np.float32) -> None:
        if capacity < 1:
            raise ValueError("reservoir capacity must be positive")
        self.capacity = int(capacity)
        self.dim = int(dim)
        self.seed = int(seed)
        self.seen = 0
        self._size = 0
        self._rows = np.empty((self.capacity, self.dim), dtype=dtype)
        self._keys = np.empty(self.capacity, dtype=np.uint64)
        self._positions = np.empty(self.capacity, dtype=np.int64)

    def update(self, batch: np.ndarray, start: int | None = None) -> None:
        """Offer a batch of rows; ``start`` is the stream position of its first row (default:
        right after the rows seen so far; a process that sees only part of the stream passes
        the global position)."""
        batch = np.asarray(batch)
        if batch.ndim != 2 or batch.shape[1] != self.dim:
            raise ValueError(f"expected rows of shape (b, {self.dim}), got {batch.shape}")
        b = len(batch)
        if b == 0:
            return
        first = self.seen if start is None else int(start)
        if first < 0:
            raise ValueError("stream positions start at 0")
        positions = np.arange(first, first + b, dtype=np.int64)
        self._offer(positions, priorities(self.seed, positions), batch)
        self.seen += b

    def _offer(self, positions: np.ndarray, keys: np.ndarray, rows: np.ndarray) -> None:
        size, capacity = self._size, self.capacity
        if size == capacity:  # full: only rows that beat the worst kept one can enter
            better = keys < self._keys.max()
            if not better.any():
                return
            positions, keys, rows = positions[better], keys[better], rows[better]
        if len(keys) <= capacity - size:
            stop = size + len(keys)
            self._rows[size:stop], self._keys[size:stop], self._positions[size:stop] = rows, keys, positions
            self._size = stop
            return
        # keep the `capacity` smallest of (kept, offered); offered winners fill the losers' slots
        winners = np.argpartition(np.concatenate((self._keys[:size], keys)), capacity - 1)[:capacity]
        stay = np.zeros(size, dtype=bool)
        stay[winners[winners < size]] = True
        slots = np.concatenate((np.flatnonzero(~stay), np.arange(size, capacity)))
        enter = np.sort(winners[winners >= size] - size)
        self._rows[slots], self._keys[slots] = rows[enter], keys[enter]
        self._positions[slots] = positions[enter]
        self._size = capacity

    def merge(self, other: FeatureReservoir) -> FeatureReservoir:
        """Fold in the reservoir of a disjoint part of the same stream (same seed); in place."""
        if other.dim != self.dim or other.seed != self.seed:
            raise ValueError("can only merge reservoirs of the same dimension and seed")
        size = other._size
        if size:
            self._offer(other._positions[:size], other._keys[:size], other._rows[:size])
        self.seen += other.seen
        return self

    def gather(self, context) -> FeatureReservoir:
        """The reservoir of the union of every rank's rows, on every rank.

        ``context`` is a ``genai_engine.distributed.DistContext``. Only rows that make the
        global cut travel: the ranks first share their priorities, then each sends the rows
        at or below the ``capacity``-th smallest one (``capacity`` rows in all). With a single
        process it returns ``self``."""
        if not context.enabled:
            return self
        out = FeatureReservoir(self.capacity, self.dim, self.seed, self._rows.dtype)
        size = self._size
        keys = self._keys[:size]
        every = np.concatenate(context.all_gather_arrays(keys.view(np.int64))).view(np.uint64)
        mine = np.ones(size, dtype=bool)
        if len(every) > self.capacity:
            mine = keys <= np.partition(every, self.capacity - 1)[self.capacity - 1]
        meta = np.stack((self._positions[:size][mine], keys[mine].view(np.int64)), axis=1)
        metas = context.all_gather_arrays(meta)
        rows = context.all_gather_arrays(self._rows[:size][mine])
        for part, block in zip(metas, rows, strict=True):
            out._offer(part[:, 0].copy(), part[:, 1].copy().view(np.uint64), block)
        out.seen = int(round(context.all_reduce_array(np.array([float(self.seen)]))[0]))
        return out

    @property
    def positions(self) -> np.ndarray:
        """Stream positions of the kept rows, ascending (a new array)."""
        return np.sort(self._positions[: self._size])

    @property
    def rows(self) -> np.ndarray:
        """The kept rows, (min(seen, capacity), dim), in stream order (a new array)."""
        order = np.argsort(self._positions[: self._size], kind="stable")
        return self._rows[order]
