"""Nearest training images: exact, matches brute force, and the whole memorisation check."""

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.analysis.memorisation import (
    MemorisationProgress,
    MemorisationResult,
    memorisation_check,
    nearest_neighbours,
)
from genai_engine.errors import GenAIError
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig, build_model
from genai_engine.tasks import TaskControl, drain


def brute_force(queries, references, k):
    q = queries.reshape(len(queries), -1).astype(np.float64)
    r = references.reshape(len(references), -1).astype(np.float64)
    if queries.dtype == np.uint8:
        q, r = q / 255, r / 255
    d = np.sqrt(((q[:, None, :] - r[None]) ** 2).sum(-1))
    order = np.lexsort((np.broadcast_to(np.arange(len(r)), d.shape), d), axis=1)[:, :k]
    return order, np.take_along_axis(d, order, 1)


def test_a_training_image_finds_itself_at_distance_zero():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (3000, 28, 28, 1), dtype=np.uint8)
    picks = np.array([0, 17, 1234, 2999])
    idx, dist = nearest_neighbours(train[picks], train, k=3, reference_chunk=1000)
    assert idx[:, 0].tolist() == picks.tolist()
    assert np.all(dist[:, 0] == 0.0)
    assert np.all(dist[:, 1] > 0) and np.all(np.diff(dist, axis=1) >= 0)


def test_matches_brute_force_on_images_and_features():
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, (500, 6, 6, 1), dtype=np.uint8)
    queries = rng.integers(0, 256, (9, 6, 6, 1), dtype=np.uint8)
    for chunk in (7, 64, 10_000):  # merging across many chunks must not lose a neighbour
        idx, dist = nearest_neighbours(queries, train, k=4, reference_chunk=chunk)
        b_idx, b_dist = brute_force(queries, train, 4)
        assert np.array_equal(idx, b_idx)
        assert np.allclose(dist, b_dist, atol=1e-9)
    features = rng.normal(size=(800, 16)).astype(np.float32)
    q = rng.normal(size=(5, 16)).astype(np.float32)
    idx, dist = nearest_neighbours(q, features, k=5, reference_chunk=100)
    b_idx, b_dist = brute_force(q, features, 5)
    assert np.array_equal(idx, b_idx) and np.allclose(dist, b_dist, atol=1e-9)


def test_duplicates_tie_by_index_and_k_is_capped():
    train = np.zeros((4, 3, 3, 1), np.uint8)
    idx, dist = nearest_neighbours(train[:1], train, k=10)
    assert idx.tolist() == [[0, 1, 2, 3]] and np.all(dist == 0)
    with pytest.raises(GenAIError):
        nearest_neighbours(np.zeros((1, 4, 4, 1), np.uint8), train)


@pytest.fixture(scope="module")
def toy():
    return make_toy_dataset()


@pytest.fixture(scope="module")
def model(toy):
    import torch

    torch.manual_seed(0)
    return VAEInference(build_model(ModelConfig(hidden=(32,), latent_dim=3, image_shape=toy.image_shape)))


def test_memorisation_check_in_pixel_and_encoder_space(model, toy):
    cache = {}
    records = list(memorisation_check(model, toy.train.images, train_labels=toy.train.labels,
                                      test_images=toy.test.images, n_samples=6, k=3, seed=2,
                                      baseline_n=50, feature_cache=cache))
    result = records[-1]
    assert isinstance(result, MemorisationResult)
    assert all(isinstance(r, MemorisationProgress) for r in records[:-1])
    assert result.samples.shape == (6, 12, 12, 1) and set(result.spaces) == {"pixel", "encoder"}
    assert np.array_equal(result.samples, model.sample(6, 2))
    pixel = result.spaces["pixel"]
    assert pixel.indices.shape == (6, 3) and len(pixel.baseline) == 50
    assert np.array_equal(pixel.indices, brute_force(result.samples, toy.train.images, 3)[0])
    codes = model.encode(toy.train.images)[0]
    enc = result.spaces["encoder"]
    assert np.array_equal(enc.indices, brute_force(model.encode(result.samples)[0], codes, 3)[0])
    assert cache["encoder"].shape == (len(toy.train.images), 3)
    share = pixel.percentile()
    assert share.shape == (6,) and np.all((share >= 0) & (share <= 1))
    # The cache is used: a second run does not announce feature computation again.
    again = list(memorisation_check(model, toy.train.images, n_samples=2, feature_cache=cache,
                                    spaces=("encoder",)))
    assert not any("features" in r.message for r in again if isinstance(r, MemorisationProgress))
    assert again[-1].spaces["encoder"].baseline.shape == (0,)


def test_cancel_and_unknown_space(model, toy):
    control = TaskControl()
    records = []
    for record in memorisation_check(model, toy.train.images, n_samples=2, control=control):
        records.append(record)
        control.cancel()
    assert not any(isinstance(r, MemorisationResult) for r in records)
    with pytest.raises(GenAIError):
        drain(memorisation_check(model, toy.train.images, spaces=("pixels",)))
    # No domain network passed: the domain space is skipped, not an error.
    result = drain(memorisation_check(model, toy.train.images, n_samples=2, spaces=("pixel", "domain")))
    assert set(result.spaces) == {"pixel"}
