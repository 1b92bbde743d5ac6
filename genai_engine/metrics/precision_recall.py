"""Improved precision and recall (Kynkäänniemi et al. 2019) on feature k-NN manifolds.

Each feature set approximates its manifold by balls around every sample with radius the
distance to its k-th nearest neighbour in the same set. Precision is the fraction of generated
samples inside the real manifold (quality); recall is the fraction of real samples inside the
generated manifold (coverage). Pairwise distances are computed block by block as
``|a|^2 + |b|^2 - 2 a.b`` with matrix products, so memory stays at one block of rows.
"""

from __future__ import annotations

import numpy as np

DEFAULT_K = 3


def _sq_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x, dtype=np.float64).astype(np.float32)


def _sq_distances(a: np.ndarray, a_sq: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    d = a @ b.T
    d *= -2.0
    d += a_sq[:, None]
    d += b_sq[None, :]
    np.maximum(d, 0.0, out=d)
    return d


def knn_radii(x: np.ndarray, k: int = DEFAULT_K, block: int = 1024) -> np.ndarray:
    """Squared distance from each row of ``x`` to its k-th nearest other row."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = len(x)
    if n <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples per side")
    sq = _sq_norms(x)
    radii = np.empty(n, dtype=np.float32)
    for start in range(0, n, block):
        d = _sq_distances(x[start : start + block], sq[start : start + block], x, sq)
        # the sample itself sits at distance ~0, so the k-th neighbour is at index k
        radii[start : start + block] = np.partition(d, k, axis=1)[:, k]
    return radii


def precision_recall(
    real: np.ndarray,
    fake: np.ndarray,
    k: int = DEFAULT_K,
    real_radii: np.ndarray | None = None,
    block: int = 1024,
) -> tuple[float, float]:
    """``(precision, recall)`` of generated features ``fake`` against ``real`` (n, d) arrays.

    ``real_radii`` (from ``knn_radii(real, k)``) may be passed to reuse a cached value.
    """
    real = np.ascontiguousarray(real, dtype=np.float32)
    fake = np.ascontiguousarray(fake, dtype=np.float32)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature shapes {real.shape} and {fake.shape} do not match")
    if real_radii is None:
        real_radii = knn_radii(real, k, block)
    fake_radii = knn_radii(fake, k, block)
    # One pass over the real-vs-fake distances answers both questions.
    real_sq, fake_sq = _sq_norms(real), _sq_norms(fake)
    fake_inside = np.empty(len(fake), dtype=bool)
    real_inside = np.zeros(len(real), dtype=bool)
    for start in range(0, len(fake), block):
        stop = start + block
        d = _sq_distances(fake[start:stop], fake_sq[start:stop], real, real_sq)
        fake_inside[start:stop] = (d <= real_radii[None, :]).any(axis=1)
        real_inside |= (d <= fake_radii[start:stop, None]).any(axis=0)
    return float(fake_inside.mean()), float(real_inside.mean())
