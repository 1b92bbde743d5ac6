"""Streaming float64 mean and covariance of feature vectors, mergeable and saveable.

Each batch is reduced to its count, mean and centred sum of outer products; batches (or whole
``FeatureStats`` from other workers) are combined with the pairwise update of Chan, Golub and
LeVeque. This keeps the memory at O(d^2) whatever the number of samples, and unlike raw
``sum x x^T`` it does not lose digits when the features have a large mean relative to their
spread. ``covariance`` uses the unbiased n - 1 divisor, like ``numpy.cov``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


class FeatureStats:
    """Running count, mean and centred scatter matrix of d-dimensional features."""

    def __init__(self, dim: int) -> None:
        if dim < 1:
            raise ValueError("feature dimension must be positive")
        self.dim = int(dim)
        self.n = 0
        self._mean = np.zeros(self.dim, dtype=np.float64)
        self._scatter = np.zeros((self.dim, self.dim), dtype=np.float64)

    # --- accumulation --------------------------------------------------------------------
    def update(self, batch) -> FeatureStats:
        """Fold a batch of features, shape (b, d) (any float dtype or a CPU tensor), in."""
        x = np.asarray(batch, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected features of shape (b, {self.dim}), got {x.shape}")
        if len(x) == 0:
            return self
        if not np.isfinite(x).all():
            raise ValueError("features contain NaN or infinity")
        mean = x.mean(axis=0)
        centred = x - mean
        self._combine(len(x), mean, centred.T @ centred)
        return self

    def update_torch(self, batch: np.ndarray) -> FeatureStats:
        """``update`` with the batch reduced by torch (float64), beside a network's forward pass.

        numpy's matrix product would wake OpenBLAS's own thread pool between two forward passes
        of the network, and the two pools fight over the cores: on a 2-core CPU this doubled the
        time of the feature stage. torch keeps one pool for both.
        """
        import torch

        x = torch.from_numpy(np.ascontiguousarray(batch)).double()
        mean = x.mean(dim=0)
        centred = x - mean
        return self.update_moments(len(x), mean.numpy(), (centred.T @ centred).numpy())

    def update_moments(self, n: int, mean: np.ndarray, scatter: np.ndarray) -> FeatureStats:
        """Fold in a batch already reduced elsewhere (e.g. by torch, beside the network):
        its count, mean and centred scatter ``sum (x - mean)(x - mean)^T``."""
        mean = np.asarray(mean, dtype=np.float64)
        scatter = np.asarray(scatter, dtype=np.float64)
        if mean.shape != (self.dim,) or scatter.shape != (self.dim, self.dim):
            raise ValueError(f"expected moments of dimension {self.dim}")
        if not (np.isfinite(mean).all() and np.isfinite(scatter).all()):
            raise ValueError("features contain NaN or infinity")
        if n > 0:
            self._combine(int(n), mean, scatter)
        return self

    def merge(self, other: FeatureStats) -> FeatureStats:
        """Fold another ``FeatureStats`` in (in place); returns ``self``."""
        if other.dim != self.dim:
            raise ValueError(f"cannot merge statistics of dimension {other.dim} into {self.dim}")
        if other.n:
            self._combine(other.n, other._mean, other._scatter)
        return self

    def _combine(self, n_b: int, mean_b: np.ndarray, scatter_b: np.ndarray) -> None:
        n_a = self.n
        n = n_a + n_b
        delta = mean_b - self._mean
        self._scatter += scatter_b
        if n_a:
            self._scatter += np.outer(delta, delta) * (n_a * n_b / n)
        self._mean += delta * (n_b / n)
        self.n = n

    def all_reduce(self, context) -> FeatureStats:
        """The statistics of the union of every rank's samples, on every rank (a new object).

        ``context`` is a ``genai_engine.distributed.DistContext`` (anything with ``enabled``
        and ``all_reduce_array``); with a single process it returns ``self``. Two float64
        sums: first the counts and ``n * mean``, which give the global mean ``m``; then each
        rank's scatter re-centred on ``m``, ``S_r + n_r (m_r - m)(m_r - m)^T``, whose sum is
        the global centred scatter exactly (the k-way form of the pairwise update). Summing
        raw moments ``sum x x^T`` instead would cancel digits when the features have a
        large mean.
        """
        if not context.enabled:
            return self
        head = context.all_reduce_array(np.concatenate(([float(self.n)], self.n * self._mean)))
        out = FeatureStats(self.dim)
        out.n = int(round(head[0]))
        if out.n == 0:
            return out
        out._mean = head[1:] / out.n
        delta = self._mean - out._mean
        local = self._scatter + np.outer(delta, delta) * self.n if self.n else self._scatter
        out._scatter = context.all_reduce_array(local)
        return out

    def copy(self) -> FeatureStats:
        out = FeatureStats(self.dim)
        out.n, out._mean, out._scatter = self.n, self._mean.copy(), self._scatter.copy()
        return out

    # --- results ---------------------------------------------------------------------------
    @property
    def mean(self) -> np.ndarray:
        return self._mean.copy()

    @property
    def covariance(self) -> np.ndarray:
        """Unbiased covariance (divisor n - 1); zeros for fewer than two samples."""
        if self.n < 2:
            return np.zeros_like(self._scatter)
        cov = self._scatter / (self.n - 1)
        return 0.5 * (cov + cov.T)

    # --- persistence -----------------------------------------------------------------------
    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        return {
            f"{prefix}n": np.asarray(self.n, dtype=np.int64),
            f"{prefix}mean": self._mean,
            f"{prefix}scatter": self._scatter,
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "") -> FeatureStats:
        mean = np.asarray(arrays[f"{prefix}mean"], dtype=np.float64)
        scatter = np.asarray(arrays[f"{prefix}scatter"], dtype=np.float64)
        if mean.ndim != 1 or scatter.shape != (mean.shape[0], mean.shape[0]):
            raise ValueError("malformed statistics arrays")
        out = cls(mean.shape[0])
        out.n = int(arrays[f"{prefix}n"])
        out._mean, out._scatter = mean.copy(), scatter.copy()
        return out

    def save(self, path, meta: dict | None = None) -> None:
        """Write an ``.npz`` (``n``, ``mean``, ``scatter``, plus ``mu``/``sigma`` for other tools)
        to a path (atomically) or an open binary file."""
        arrays = self.to_arrays()
        arrays["mu"] = self.mean
        arrays["sigma"] = self.covariance
        arrays["meta"] = np.asarray(json.dumps(meta or {}, sort_keys=True))
        if hasattr(path, "write"):
            np.savez(path, **arrays)  # type: ignore[arg-type]  # numpy's stubs fear a key named allow_pickle
            return
        from genai_engine.files import atomic_write

        atomic_write(path, lambda handle: np.savez(handle, **arrays))  # type: ignore[arg-type]  # numpy's stubs fear a key named allow_pickle

    @classmethod
    def load(cls, path: str | os.PathLike) -> tuple[FeatureStats, dict]:
        """Read an ``.npz`` written by ``save``; returns (stats, meta)."""
        with np.load(Path(path), allow_pickle=False) as data:
            stats = cls.from_arrays(data)
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
        return stats, meta

    def __repr__(self) -> str:
        return f"FeatureStats(dim={self.dim}, n={self.n})"
