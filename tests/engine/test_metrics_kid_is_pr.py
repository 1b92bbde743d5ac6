"""KID, Inception Score, precision/recall and the FID bootstrap on hand-checkable cases."""

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from genai_engine.metrics.bootstrap import fid_bootstrap
from genai_engine.metrics.frechet import frechet_distance
from genai_engine.metrics.inception_score import inception_score
from genai_engine.metrics.kid import kernel_inception_distance, mmd2_unbiased
from genai_engine.metrics.precision_recall import knn_radii, precision_recall


def mmd2_loops(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1.0) ** 3  # noqa: E731
    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    kxy = sum(k(a, b) for a in x for b in y) / (m * n)
    return kxx + kyy - 2 * kxy


def test_mmd_matches_the_definition():
    rng = np.random.default_rng(0)
    x, y = rng.random((5, 3)).astype(np.float32), rng.random((6, 3)).astype(np.float32) + 0.5
    assert mmd2_unbiased(x, y) == pytest.approx(mmd2_loops(x.astype(float), y.astype(float)), rel=1e-5)


def test_kid_small_for_same_distribution_large_for_different():
    rng = np.random.default_rng(1)
    a, b = rng.random((400, 16)), rng.random((400, 16))
    far = rng.random((400, 16)) + 1.0
    same_mean, same_std = kernel_inception_distance(a, b, num_subsets=20, max_subset_size=200)
    far_mean, _ = kernel_inception_distance(a, far, num_subsets=20, max_subset_size=200)
    assert abs(same_mean) < 3 * same_std + 1e-3
    assert far_mean > 0.5
    # repeatable with a seed
    once = kernel_inception_distance(a, far, 5, 100, seed=3)
    assert once == kernel_inception_distance(a, far, 5, 100, seed=3)


def test_inception_score_extremes():
    k = 10
    uniform = np.zeros((100, k))
    assert inception_score(uniform, splits=5)[0] == pytest.approx(1.0)
    confident = np.full((100, k), -50.0)
    confident[np.arange(100), np.arange(100) % k] = 50.0
    mean, std = inception_score(confident, splits=10)
    assert mean == pytest.approx(k, rel=1e-6) and std < 1e-6
    one_class = np.full((100, k), -50.0)
    one_class[:, 3] = 50.0
    assert inception_score(one_class, splits=1)[0] == pytest.approx(1.0, abs=1e-6)


def brute_pr(real, fake, k):
    rr, ff, rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    r_rad = np.sort(rr, axis=1)[:, k]
    f_rad = np.sort(ff, axis=1)[:, k]
    precision = np.mean([(rf[:, j] <= r_rad).any() for j in range(len(fake))])
    recall = np.mean([(rf[i, :] <= f_rad).any() for i in range(len(real))])
    return precision, recall


def test_precision_recall_hand_cases():
    grid = np.array([[i, j] for i in range(6) for j in range(6)], dtype=np.float32)
    assert precision_recall(grid, grid, k=3) == (1.0, 1.0)
    assert precision_recall(grid, grid + 100.0, k=3) == (0.0, 0.0)
    # generated samples cover only the left half: all realistic, half the variety
    left = grid[grid[:, 0] < 3]
    p, r = precision_recall(grid, left, k=3)
    assert p == 1.0 and 0.4 <= r < 1.0
    np.testing.assert_allclose(knn_radii(grid, 1), np.ones(len(grid)))  # nearest grid neighbour


def test_precision_recall_matches_brute_force():
    rng = np.random.default_rng(4)
    real = rng.standard_normal((300, 8)).astype(np.float32)
    fake = (rng.standard_normal((250, 8)) * 1.3 + 0.4).astype(np.float32)
    ours = precision_recall(real, fake, k=3, block=64)
    ref = brute_pr(real.astype(float), fake.astype(float), 3)
    assert ours[0] == pytest.approx(ref[0], abs=2 / 250)  # float32 ties on a ball's edge at most
    assert ours[1] == pytest.approx(ref[1], abs=2 / 300)


def test_bootstrap_interval_brackets_the_estimate():
    rng = np.random.default_rng(5)
    real, fake = rng.standard_normal((2000, 6)), rng.standard_normal((2000, 6)) * 1.2 + 0.3
    fid = frechet_distance(real.mean(0), np.cov(real, rowvar=False), fake.mean(0), np.cov(fake, rowvar=False))
    both = fid_bootstrap(fake, real=real, replicates=60, seed=1)
    gen_only = fid_bootstrap(
        fake, real_mean=real.mean(0), real_cov=np.cov(real, rowvar=False), replicates=60, seed=1
    )
    for ci in (both, gen_only):
        assert ci.low < fid < ci.high and ci.high - ci.low < fid
        assert ci.estimate == pytest.approx(fid)
        # duplicates in resamples raise FID: the raw percentiles sit higher than the interval
        assert ci.percentile_high > ci.high
    assert both.resampled == "both" and gen_only.resampled == "generated"
    again = fid_bootstrap(fake, real=real, replicates=60, seed=1)
    assert (again.low, again.high) == (both.low, both.high)
    assert fid_bootstrap(fake, real=real, replicates=5, should_continue=lambda: False) is None
