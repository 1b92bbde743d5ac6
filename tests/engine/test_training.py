import math
import threading

import numpy as np
import pytest
import torch
from toy_data import make_toy_dataset

from genai_engine.checkpoints import load_checkpoint
from genai_engine.errors import CheckpointError, GenAIError, TrainingDiverged
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.tasks import TaskControl, drain
from genai_engine.training import EpochRecord, StepRecord, TrainConfig, TrainingDone, train


def small_model(dataset, **kw):
    return ModelConfig(hidden=(64,), latent_dim=4, image_shape=dataset.image_shape, **kw)


def fast(**kw):
    return TrainConfig(**{"epochs": 2, "batch_size": 32, "lr": 3e-3, "device": "cpu", **kw})


def test_training_lowers_the_test_loss_and_writes_a_checkpoint(toy_dataset, tmp_path):
    records = list(train(toy_dataset, small_model(toy_dataset), fast(epochs=4), out_dir=tmp_path))
    epochs = [r for r in records if isinstance(r, EpochRecord)]
    done = records[-1]
    assert isinstance(done, TrainingDone) and done.reason == "completed"
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert epochs[-1].test_loss < epochs[0].test_loss
    assert all(math.isclose(e.test_loss, e.test["recon"] + e.test["kl"], rel_tol=1e-9) for e in epochs)
    assert epochs[-1].diagnostics["latent_importance"].shape == (4,)
    assert epochs[-1].preview.shape == (16, 12, 12, 1) and epochs[-1].preview.dtype == np.uint8
    assert any(isinstance(r, StepRecord) for r in records)
    checkpoint = load_checkpoint(done.checkpoint)
    assert checkpoint.epoch == 4
    assert checkpoint.history["test_loss"] == pytest.approx([e.test_loss for e in epochs])
    assert checkpoint.dataset["fingerprint"] == toy_dataset.fingerprint
    assert len(checkpoint.timeline) == 4
    assert checkpoint.family == "vae" and checkpoint.raw["format_version"] == 2
    assert checkpoint.diagnostics["latent_importance"].shape == (4,)


def test_seeded_cpu_runs_are_repeatable(toy_dataset):
    a = drain(train(toy_dataset, small_model(toy_dataset), fast(seed=7)))
    b = drain(train(toy_dataset, small_model(toy_dataset), fast(seed=7)))
    c = drain(train(toy_dataset, small_model(toy_dataset), fast(seed=8)))
    assert a.history["test_loss"] == b.history["test_loss"]
    assert a.history["test_loss"] != c.history["test_loss"]


def test_stop_then_resume_equals_an_uninterrupted_run(toy_dataset, tmp_path):
    straight = drain(train(toy_dataset, small_model(toy_dataset), fast(epochs=3)))
    control = TaskControl()
    for record in train(toy_dataset, small_model(toy_dataset), fast(epochs=3), out_dir=tmp_path,
                        control=control):
        if isinstance(record, EpochRecord) and record.epoch == 2:
            control.cancel()  # stop after epoch 2, before any step of epoch 3
    first = load_checkpoint(tmp_path / "checkpoint.pt")
    assert first.epoch == 2
    resumed = drain(train(toy_dataset, None, fast(epochs=3), out_dir=tmp_path, resume=first))
    assert resumed.epochs == 3
    assert resumed.history["test_loss"] == pytest.approx(straight.history["test_loss"], rel=1e-5)
    assert load_checkpoint(tmp_path / "checkpoint.pt").epoch == 3


def test_resume_refuses_a_different_dataset(toy_dataset, tmp_path):
    drain(train(toy_dataset, small_model(toy_dataset), fast(epochs=1), out_dir=tmp_path))
    other = make_toy_dataset(seed=1)
    with pytest.raises(CheckpointError, match="fingerprint"):
        drain(train(other, None, fast(), resume=load_checkpoint(tmp_path / "checkpoint.pt")))


def test_cancel_stops_between_steps_and_saves(toy_dataset, tmp_path):
    control = TaskControl()
    records = []
    for record in train(toy_dataset, small_model(toy_dataset), fast(epochs=50), out_dir=tmp_path,
                        control=control, report_interval_s=0.0):
        records.append(record)
        if isinstance(record, EpochRecord) and record.epoch == 2:
            control.cancel()
    done = records[-1]
    assert done.reason == "cancelled"
    assert done.epochs == 2
    checkpoint = load_checkpoint(done.checkpoint)
    assert checkpoint.epoch == 2  # a partial third epoch is not counted as trained


def test_pause_blocks_until_resumed(toy_dataset):
    control = TaskControl()
    steps = []
    generator = train(toy_dataset, small_model(toy_dataset), fast(epochs=3), control=control,
                      report_interval_s=0.0)
    steps.append(next(generator))
    control.pause()
    resumed_at = []
    timer = threading.Timer(0.3, lambda: (resumed_at.append(True), control.resume()))
    timer.start()
    steps.append(next(generator))  # blocks until the timer resumes the task
    assert resumed_at, "the paused generator produced a record before it was resumed"
    assert isinstance(drain(generator), TrainingDone)


def test_divergence_stops_with_a_clear_error_and_keeps_good_weights(toy_dataset, tmp_path):
    config = fast(epochs=30, lr=1e6, schedule="constant")
    with pytest.raises(TrainingDiverged, match="learning rate"):
        drain(train(toy_dataset, small_model(toy_dataset), config, out_dir=tmp_path,
                    report_interval_s=0.0))
    saved = tmp_path / "checkpoint.pt"
    if saved.exists():  # whatever was saved before the blow-up is finite and loadable
        load_checkpoint(saved)


def test_bad_settings_are_refused_before_training(toy_dataset):
    for bad in (dict(epochs=0), dict(lr=-1.0), dict(batch_size=0), dict(beta=float("nan"))):
        with pytest.raises(GenAIError):
            TrainConfig(**bad)
    wrong_shape = ModelConfig(image_shape=(1, 28, 28))
    with pytest.raises(GenAIError, match="shape"):
        drain(train(toy_dataset, wrong_shape, fast()))


def test_conditional_training_and_class_specific_decoding(toy_dataset):
    config = small_model(toy_dataset, num_classes=3)
    done = drain(train(toy_dataset, config, fast(epochs=3), report_interval_s=0.0))
    assert done.reason == "completed"


def test_inference_snapshot_is_independent_of_training(toy_dataset, tmp_path):
    drain(train(toy_dataset, small_model(toy_dataset), fast(epochs=1), out_dir=tmp_path))
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")
    model = VAEInference.from_checkpoint(checkpoint)
    z = np.zeros(4, np.float32)
    before = model.decode(z)
    with torch.no_grad():
        for p in checkpoint.model.parameters():
            p.add_(1.0)  # training would mutate the live model like this
    assert np.array_equal(model.decode(z), before)
    assert before.shape == (12, 12, 1) and before.dtype == np.uint8
    mu, logvar = model.encode(toy_dataset.test.images[:10])
    assert mu.shape == logvar.shape == (10, 4)
    assert model.sample(5, seed=1).shape == (5, 12, 12, 1)
    assert np.array_equal(model.sample(5, seed=1), model.sample(5, seed=1))


def test_images_per_epoch_make_short_epochs(toy_dataset):
    records = list(train(toy_dataset, small_model(toy_dataset), fast(epochs=3, epoch_images=64)))
    steps = [r for r in records if isinstance(r, StepRecord)]
    assert steps[0].total_steps == 3 * (64 // 32) < 3 * (len(toy_dataset.train) // 32)
    assert [r.epoch for r in records if isinstance(r, EpochRecord)] == [1, 2, 3]
    assert records[-1].epochs == 3 and len(records[-1].history["test_loss"]) == 3
    with pytest.raises(GenAIError, match="images per epoch"):
        TrainConfig(epoch_images=-1)
