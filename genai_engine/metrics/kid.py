"""Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with a cubic kernel.

``k(x, y) = (x . y / d + 1) ** 3``. The estimate is averaged over random subsets of both
feature sets (without replacement inside a subset), and the spread over subsets is reported
as its standard deviation. Unlike FID it is unbiased in the number of samples, so it can be
compared across sample sizes; it is small (often below 0.01), and can be slightly negative.
"""

from __future__ import annotations

import numpy as np


def _kernel_sum(a: np.ndarray, b: np.ndarray, dim: int, drop_diagonal: bool) -> float:
    # float32 product and kernel (in place), float64 sums: each kernel value carries a relative
    # error near 1e-7 that averages out over the million terms of a subset
    k = a @ b.T
    k *= np.float32(1.0 / dim)
    k += np.float32(1.0)
    cube = k * k
    cube *= k
    total = float(cube.sum(dtype=np.float64))
    if drop_diagonal:
        total -= float(np.trace(cube, dtype=np.float64))
    return total


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 between the rows of ``x`` (m, d) and ``y`` (n, d) with the cubic kernel."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError("KID needs at least two samples on each side")
    dim = x.shape[1]
    kxx = _kernel_sum(x, x, dim, True) / (m * (m - 1))
    kyy = _kernel_sum(y, y, dim, True) / (n * (n - 1))
    kxy = _kernel_sum(x, y, dim, False) / (m * n)
    return kxx + kyy - 2.0 * kxy


def kernel_inception_distance(
    real: np.ndarray,
    fake: np.ndarray,
    num_subsets: int = 100,
    max_subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID of two feature sets (n, d): ``(mean, std)`` over ``num_subsets`` random subsets.

    Each subset draws ``min(n_real, n_fake, max_subset_size)`` rows from each side without
    replacement (seeded, so repeatable). ``std`` is the population standard deviation of the
    subset estimates.
    """
    real = np.ascontiguousarray(real, dtype=np.float32)
    fake = np.ascontiguousarray(fake, dtype=np.float32)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature shapes {real.shape} and {fake.shape} do not match")
    m = min(len(real), len(fake), max_subset_size)
    if m < 2:
        raise ValueError("KID needs at least two samples on each side")
    rng = np.random.default_rng(seed)
    values = np.empty(max(1, num_subsets), dtype=np.float64)
    for i in range(len(values)):
        x = real[rng.choice(len(real), m, replace=False)] if m < len(real) else real
        y = fake[rng.choice(len(fake), m, replace=False)] if m < len(fake) else fake
        values[i] = mmd2_unbiased(x, y)
    return float(values.mean()), float(values.std())
