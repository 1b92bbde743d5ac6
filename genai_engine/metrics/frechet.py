"""Fréchet distance between two Gaussians, in float64, via symmetric eigendecompositions.

    FD = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr sqrt(sqrt(S1) S2 sqrt(S1))

``sqrt(S1) S2 sqrt(S1)`` is symmetric positive semi-definite and similar to ``S1 S2``, so the
trace of the square root of ``S1 S2`` (the term the usual ``scipy.linalg.sqrtm`` formula
computes through a complex Schur decomposition) is the sum of the square roots of its
eigenvalues. Two ``eigh`` calls replace ``sqrtm``: faster, never complex, and well defined when
a covariance is singular (fewer samples than dimensions). Eigenvalues that round-off pushes
below zero are clipped to zero, and so is a negative total.
"""

from __future__ import annotations

import numpy as np


def _as_stats(mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"mean {mu.shape} and covariance {sigma.shape} do not match")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError("statistics contain NaN or infinity")
    return mu, sigma


def psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a (numerically) positive semi-definite matrix."""
    sym = 0.5 * (sigma + sigma.T)
    w, v = np.linalg.eigh(sym)
    np.clip(w, 0.0, None, out=w)
    return (v * np.sqrt(w)) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, sqrt1: np.ndarray | None = None) -> float:
    """``tr sqrt(S1 S2)`` for PSD ``S1``, ``S2``; pass ``sqrt1 = psd_sqrt(S1)`` to reuse it."""
    root = psd_sqrt(sigma1) if sqrt1 is None else sqrt1
    middle = root @ sigma2 @ root
    middle = 0.5 * (middle + middle.T)
    eig = np.linalg.eigvalsh(middle)
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2); a float >= 0.

    Symmetric in its two Gaussians, float64 throughout; singular or nearly singular
    covariances give a finite answer (never NaN, never a complex-part error).
    """
    mu1, sigma1 = _as_stats(mu1, sigma1)
    mu2, sigma2 = _as_stats(mu2, sigma2)
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature dimensions differ: {mu1.shape[0]} and {mu2.shape[0]}")
    diff = mu1 - mu2
    # The trace term is symmetric in exact arithmetic; taking the square root of the
    # better-conditioned side is no more accurate in practice, so use sigma1 as given.
    value = (
        float(diff @ diff)
        + float(np.trace(sigma1))
        + float(np.trace(sigma2))
        - 2.0 * trace_sqrt_product(sigma1, sigma2)
    )
    return max(value, 0.0)


def frechet_distance_stats(a, b) -> float:
    """``frechet_distance`` of two ``FeatureStats`` (or anything with mean and covariance)."""
    return frechet_distance(a.mean, a.covariance, b.mean, b.covariance)
