"""Anomaly scores, per-class histograms, typical images and rank-based ROC AUC."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata
from toy_data import make_toy_dataset

from genai_engine.analysis.anomaly import (
    AnomalyScores,
    class_histograms,
    midranks,
    roc_auc,
    roc_curve,
    score_images,
    synthetic_outliers,
    typical,
)
from genai_engine.errors import GenAIError
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig, build_model
from genai_engine.tasks import TaskControl, drain
from genai_engine.training import TrainConfig, train


def brute_force_auc(normal, anomalous):
    wins = sum((a > n) + 0.5 * (a == n) for a in anomalous for n in normal)
    return wins / (len(normal) * len(anomalous))


@pytest.fixture(scope="module")
def toy():
    return make_toy_dataset()


@pytest.fixture(scope="module")
def inference(toy, tmp_path_factory):
    from genai_engine.checkpoints import load_checkpoint

    out = tmp_path_factory.mktemp("anomaly")
    done = drain(train(toy, ModelConfig(hidden=(64,), latent_dim=4, image_shape=toy.image_shape),
                       TrainConfig(epochs=3, batch_size=32, device="cpu"), out_dir=out))
    return VAEInference.from_checkpoint(load_checkpoint(done.checkpoint))


def test_auc_of_identical_and_separated_sets():
    scores = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    assert roc_auc(scores, scores) == 0.5
    assert roc_auc(np.full(7, 4.0), np.full(3, 4.0)) == 0.5  # all tied
    assert roc_auc([1, 2, 3], [10, 11]) == 1.0
    assert roc_auc([10, 11], [1, 2, 3]) == 0.0
    assert roc_auc([1, 2, np.nan], [3, np.nan]) == 1.0  # NaNs are ignored
    with pytest.raises(GenAIError):
        roc_auc([], [1.0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40),
       st.lists(st.integers(0, 6), min_size=1, max_size=40))
def test_auc_equals_a_brute_force_pairwise_count(normal, anomalous):
    # Small integers force many ties, the case a rank formula gets wrong without midranks.
    assert roc_auc(normal, anomalous) == pytest.approx(brute_force_auc(normal, anomalous), abs=1e-12)


def test_auc_on_random_data_matches_pairs_and_the_roc_curve_area():
    rng = np.random.default_rng(0)
    normal = rng.normal(0, 1, 300).round(1)
    anomalous = rng.normal(0.7, 1, 200).round(1)
    auc = roc_auc(normal, anomalous)
    assert auc == pytest.approx(brute_force_auc(normal, anomalous), abs=1e-12)
    assert 0.6 < auc < 0.8
    fpr, tpr = roc_curve(normal, anomalous)
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(auc, abs=1e-12)


def test_midranks_match_scipy():
    values = np.random.default_rng(1).integers(0, 10, 500).astype(float)
    assert np.array_equal(midranks(values), rankdata(values, method="average"))


def test_histograms_per_class_share_edges_and_count_every_image():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 1000)
    scores = rng.gamma(2.0, 10.0, 1000) + 20 * labels
    hist = class_histograms(scores, labels, ["a", "b", "c"], bins=25)
    assert hist.counts.shape == (3, 25) and len(hist.edges) == 26
    assert hist.counts.sum(1).tolist() == np.bincount(labels, minlength=3).tolist()
    assert hist.total.tolist() == hist.counts.sum(0).tolist()
    assert hist.overflow == (scores > hist.edges[-1]).sum() > 0  # the long tail goes to the last bin
    # A higher class's scores sit further right.
    centres = (hist.edges[:-1] + hist.edges[1:]) / 2
    means = (hist.counts * centres).sum(1) / hist.counts.sum(1)
    assert means[0] < means[1] < means[2]
    other = class_histograms(scores[:10], None, edges=hist.edges)
    assert np.array_equal(other.edges, hist.edges) and other.class_names == ["all"]


def test_typical_orders_by_score_and_skips_nan():
    scores = np.array([5.0, np.nan, 1.0, 9.0, 3.0])
    most, least = typical(scores, 2)
    assert most.tolist() == [2, 4] and least.tolist() == [3, 0]
    most, least = typical(scores, 10)
    assert len(most) == 4 and 1 not in most


def test_scores_separate_foreign_images(inference, toy):
    images = toy.test.images
    recon = drain(score_images(inference, images, method="recon"))
    assert isinstance(recon, AnomalyScores) and recon.scores.shape == (len(images),)
    # The reconstruction score is the engine's own reconstruction error.
    assert np.allclose(recon.scores, inference.reconstruction_error(images), rtol=1e-5)
    for kind in ("inverted", "noise"):
        foreign = drain(score_images(inference, synthetic_outliers(images, kind), method="recon"))
        assert roc_auc(recon.scores, foreign.scores) > 0.95, kind
    elbo = drain(score_images(inference, images, method="elbo", seed=5))
    again = drain(score_images(inference, images, method="elbo", seed=5))
    assert np.array_equal(elbo.scores, again.scores)
    assert np.corrcoef(elbo.scores, recon.scores)[0, 1] > 0.5  # in step with recon
    noise = drain(score_images(inference, synthetic_outliers(images, "noise"), method="elbo"))
    assert roc_auc(elbo.scores, noise.scores) > 0.95


def test_cancel_and_bad_input(inference, toy):
    control = TaskControl()
    control.cancel()
    result = drain(score_images(inference, toy.test.images, control=control))
    assert result.cancelled and np.isnan(result.scores).all()
    with pytest.raises(GenAIError):
        drain(score_images(inference, toy.test.images, method="magic"))
    with pytest.raises(GenAIError, match="12x12"):
        drain(score_images(inference, np.zeros((2, 28, 28, 1), np.uint8)))
    with pytest.raises(GenAIError):
        synthetic_outliers(toy.test.images, "sideways")
    assert synthetic_outliers(toy.test.images[:3], "flipped")[0, 0].tolist() == \
        toy.test.images[0, -1].tolist()


def test_conditional_model_without_labels_takes_the_best_class(toy):
    net = build_model(ModelConfig(hidden=(16,), latent_dim=2, image_shape=toy.image_shape, num_classes=3))
    images, labels = toy.test.images[:16], toy.test.labels[:16]
    given = drain(score_images(net, images, labels)).scores
    best = drain(score_images(net, images)).scores
    assert np.all(best <= given + 1e-9)
