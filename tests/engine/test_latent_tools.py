"""The latent tools: encoding a split for the map, decoding one style as every class, paths
between endpoints, the order of the dimensions, and a snapshot's samples."""

import numpy as np
import pytest
from toy_data import make_toy_dataset
from untrained_gan import untrained_gan

from genai_engine.errors import GenAIError
from genai_engine.families.base import decode_each_class, prior_samples
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig, build_model
from genai_engine.latent import (
    DATASET,
    PRIOR,
    EncodedSplit,
    EncodeProgress,
    Endpoint,
    PathRequest,
    class_means,
    encode_split,
    endpoint_code,
    importance_measure,
    interpolate,
    lerp,
    slerp,
    sort_dims_by_importance,
)
from genai_engine.metrics.sources import fake_source
from genai_engine.sampling import sample_model
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


# -- interpolation paths and latent importance (moved from the Interpolate tab) ------------------

def test_a_path_decodes_the_chosen_method_between_encoded_and_prior_endpoints(toy):
    vae = model(toy, num_classes=3)
    start, end = Endpoint(DATASET, "test", 4), Endpoint(PRIOR, seed=7)
    z0 = endpoint_code(vae, toy, start)
    test = toy.test
    assert np.allclose(z0, vae.encode(test.images[4:5], test.labels[4:5])[0][0], atol=1e-6)
    assert np.array_equal(endpoint_code(vae, toy, end), prior_samples(1, 3, 7)[0])
    result = interpolate(vae, toy, PathRequest(start, end, 6, "slerp", label=2))
    z1 = prior_samples(1, 3, 7)[0]
    assert np.array_equal(result.frames, vae.decode(slerp(z0, z1, 6), np.full(6, 2)))
    assert np.allclose(result.norms["lerp"], np.linalg.norm(lerp(z0, z1, 6), axis=1))
    assert result.norms["slerp"][3] > result.norms["lerp"][3]  # lerp cuts the corner


def test_a_model_without_an_encoder_walks_between_prior_samples_only(toy):
    gan = untrained_gan(toy.image_shape, latent_dim=3)
    path = interpolate(gan, None, PathRequest(Endpoint(seed=1), Endpoint(seed=2), 4, "lerp"))
    z0, z1 = prior_samples(1, 3, 1)[0], prior_samples(1, 3, 2)[0]
    assert np.array_equal(path.frames, gan.decode(lerp(z0, z1, 4)))
    with pytest.raises(GenAIError, match="no encoder.*prior sample"):
        endpoint_code(gan, toy, Endpoint(DATASET, "test", 0))
    with pytest.raises(GenAIError, match="unknown interpolation"):
        interpolate(gan, None, PathRequest(Endpoint(), Endpoint(), 4, "cubic"))


def test_dimension_order_by_kl_or_by_sensitivity(toy):
    values = np.array([0.005, 3.0, 0.02, 1.0])
    order, active = sort_dims_by_importance(values, "KL")
    assert list(order) == [1, 3, 2, 0] and list(active) == [False, True, True, True]
    # A sensitivity has no unit: 1 % of the largest (0.03) is the line.
    order, active = sort_dims_by_importance(values, "sensitivity")
    assert list(order) == [1, 3, 2, 0] and list(active) == [False, True, False, True]
    assert importance_measure(model(toy)) == "KL"
    assert importance_measure(untrained_gan(toy.image_shape)) == "sensitivity"


def test_samples_of_a_snapshot_are_the_same_for_export_and_evaluation(toy):
    vae = model(toy, num_classes=3)
    images = sample_model(vae, 7, seed=5)
    assert np.array_equal(images, vae.sample(7, 5, labels=np.arange(7) % 3))
    source = fake_source(vae, 7, 5, "cpu")
    streamed = np.concatenate([batch for _, batch in source.shard(3, 0, 1)])
    assert np.array_equal(streamed, images)
    gan = untrained_gan(toy.image_shape, latent_dim=3)
    streamed = np.concatenate([batch for _, batch in fake_source(gan, 5, 1, "cpu").shard(2, 0, 1)])
    assert np.array_equal(streamed, sample_model(gan, 5, seed=1))
