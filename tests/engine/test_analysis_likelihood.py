"""IWAE likelihood estimates: k=1 is the ELBO, the bound tightens with k, cancel, repeatability."""

import math

import numpy as np
import pytest
import torch
from toy_data import make_toy_dataset

from genai_engine.analysis.likelihood import (
    LikelihoodProgress,
    LikelihoodResult,
    estimate_nll,
    format_result,
    iwae_bound,
    parse_ks,
)
from genai_engine.errors import GenAIError
from genai_engine.families.vae.nets import ModelConfig, build_model
from genai_engine.tasks import TaskControl, drain
from genai_engine.training import TrainConfig, train


@pytest.fixture(scope="module")
def toy():
    return make_toy_dataset()


@pytest.fixture(scope="module")
def trained(toy, tmp_path_factory):
    out = tmp_path_factory.mktemp("iwae")
    done = drain(train(toy, ModelConfig(hidden=(64,), latent_dim=4, image_shape=toy.image_shape),
                       TrainConfig(epochs=3, batch_size=32, device="cpu"), out_dir=out))
    from genai_engine.checkpoints import load_checkpoint

    return load_checkpoint(done.checkpoint)


def test_iwae_bound_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    log_w = torch.from_numpy(rng.normal(-50, 3, (5, 12)))
    # k=1: the mean log weight (the Monte-Carlo ELBO).
    assert torch.allclose(iwae_bound(log_w, 1), log_w.mean(1))
    # k=S: log-mean-exp of all weights; k=4: the mean over the three groups of four.
    lw = log_w.numpy()
    full = np.log(np.exp(lw - lw.max(1, keepdims=True)).mean(1)) + lw.max(1)
    assert np.allclose(iwae_bound(log_w, 12).numpy(), full)
    groups = lw.reshape(5, 3, 4)
    per_group = np.log(np.exp(groups - groups.max(2, keepdims=True)).mean(2)) + groups.max(2)
    assert np.allclose(iwae_bound(log_w, 4).numpy(), per_group.mean(1))
    # Jensen: the bound never falls as k grows, for any weights.
    assert (iwae_bound(log_w, 12) >= iwae_bound(log_w, 1) - 1e-12).all()


def test_k1_is_the_elbo_and_the_estimate_tightens_with_k(trained, toy):
    images = toy.test.images[:64]
    records = list(estimate_nll(trained.model, images, ks=(1, 10, 100), seed=1,
                                report_interval_s=0.0))
    result = records[-1]
    assert isinstance(result, LikelihoodResult) and not result.cancelled
    assert all(isinstance(r, LikelihoodProgress) for r in records[:-1])
    assert result.n_images == 64 and result.samples_per_image == 100
    nll = result.nll
    # k=1 averages 100 single-sample ELBOs per image: the analytic-KL ELBO to within noise.
    assert abs(nll[1] - result.elbo) < 0.01 * result.elbo
    assert abs(nll[1] - result.elbo) < 5 * result.nll_stderr[1] / math.sqrt(100) + 0.3
    # The bound tightens (the NLL estimate falls) as k grows, with diminishing gains.
    assert nll[1] > nll[10] > nll[100]
    assert nll[1] - nll[10] > nll[10] - nll[100] > 0
    # Per image, too (each k uses the same draws).
    assert (result.per_image[10] <= result.per_image[1] + 1e-9).mean() > 0.95
    # It lies close to the trainer's own test ELBO on the same images (same model).
    assert result.elbo == pytest.approx(trained.history["test_loss"][-1], rel=0.1)
    assert result.bits_per_dim(100) == pytest.approx(nll[100] / (144 * math.log(2)))
    assert "ELBO" in format_result(result)


def test_repeatable_for_a_seed_and_independent_of_the_batching(trained, toy):
    images = toy.test.images[:20]
    a = drain(estimate_nll(trained.model, images, ks=(1, 8), seed=3))
    b = drain(estimate_nll(trained.model, images, ks=(1, 8), seed=3))
    c = drain(estimate_nll(trained.model, images, ks=(1, 8), seed=4))
    assert a.nll == b.nll
    assert a.nll != c.nll
    small = drain(estimate_nll(trained.model, images, ks=(1, 8), seed=3, max_decodes=16))
    assert small.nll[8] == pytest.approx(a.nll[8], abs=3.0)  # other draws, same quantity


def test_cancel_returns_a_partial_result(trained, toy):
    control = TaskControl()
    records = []
    for record in estimate_nll(trained.model, toy.test.images, ks=(1, 4), max_decodes=40,
                               control=control, report_interval_s=0.0):
        records.append(record)
        if isinstance(record, LikelihoodProgress) and record.done >= 20:
            control.cancel()
    result = records[-1]
    assert isinstance(result, LikelihoodResult) and result.cancelled
    assert 20 <= result.n_images < len(toy.test.images)
    assert len(result.per_image[4]) == result.n_images


def test_round_trips_through_json(trained, toy):
    result = drain(estimate_nll(trained.model, toy.test.images[:10], ks="1,5"))
    again = LikelihoodResult.from_dict(result.to_dict())
    assert again.ks == [1, 5] and again.nll == pytest.approx(result.nll)
    assert again.bits_per_dim(5) == pytest.approx(result.bits_per_dim(5))
    with pytest.raises(GenAIError):
        LikelihoodResult.from_dict({"ks": [1]})


def test_rejects_bad_input(toy):
    assert parse_ks("100, 1,10,10") == (1, 10, 100)
    for bad in ("", "0", "a,b", "1,-3"):
        with pytest.raises(GenAIError):
            parse_ks(bad)
    conditional = build_model(ModelConfig(hidden=(16,), latent_dim=2, image_shape=toy.image_shape,
                                          num_classes=3))
    with pytest.raises(GenAIError, match="labels"):
        drain(estimate_nll(conditional, toy.test.images[:4], ks=(1,)))
    with_labels = drain(estimate_nll(conditional, toy.test.images[:4], toy.test.labels[:4], ks=(1, 2)))
    assert with_labels.n_images == 4
    plain = build_model(ModelConfig(hidden=(16,), latent_dim=2, image_shape=(1, 28, 28)))
    with pytest.raises(GenAIError, match="12x12"):
        drain(estimate_nll(plain, toy.test.images[:4], ks=(1,)))
