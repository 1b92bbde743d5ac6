"""Fréchet distance: agreement with the scipy ``sqrtm`` formula, closed forms, singular inputs."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_engine.metrics.frechet import frechet_distance


def sqrtm_reference(mu1, s1, mu2, s2) -> float:
    """The classic formula (pytorch-fid / TTUR): tr sqrtm(S1 S2) via a Schur decomposition."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def random_stats(rng, d, n):
    x = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) * 0.3 + rng.standard_normal(d)
    return x.mean(0), np.cov(x, rowvar=False)


@pytest.mark.parametrize("d", [2, 16, 64, 160])
def test_matches_scipy_sqrtm_formula(d):
    rng = np.random.default_rng(d)
    mu1, s1 = random_stats(rng, d, 4 * d + 50)
    mu2, s2 = random_stats(rng, d, 4 * d + 50)
    ours = frechet_distance(mu1, s1, mu2, s2)
    ref = sqrtm_reference(mu1, s1, mu2, s2)
    assert ours == pytest.approx(ref, rel=1e-9)
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(ours, rel=1e-10)


def test_closed_forms():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0, rel=1e-12)
    # diagonal: sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = float(((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    value = frechet_distance(np.zeros(3), np.diag(a), np.zeros(3), np.diag(b))
    assert value == pytest.approx(expected, rel=1e-12)
    # mean shift only
    rng = np.random.default_rng(0)
    mu, s = random_stats(rng, 8, 100)
    shift = rng.standard_normal(8)
    assert frechet_distance(mu, s, mu + shift, s) == pytest.approx(shift @ shift, rel=1e-8)


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(1)
    mu, s = random_stats(rng, 128, 1000)
    assert 0.0 <= frechet_distance(mu, s, mu, s) < 1e-8


@pytest.mark.parametrize("n,d", [(10, 64), (3, 160), (2, 32)])
def test_singular_covariances_are_finite_and_nonnegative(n, d):
    rng = np.random.default_rng(n * d)
    x, y = rng.random((n, d)), rng.random((n, d))
    mu1, s1, mu2, s2 = x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False)
    value = frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(value) and value >= 0.0
    # same singular statistics: zero up to round-off, never negative
    assert 0.0 <= frechet_distance(mu1, s1, mu1, s1) < 1e-8
    # all-zero covariances reduce to the squared mean distance
    zero = np.zeros((d, d))
    assert frechet_distance(mu1, zero, mu2, zero) == pytest.approx(float((mu1 - mu2) @ (mu1 - mu2)))


def test_one_singular_side_uses_either_factorisation_consistently():
    from genai_engine.metrics.frechet import psd_factor, trace_sqrt_product

    rng = np.random.default_rng(7)
    few = rng.random((20, 48))  # singular covariance
    many = rng.random((500, 48))  # positive definite
    s_few, s_many = np.cov(few, rowvar=False), np.cov(many, rowvar=False)
    fd = frechet_distance(few.mean(0), s_few, many.mean(0), s_many)
    assert frechet_distance(many.mean(0), s_many, few.mean(0), s_few) == pytest.approx(fd, rel=1e-10)
    # the eigendecomposition route on the singular side gives the same trace term
    eig_route = trace_sqrt_product(s_few, s_many, psd_factor(s_few))
    chol_route = trace_sqrt_product(s_many, s_few)
    assert eig_route == pytest.approx(chol_route, rel=1e-7)


def test_nearly_singular_with_negative_roundoff():
    rng = np.random.default_rng(3)
    v = rng.standard_normal((64, 3))
    s = v @ v.T  # rank 3
    s -= 1e-12 * np.eye(64)  # tiny negative eigenvalues, as round-off makes them
    value = frechet_distance(np.zeros(64), s, np.zeros(64), s)
    assert np.isfinite(value) and 0.0 <= value < 1e-6


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.array([[np.nan, 0], [0, 1]]), np.zeros(2), np.eye(2))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(2, 30), st.integers(0, 2**31 - 1))
def test_properties(d, n, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, d)), 2 * rng.standard_normal((n, d)) + 1
    s1 = np.atleast_2d(np.cov(x, rowvar=False))
    s2 = np.atleast_2d(np.cov(y, rowvar=False))
    fd = frechet_distance(x.mean(0), s1, y.mean(0), s2)
    assert np.isfinite(fd) and fd >= 0
    assert frechet_distance(y.mean(0), s2, x.mean(0), s1) == pytest.approx(fd, rel=1e-7, abs=1e-9)
    # triangle-like sanity: the distance of a Gaussian to itself is the smallest
    assert frechet_distance(x.mean(0), s1, x.mean(0), s1) <= fd + 1e-9
