"""Streaming statistics and the reservoir: equal to batch computations, mergeable, saveable."""

import numpy as np
import pytest

from genai_engine.metrics.reservoir import FeatureReservoir
from genai_engine.metrics.statistics import FeatureStats


def feed(stats, x, cuts):
    for part in np.split(x, cuts):
        stats.update(part)
    return stats


def test_streaming_equals_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000, 20)) * rng.random(20) * 5 + rng.standard_normal(20)
    stats = feed(FeatureStats(20), x.astype(np.float32), [1, 7, 300, 301, 999])
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(stats.mean, x32.mean(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stats.covariance, np.cov(x32, rowvar=False), rtol=1e-10, atol=1e-12)
    assert stats.n == 1000


def test_merge_equals_single_pass_and_is_order_free():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((600, 8))
    whole = FeatureStats(8).update(x)
    parts = [FeatureStats(8).update(p) for p in np.split(x, [100, 350])]
    merged = FeatureStats(8)
    for part in reversed(parts):
        merged.merge(part)
    merged.merge(FeatureStats(8))  # empty: no-op
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(merged.covariance, whole.covariance, rtol=1e-11)
    with pytest.raises(ValueError):
        merged.merge(FeatureStats(9))


def test_update_moments_equals_update():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 6)) + 3.0
    direct = feed(FeatureStats(6), x, [50, 120])
    moments = FeatureStats(6)
    for part in np.split(x, [50, 120]):
        centred = part - part.mean(0)
        moments.update_moments(len(part), part.mean(0), centred.T @ centred)
    np.testing.assert_allclose(moments.mean, direct.mean, rtol=1e-13)
    np.testing.assert_allclose(moments.covariance, direct.covariance, rtol=1e-12)
    with pytest.raises(ValueError):
        moments.update_moments(2, np.zeros(5), np.zeros((5, 5)))


def test_large_offset_keeps_precision():
    # raw sum-of-outer-products loses ~all digits here; the centred update does not
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5000, 4)) + 1e7
    stats = feed(FeatureStats(4), x, [10, 2000])
    np.testing.assert_allclose(stats.covariance, np.cov(x, rowvar=False), rtol=1e-8, atol=1e-9)


def test_save_load_roundtrip(tmp_path):
    rng = np.random.default_rng(3)
    stats = FeatureStats(5).update(rng.standard_normal((50, 5)))
    path = tmp_path / "stats.npz"
    stats.save(path, {"network": "x"})
    loaded, meta = FeatureStats.load(path)
    assert meta == {"network": "x"} and loaded.n == 50
    np.testing.assert_array_equal(loaded.covariance, stats.covariance)
    with np.load(path) as raw:  # pytorch-fid style keys too
        np.testing.assert_array_equal(raw["mu"], stats.mean)
        np.testing.assert_array_equal(raw["sigma"], stats.covariance)


def test_rejects_bad_batches():
    stats = FeatureStats(3)
    with pytest.raises(ValueError):
        stats.update(np.zeros((4, 2)))
    with pytest.raises(ValueError):
        stats.update(np.array([[np.nan, 0, 0]]))
    assert stats.n == 0 and np.all(stats.covariance == 0)


def test_reservoir_independent_of_batching_and_uniform():
    x = np.arange(10_000, dtype=np.float32)[:, None]
    a = FeatureReservoir(500, 1, seed=7)
    for part in np.split(x, [3, 480, 4000, 9000]):
        a.update(part)
    b = FeatureReservoir(500, 1, seed=7)
    for part in np.split(x, 50):
        b.update(part)
    np.testing.assert_array_equal(a.rows, b.rows)
    assert len(np.unique(a.rows)) == 500 and a.seen == 10_000
    # uniform inclusion: kept rows spread over the whole stream
    counts, _ = np.histogram(a.rows[:, 0], bins=10, range=(0, 10_000))
    assert counts.min() > 25 and counts.max() < 80
    # below capacity it keeps everything in order
    c = FeatureReservoir(100, 1)
    c.update(x[:40])
    np.testing.assert_array_equal(c.rows, x[:40])
