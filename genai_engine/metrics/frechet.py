"""Fréchet distance between two Gaussians, in float64, via symmetric eigendecompositions.

    FD = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr sqrt(sqrt(S1) S2 sqrt(S1))

``sqrt(S1) S2 sqrt(S1)`` is symmetric positive semi-definite and similar to ``S1 S2``, so the
trace of the square root of ``S1 S2`` (the term the usual ``scipy.linalg.sqrtm`` formula
computes through a complex Schur decomposition) is the sum of the square roots of its
eigenvalues. Any factor ``F F^T = S1`` gives the same spectrum through ``F^T S2 F``: the
Cholesky factor of ``S1``, or of ``S2`` (the trace is symmetric), when one is positive
definite (cheapest: triangular products), else ``V sqrt(w)`` from ``eigh`` (both singular:
fewer samples than dimensions on both sides). Then one
eigenvalues-only ``eigh`` replaces ``sqrtm``: much faster, never complex. Eigenvalues that
round-off pushes below zero are clipped to zero, and so is a negative total.

LAPACK driver: scipy's ``eigh(driver="evr")`` (MRRR); ``numpy.linalg.eigvalsh`` (``syevd``)
was 10x slower at d = 2048 with the OpenBLAS that numpy wheels ship.
"""

from __future__ import annotations

import numpy as np


def _linalg():
    """``scipy.linalg``, imported on first use: it is a quarter of a second of the app's start."""
    import scipy.linalg
    import scipy.linalg.blas  # noqa: F401 - makes ``.blas`` an attribute

    return scipy.linalg


def _as_stats(mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"mean {mu.shape} and covariance {sigma.shape} do not match")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError("statistics contain NaN or infinity")
    return mu, sigma


def cholesky_or_none(sigma: np.ndarray) -> np.ndarray | None:
    """The lower Cholesky factor of a positive definite matrix; None when it is not one."""
    try:
        factor = _linalg().cholesky(0.5 * (sigma + sigma.T), lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    return factor if np.isfinite(factor).all() else None


def psd_factor(sigma: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(F, lower)``: ``F F^T = sigma`` for a (numerically) positive semi-definite matrix.

    The Cholesky factor (``lower=True``, cheap) when ``sigma`` is positive definite; otherwise,
    for singular or nearly singular matrices, ``V sqrt(max(w, 0))`` from ``eigh``.
    """
    factor = cholesky_or_none(sigma)
    if factor is not None:
        return factor, True
    sym = 0.5 * (sigma + sigma.T)
    w, v = _linalg().eigh(sym, driver="evr", check_finite=False)
    np.clip(w, 0.0, None, out=w)
    return v * np.sqrt(w), False


def psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a (numerically) positive semi-definite matrix."""
    sym = 0.5 * (sigma + sigma.T)
    w, v = _linalg().eigh(sym, driver="evr", check_finite=False)
    np.clip(w, 0.0, None, out=w)
    return (v * np.sqrt(w)) @ v.T


def trace_sqrt_product(
    sigma1: np.ndarray, sigma2: np.ndarray, factor1: tuple[np.ndarray, bool] | None = None
) -> float:
    """``tr sqrt(S1 S2)`` for PSD ``S1``, ``S2``; pass ``factor1 = psd_factor(S1)`` to reuse it.

    With ``F F^T = S1``, ``F^T S2 F`` is symmetric positive semi-definite and has the
    eigenvalues of ``S1 S2``; only its eigenvalues are computed.
    """
    factor, lower = psd_factor(sigma1) if factor1 is None else factor1
    if lower:  # Cholesky: two triangular products, half the work of general ones
        trmm = _linalg().blas.get_blas_funcs("trmm", (factor, sigma2))
        right = trmm(1.0, factor, sigma2, side=1, lower=1)  # S2 F
        middle = trmm(1.0, factor, right, side=0, lower=1, trans_a=1, overwrite_b=1)  # F^T S2 F
    else:
        middle = factor.T @ sigma2 @ factor
    middle = 0.5 * (middle + middle.T)
    eig = _linalg().eigh(middle, eigvals_only=True, driver="evr", check_finite=False)
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
    # tr sqrt(S1 S2) = tr sqrt(S2 S1): factor whichever side Cholesky accepts (with few
    # generated samples, their covariance is singular but the real one is not), and fall back
    # to the eigendecomposition only when both are singular.
    factor = cholesky_or_none(sigma1)
    if factor is not None:
        trace_term = trace_sqrt_product(sigma1, sigma2, (factor, True))
    else:
        factor = cholesky_or_none(sigma2)
        if factor is not None:
            trace_term = trace_sqrt_product(sigma2, sigma1, (factor, True))
        else:
            trace_term = trace_sqrt_product(sigma1, sigma2)
    value = float(diff @ diff) + float(np.trace(sigma1)) + float(np.trace(sigma2)) - 2.0 * trace_term
    return max(value, 0.0)


def frechet_distance_stats(a, b) -> float:
    """``frechet_distance`` of two ``FeatureStats`` (or anything with mean and covariance)."""
    return frechet_distance(a.mean, a.covariance, b.mean, b.covariance)
