"""Bootstrap confidence interval for FID.

Resamples the feature rows with replacement (as counts per row, so no resampled copy of the
features is built), recomputes mean, covariance and FID for each replicate, and reports the
interval. ``evaluate`` resamples the generated side only, holding the real
statistics fixed (they are the common reference models are compared against); passing real
rows resamples both sides. The interval shows how much FID would move with another draw of
samples of the same size; it does not remove FID's bias with respect to the sample size.

Resampling with replacement repeats images (about 37 % of each resample are repeats), and
fewer distinct images raise FID, so the raw bootstrap percentiles sit above the estimate, for
small FIDs entirely above it. The interval therefore keeps the bootstrap distribution's
spread around its median and places it around the estimate: ``[fid - (q50 - q_lo),
fid + (q_hi - q50)]`` (the percentile interval shifted by the bootstrap's estimate of that
bias), clipped at 0. The raw percentiles are kept in ``percentile_low``/``percentile_high``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genai_engine.metrics.frechet import frechet_distance, psd_factor, trace_sqrt_product


@dataclass
class BootstrapCI:
    low: float
    high: float
    estimate: float
    percentile_low: float
    percentile_high: float
    confidence: float
    replicates: int
    resampled: str  # "both" or "generated"
    values: np.ndarray


class _Resampler:
    """Weighted mean and covariance of fixed rows, fast: the rows are centred once (float64)
    and kept in float32, so each replicate is one scaling pass and one float32 product."""

    def __init__(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64)
        self.n = len(rows)
        self.centre = rows.mean(axis=0)
        self.rows = np.ascontiguousarray(rows - self.centre, dtype=np.float32)

    def stats(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        counts = np.bincount(rng.integers(0, self.n, self.n), minlength=self.n)
        keep = np.flatnonzero(counts)  # about 37 % of rows are not drawn at all
        rows = self.rows[keep]
        weights = counts[keep].astype(np.float32)
        offset = (weights @ rows).astype(np.float64) / self.n  # resample mean - centre
        scatter = (rows * weights[:, None]).T @ rows
        cov = (scatter.astype(np.float64) - self.n * np.outer(offset, offset)) / (self.n - 1)
        return self.centre + offset, 0.5 * (cov + cov.T)


def fid_bootstrap(
    fake: np.ndarray,
    real: np.ndarray | None = None,
    real_mean: np.ndarray | None = None,
    real_cov: np.ndarray | None = None,
    replicates: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
    should_continue=None,
    estimate: float | None = None,
) -> BootstrapCI | None:
    """Bootstrap interval of FID between feature rows ``fake`` and the real side (see above).

    Give either ``real`` (rows, resampled too) or ``real_mean`` and ``real_cov`` (fixed).
    ``estimate`` is the FID the interval is placed around (default: the FID of these rows).
    ``should_continue()`` is polled between replicates; returning False stops early (the
    result is then ``None``). The weighted covariance products run in float32 on features
    centred once in float64 (a relative error near 1e-6, far below the bootstrap spread);
    the Fréchet distances stay float64.
    """
    if replicates < 2:
        return None
    fake = np.asarray(fake, dtype=np.float64)
    rng = np.random.default_rng(seed)
    fake_side = _Resampler(fake)
    if real is None:
        if real_mean is None or real_cov is None:
            raise ValueError("give real features or the real mean and covariance")
        real_mean = np.asarray(real_mean, dtype=np.float64)
        real_cov = np.asarray(real_cov, dtype=np.float64)
        fixed_factor = psd_factor(real_cov)
        fixed_trace = float(np.trace(real_cov))
        if estimate is None:
            estimate = frechet_distance(fake.mean(0), np.cov(fake, rowvar=False), real_mean, real_cov)
    else:
        real = np.asarray(real, dtype=np.float64)
        real_side = _Resampler(real)
        if estimate is None:
            estimate = frechet_distance(
                fake.mean(0), np.cov(fake, rowvar=False), real.mean(0), np.cov(real, rowvar=False)
            )
    values = np.empty(replicates, dtype=np.float64)
    for i in range(replicates):
        if should_continue is not None and not should_continue():
            return None
        mf, cf = fake_side.stats(rng)
        if real is None:
            mr, tr_r, tsp = real_mean, fixed_trace, trace_sqrt_product(real_cov, cf, fixed_factor)
        else:
            mr, cr = real_side.stats(rng)
            tr_r, tsp = float(np.trace(cr)), trace_sqrt_product(cr, cf)
        diff = mf - mr
        values[i] = max(0.0, float(diff @ diff) + tr_r + float(np.trace(cf)) - 2.0 * tsp)
    alpha = (1.0 - confidence) / 2.0
    q_low, q_mid, q_high = (float(q) for q in np.quantile(values, [alpha, 0.5, 1.0 - alpha]))
    return BootstrapCI(
        low=max(0.0, estimate - (q_mid - q_low)),
        high=estimate + (q_high - q_mid),
        estimate=estimate,
        percentile_low=q_low,
        percentile_high=q_high,
        confidence=confidence,
        replicates=replicates,
        resampled="generated" if real is None else "both",
        values=values,
    )
