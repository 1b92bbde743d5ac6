"""Explore's engine side: encoding a split for the map and decoding one style as every class."""

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.families.base import decode_each_class
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig, build_model
from genai_engine.latent import EncodedSplit, EncodeProgress, class_means, encode_split
from genai_engine.tasks import TaskControl, drain


@pytest.fixture(scope="module")
def toy():
    return make_toy_dataset(n_train=64, n_test=130)


def model(toy, **kw) -> VAEInference:
    return VAEInference(build_model(ModelConfig(hidden=(16,), latent_dim=3,
                                                image_shape=toy.image_shape, **kw)))


def test_encode_split_reports_progress_then_the_encoded_split(toy):
    vae = model(toy)
    test = toy.test
    records = list(encode_split(vae, test.images, test.labels, 3, batch_size=50))
    assert [(r.done, r.total) for r in records[:-1]] == [(50, 130), (100, 130), (130, 130)]
    assert all(isinstance(r, EncodeProgress) for r in records[:-1])
    split = records[-1]
    assert isinstance(split, EncodedSplit) and split.model is vae
    mu, _ = vae.encode(test.images)
    assert np.allclose(split.codes, mu, atol=1e-5)
    assert split.xy.shape == (130, 2)
    assert np.allclose(split.xy, split.projection(split.codes))
    assert np.allclose(split.means, class_means(split.codes, test.labels, 3))


def test_encode_split_without_labels_and_cancelled(toy):
    vae = model(toy)
    split = drain(encode_split(vae, toy.test.images, None, 0))
    assert split.means is None and split.labels is None
    control = TaskControl()
    control.cancel()
    assert list(encode_split(vae, toy.test.images, toy.test.labels, 3, control)) == []


def test_a_conditional_model_encodes_with_the_labels(toy):
    vae = model(toy, num_classes=3)
    test = toy.test
    split = drain(encode_split(vae, test.images, test.labels, 3, batch_size=40))
    with_labels, _ = vae.encode(test.images, test.labels)
    without, _ = vae.encode(test.images, np.zeros(len(test.images), np.int64))
    assert np.allclose(split.codes, with_labels, atol=1e-5)
    assert not np.allclose(split.codes, without, atol=1e-3)


def test_decode_each_class_is_the_point_decoded_under_every_label(toy):
    vae = model(toy, num_classes=3)
    z = np.array([0.5, -1.0, 2.0], np.float32)
    grid = decode_each_class(vae, z, 3)
    assert grid.shape == (3, 12, 12, 1) and grid.dtype == np.uint8
    for k in range(3):
        assert np.array_equal(grid[k], vae.decode(z, np.array([k])))
