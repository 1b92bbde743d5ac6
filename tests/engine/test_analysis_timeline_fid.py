"""FID per epoch: one row per decoder snapshot, equal to ``evaluate`` on that epoch's samples."""

from __future__ import annotations

import numpy as np
import pytest

from genai_engine.analysis.timeline import TimelineDecoder
from genai_engine.analysis.timeline_fid import (
    NO_TIMELINE,
    TimelineFidProgress,
    TimelineFidResult,
    format_timeline,
    has_timeline,
    timeline_fid,
)
from genai_engine.checkpoints import load_checkpoint
from genai_engine.data import Dataset, ImageSet, load_dataset
from genai_engine.errors import GenAIError
from genai_engine.families.base import prior_samples
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.metrics.evaluate import EvalProgress, EvalResult, evaluate
from genai_engine.metrics.features import domain
from genai_engine.tasks import TaskControl, drain
from genai_engine.training import TrainConfig, train

N = 300  # samples per epoch: small, and above the domain network's 128 dimensions
EPOCHS = 3
SMALL = dict(n=N, kid_subsets=5, device="cpu")
pytestmark = pytest.mark.skipif(not domain.default_weights_path().is_file(),
                                reason="the shipped domain network is missing")


@pytest.fixture(scope="module")
def small_fashion() -> Dataset:
    full = load_dataset("fashion-mnist")
    return Dataset("fashion-small", ImageSet(full.train.images[:1500], full.train.labels[:1500]),
                   ImageSet(full.test.images[:400], full.test.labels[:400]))


@pytest.fixture(scope="module")
def checkpoint(small_fashion, tmp_path_factory):
    out = tmp_path_factory.mktemp("timeline-fid")
    done = drain(train(small_fashion, ModelConfig(hidden=(32,), latent_dim=4,
                                                  image_shape=small_fashion.image_shape),
                       TrainConfig(epochs=EPOCHS, batch_size=100, device="cpu"), out_dir=out))
    return load_checkpoint(done.checkpoint)


@pytest.fixture(scope="module")
def run(checkpoint, small_fashion, tmp_path_factory):
    """All records of one run (real statistics not cached yet)."""
    cache = tmp_path_factory.mktemp("stats-cache")
    records = list(timeline_fid(checkpoint, small_fashion, cache_dir=cache, **SMALL))
    return records, cache


def test_one_row_per_snapshot(run, checkpoint, small_fashion):
    records, _ = run
    result = records[-1]
    assert isinstance(result, TimelineFidResult)
    assert all(isinstance(r, EvalProgress) for r in records[:-1])
    assert result.epochs.tolist() == [1, 2, 3] == [int(e["epoch"]) for e in checkpoint.timeline]
    assert all(row.n == N and row.fid > 0 and row.kid_mean is not None for row in result.rows)
    assert result.n_fake == N and result.n_real == len(small_fashion.test)
    assert result.features == "domain" and "domain" in result.feature_label
    assert not result.real_cache_hit
    assert result.fids[0] != result.fids[-1]  # training changed the samples
    # each epoch's row also arrives on the progress record that ends it, for live plots
    ends = [r.row for r in records if isinstance(r, TimelineFidProgress) and r.row is not None]
    assert ends == result.rows
    text = format_timeline(result)
    assert "domain CNN" in text and len(text.splitlines()) == 2 + EPOCHS + 1


def test_real_statistics_are_computed_once(run, checkpoint, small_fashion):
    records, cache = run
    stages = [r.stage for r in records[:-1]]
    first_epoch = stages.index("epoch")
    assert "real features" not in stages[first_epoch:]
    real_done = [r.done for r in records[:-1] if r.stage == "real features"]
    assert real_done[-1] == len(small_fashion.test)  # every real image once, no more
    again = drain(timeline_fid(checkpoint, small_fashion, cache_dir=cache, **SMALL))
    assert again.real_cache_hit and np.array_equal(again.fids, records[-1].fids)


def test_an_epoch_equals_evaluate_on_its_samples(run, checkpoint, small_fashion):
    records, cache = run
    result = records[-1]
    decoder = TimelineDecoder(checkpoint)
    z = prior_samples(N, checkpoint.model_config.latent_dim, 0)
    for index in (0, EPOCHS - 1):
        epoch = result.rows[index].epoch
        images = decoder.at(epoch).decode(z)  # N samples: one decode chunk, as timeline_fid
        reference = drain(evaluate(small_fashion, images, kid_subsets=5, precision_recall_k=None,
                                   inception_score_splits=None, bootstrap=0, device="cpu",
                                   cache_dir=cache))
        assert isinstance(reference, EvalResult) and reference.n_fake == N
        assert result.rows[index].fid == pytest.approx(reference.fid, rel=1e-9, abs=1e-12)
        assert result.rows[index].kid_mean == pytest.approx(reference.kid_mean, rel=1e-9, abs=1e-12)
        assert result.feature_network_id == reference.feature_network_id


def test_cancel_stops_early(checkpoint, small_fashion, tmp_path):
    control = TaskControl()
    records = []
    for record in timeline_fid(checkpoint, small_fashion, cache_dir=tmp_path, control=control,
                               **SMALL):
        records.append(record)
        if isinstance(record, TimelineFidProgress) and record.row is not None:
            control.cancel()  # after the first epoch
    assert records[-1].stage == "cancelled"
    assert not any(isinstance(r, TimelineFidResult) for r in records)
    finished = [r.row for r in records if isinstance(r, TimelineFidProgress) and r.row]
    assert [row.epoch for row in finished] == [1]


def test_cancel_during_the_real_statistics(checkpoint, small_fashion, tmp_path):
    control = TaskControl()
    records = []
    for record in timeline_fid(checkpoint, small_fashion, cache_dir=tmp_path, control=control,
                               **SMALL):
        records.append(record)
        if record.stage == "real features":
            control.cancel()
    assert records[-1].stage == "cancelled"
    assert not any(r.stage == "epoch" for r in records)
    assert not list(tmp_path.iterdir())  # nothing half-done was cached


def test_a_checkpoint_without_a_timeline(checkpoint, small_fashion):
    bare = load_checkpoint(checkpoint.path)
    bare.raw = {k: v for k, v in bare.raw.items() if k != "timeline"}
    assert has_timeline(checkpoint) and not has_timeline(bare) and not has_timeline(None)
    with pytest.raises(GenAIError, match="no per-epoch snapshots") as caught:
        next(timeline_fid(bare, small_fashion, **SMALL))
    assert str(caught.value) == NO_TIMELINE


def test_bad_arguments(checkpoint, small_fashion):
    with pytest.raises(GenAIError, match="feature network"):
        next(timeline_fid(checkpoint, small_fashion, features="vgg"))
    with pytest.raises(GenAIError, match="two samples"):
        next(timeline_fid(checkpoint, small_fashion, n=1))


def test_a_model_without_a_latent_is_sampled_with_each_epochs_weights(small_fashion, tmp_path):
    """An autoregressive model has no decoder to swap: each epoch's snapshot samples itself."""
    from genai_engine.families.autoregressive.config import ARConfig

    config = ARConfig(levels=4, width=8, layers=1, heads=1, image_shape=small_fashion.image_shape)
    done = drain(train(small_fashion, config, TrainConfig(epochs=2, batch_size=250, device="cpu"),
                       family="autoregressive", out_dir=tmp_path / "ar"))
    checkpoint = load_checkpoint(done.checkpoint)
    n = 140  # above the domain network's 128 dimensions; sequential sampling is the slow part
    result = drain(timeline_fid(checkpoint, small_fashion, n=n, kid_subsets=2, device="cpu",
                                cache_dir=tmp_path / "cache"))
    assert [row.epoch for row in result.rows] == [1, 2]
    # epoch 2's row is the FID of the epoch-2 weights' own samples (same seed, same chunking)
    images = TimelineDecoder(checkpoint).snapshot_at(2).sample(n, seed=0)
    reference = drain(evaluate(small_fashion, images, kid=False, precision_recall_k=None,
                               inception_score_splits=None, bootstrap=0, device="cpu",
                               cache_dir=tmp_path / "cache"))
    assert result.rows[1].fid == pytest.approx(reference.fid, rel=1e-9)
    assert result.rows[0].fid != result.rows[1].fid
