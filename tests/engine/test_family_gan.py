"""The GAN family on the toy dataset: losses, checkpoints, exact resume, the BatchNorm
decision, inversion, divergence, conditioning, the CLI and the capability protocols."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from toy_data import make_toy_dataset

from genai_engine.checkpoints import load_checkpoint, save_checkpoint
from genai_engine.cli import main
from genai_engine.distributed import SINGLE
from genai_engine.errors import GenAIError, TrainingDiverged
from genai_engine.families import get_family
from genai_engine.families.base import (
    Batch,
    DensityModel,
    Encoder,
    Invertible,
    LatentDecoder,
    decode_each_class,
)
from genai_engine.families.gan.config import GANConfig
from genai_engine.families.gan.family import WIN_STREAK
from genai_engine.families.gan.inference import GANInference, InversionProgress, InversionResult
from genai_engine.families.gan.monitor import domain_network, mode_collapse
from genai_engine.tasks import TaskControl, drain
from genai_engine.training import EpochRecord, TrainConfig, train

GAN = get_family("gan")
METRICS = ("loss_g", "loss_d", "d_real", "d_fake")


def small(dataset, **kw):
    return GANConfig(**{"latent_dim": 8, "width": 8, "image_shape": dataset.image_shape, **kw})


def fast(**kw):
    return TrainConfig(**{**GAN.train_defaults, "epochs": 1, "batch_size": 64, "device": "cpu", **kw})


def stepped_model(config, steps=3, seed=0):
    """A GAN trained a few steps by hand (no trainer), with its step."""
    torch.manual_seed(seed)
    model = GAN.build(config)
    step = GAN.training_step(model, fast(), torch.device("cpu"), SINGLE)
    images = torch.from_numpy(make_toy_dataset(n_train=64, n_test=8).train.images).permute(0, 3, 1, 2)
    for _ in range(steps):
        metrics = step(Batch(images.float() / 255, None))
    return model, step, metrics


@pytest.mark.parametrize("loss, kind, d_steps", [("ns", "dcgan", 1), ("hinge", "dcgan", 1),
                                                  ("wgan-gp", "dcgan", 1), ("ns", "mlp", 2)])
def test_each_loss_trains_with_finite_summed_metrics(toy_dataset, loss, kind, d_steps):
    config = small(toy_dataset, loss=loss, kind=kind, d_steps=d_steps, ema=0.0)
    records = list(train(toy_dataset, config, fast(), family="gan"))
    epoch = next(r for r in records if isinstance(r, EpochRecord))
    assert set(METRICS) <= set(epoch.train) and all(math.isfinite(v) for v in epoch.train.values())
    assert {"loss_d", "d_real", "d_fake", "diversity"} <= set(epoch.test)
    if loss == "ns":  # probabilities: the trainer divided the batch sums by the image count
        assert 0 < epoch.train["d_real"] < 1 and 0 < epoch.train["d_fake"] < 1
    assert epoch.diagnostics["latent_importance"].shape == (8,)
    assert (epoch.diagnostics["latent_importance"] > 0).all()
    assert epoch.preview.shape == (16, 12, 12, 1) and epoch.preview.dtype == np.uint8
    assert records[-1].family == "gan" and math.isfinite(records[-1].test_loss)


def test_training_moves_the_generator_and_the_ema_follows(toy_dataset):
    model, _, metrics = stepped_model(small(toy_dataset), steps=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model2, _, _ = stepped_model(small(toy_dataset), steps=4)
    changed = [k for k, v in model2.state_dict().items() if not torch.equal(v, before[k])]
    assert any(k.startswith("generator.") for k in changed) and any(k.startswith("ema.") for k in changed)
    assert int(model2.ema_updates) == 4
    assert not any(p.requires_grad for p in model2.ema.parameters())
    assert set(model2.timeline_state()) == {k for k in model2.state_dict()
                                            if k.startswith("ema.") and "num_batches" not in k}


def test_checkpoint_round_trip_gives_the_same_samples(toy_dataset, tmp_path):
    model, step, _ = stepped_model(small(toy_dataset, num_classes=3))
    live = GAN.snapshot(model)
    save_checkpoint(tmp_path / "c.pt", model, family="gan", train_config={}, epoch=1, history={},
                    dataset={}, trainer_state=step.state_dict())
    loaded = load_checkpoint(tmp_path / "c.pt").snapshot()
    assert isinstance(loaded, GANInference)
    assert np.array_equal(loaded.sample(6, seed=4, labels=[2]), live.sample(6, seed=4, labels=[2]))


def test_stop_then_resume_equals_an_uninterrupted_run(toy_dataset, tmp_path):
    config = fast(epochs=3, batch_size=128)
    straight = drain(train(toy_dataset, small(toy_dataset), config, family="gan", out_dir=tmp_path / "a"))
    control = TaskControl()
    for record in train(toy_dataset, small(toy_dataset), config, family="gan", out_dir=tmp_path / "b",
                        control=control):
        if isinstance(record, EpochRecord) and record.epoch == 2:
            control.cancel()
    first = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert first.epoch == 2
    resumed = drain(train(toy_dataset, None, config, out_dir=tmp_path / "b", resume=first))
    assert resumed.family == "gan" and resumed.epochs == 3
    for key, values in straight.history.items():
        if key != "images_per_s":
            assert resumed.history[key] == pytest.approx(values, rel=1e-6), key
    a = load_checkpoint(tmp_path / "a" / "checkpoint.pt").model.state_dict()
    b = load_checkpoint(tmp_path / "b" / "checkpoint.pt").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # G, D, the EMA and its update count


def test_the_timeline_replays_the_sampling_generator(toy_dataset, tmp_path):
    from genai_engine.analysis.timeline import TimelineDecoder

    done = drain(train(toy_dataset, small(toy_dataset), fast(epochs=2), family="gan", out_dir=tmp_path))
    checkpoint = load_checkpoint(done.checkpoint)
    keys = set(checkpoint.model.timeline_state())
    assert all(set(entry["decoder"]) == keys for entry in checkpoint.timeline)
    assert keys and all(key.startswith("ema.") for key in keys)
    z = np.random.default_rng(3).standard_normal((4, 8)).astype(np.float32)
    timeline = TimelineDecoder(checkpoint)
    final = checkpoint.snapshot().decode(z)
    # float16 snapshots: a few grey levels of rounding at most
    assert np.abs(timeline.decode(z, epoch=2).astype(int) - final).max() <= 3
    assert not np.array_equal(timeline.decode(z, epoch=1), timeline.decode(z, epoch=2))


def test_seeded_samples_repeat_at_any_batch_size(toy_dataset):
    snapshot = GAN.snapshot(stepped_model(small(toy_dataset))[0])
    first = snapshot.sample(6, seed=1)
    assert np.array_equal(first, snapshot.sample(6, seed=1, batch_size=2))
    assert not np.array_equal(first, snapshot.sample(6, seed=2))


def test_sampling_uses_batchnorm_running_statistics(toy_dataset):
    """The decision (nets.py): G samples in eval mode, so an image depends on its own z only,
    even while the live model is in train mode."""
    model, _, _ = stepped_model(small(toy_dataset, ema=0.0))
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.generator.modules())
    model.train()
    z = torch.randn(5, 8)
    with torch.no_grad():
        batch = model.decode_images(z)
        alone = model.decode_images(z[:1])
        model.generator.train()
        train_mode = (model.generator(z) + 1) / 2  # what batch statistics would give
    assert model.generator.training  # decode_images restored the mode
    assert torch.allclose(alone[0], batch[0], atol=1e-6)
    assert not torch.allclose(train_mode, batch, atol=1e-3)


def test_inversion_lowers_the_error_and_can_be_cancelled(toy_dataset):
    # an MLP keeps PyTorch's initialisation: its images vary with z from the start
    snapshot = GAN.snapshot(GAN.build(small(toy_dataset, kind="mlp", ema=0.0)))
    targets = snapshot.decode(np.random.default_rng(5).standard_normal((3, 8)).astype(np.float32))
    records = list(snapshot.invert(targets, steps=60, lr=0.1))
    progress = [r for r in records if isinstance(r, InversionProgress)]
    result = records[-1]
    assert isinstance(result, InversionResult) and not result.cancelled and result.steps == 60
    assert progress[-1].loss < 0.5 * progress[0].loss
    assert result.z.shape == (3, 8) and result.reconstructions.shape == targets.shape
    assert result.error.shape == (3,) and result.error.mean() < progress[0].loss

    control = TaskControl()
    records = []
    for record in snapshot.invert(targets, steps=1000, control=control):
        records.append(record)
        control.cancel()
    assert records[-1].cancelled and records[-1].steps < 1000 and len(records) == 2


def test_divergence_stops_with_the_gan_hint_and_keeps_finite_weights(toy_dataset, monkeypatch):
    built = []
    build = GAN.build
    monkeypatch.setattr(GAN, "build", lambda config: built.append(build(config)) or built[-1])
    with pytest.raises(TrainingDiverged, match="spectral norm") as caught:
        drain(train(toy_dataset, small(toy_dataset), fast(epochs=30, lr=1e6), family="gan",
                    report_interval_s=0.0))
    assert "learning rate" in str(caught.value)
    torch.manual_seed(0)  # the trainer's seed: the weights it started from
    initial = build(small(toy_dataset)).state_dict()
    kept = built[0].state_dict()
    assert all(torch.equal(kept[k], initial[k]) for k in kept)  # the last good (here: first) weights


def test_health_stops_a_discriminator_that_wins_outright(toy_dataset):
    _, step, _ = stepped_model(small(toy_dataset))
    won = {"loss_g": 7.0, "loss_d": 0.01, "d_real": 0.995, "d_fake": 0.004}
    assert all(step.health(won) is None for _ in range(WIN_STREAK - 1))
    assert step.health({**won, "d_fake": 0.2}) is None  # one fair report resets the count
    reasons = [step.health(won) for _ in range(WIN_STREAK)]
    assert reasons[-2] is None and "won outright" in reasons[-1]
    assert "exploded" in step.health({**won, "loss_g": 3e7})


def test_conditional_samples_follow_the_label(toy_dataset, tmp_path):
    done = drain(train(toy_dataset, small(toy_dataset, num_classes=3), fast(epochs=2), family="gan",
                       out_dir=tmp_path))
    snapshot = load_checkpoint(done.checkpoint).snapshot()
    assert snapshot.conditional
    z = np.random.default_rng(0).standard_normal(8).astype(np.float32)
    per_class = decode_each_class(snapshot, z, 3)
    assert per_class.shape == (3, 12, 12, 1)
    assert not np.array_equal(per_class[0], per_class[2])
    assert np.array_equal(per_class[1], snapshot.decode(z, [1]))


def test_snapshot_capabilities():
    snapshot = GAN.snapshot(GAN.build(GANConfig(image_shape=(1, 12, 12), width=8)))
    assert isinstance(snapshot, LatentDecoder) and isinstance(snapshot, Invertible)
    assert not isinstance(snapshot, Encoder) and not isinstance(snapshot, DensityModel)
    assert snapshot.parameter_count == snapshot.model.parameter_count < sum(
        p.numel() for p in snapshot.model.parameters())  # the EMA copy is not counted


def test_config_metadata_validation_and_round_trip():
    for f in dataclasses.fields(GANConfig):
        if f.metadata.get("hidden"):
            continue
        assert f.metadata["label"] and len(f.metadata["help"]) > 20, f.name
    config = GANConfig(kind="mlp", loss="hinge", spectral_norm=True, num_classes=10)
    assert GANConfig.from_dict(config.to_dict()) == config
    for bad in (dict(kind="vae"), dict(loss="l2"), dict(latent_dim=1), dict(ema=1.0), dict(d_steps=0),
                dict(width=2.5)):
        with pytest.raises(GenAIError):
            GANConfig(**bad)
    with pytest.raises(GenAIError, match="halve"):
        GAN.build(GANConfig(image_shape=(1, 27, 27)))
    assert GAN.build(GANConfig()).parameter_count == pytest.approx(0.67e6, rel=0.01)  # DCGAN, 28x28
    assert GAN.describe(GANConfig()) == "DCGAN, latent 64, non-saturating loss, EMA 0.999"


def test_mode_collapse_monitor_on_fashion_mnist():
    if domain_network((1, 28, 28)) is None:
        pytest.skip("the shipped domain network is missing")
    from genai_engine.data import load_dataset

    real = load_dataset("fashion-mnist").test.images[:400]
    varied, _ = mode_collapse(real[200:], real[:200])
    collapsed, diagnostics = mode_collapse(np.repeat(real[:1], 200, 0), real[:200])
    assert varied["coverage"] == 1.0 and 0.8 < varied["diversity"] < 1.25
    assert collapsed["coverage"] == 0.1 and collapsed["diversity"] < 0.01
    histogram = diagnostics["class_histogram"]
    assert histogram.sum() == pytest.approx(1.0) and histogram.max() == 1


def test_cli_trains_a_gan_then_samples_and_reports(tmp_path, capsys):
    data = make_toy_dataset(n_train=128, n_test=32)
    npz = tmp_path / "toy.npz"
    np.savez(npz, images=data.train.images[..., 0], labels=data.train.labels,
             test_images=data.test.images[..., 0], test_labels=data.test.labels)
    assert main(["train", "--family", "gan", "--dataset", str(npz), "--latent-dim", "5", "--width", "8",
                 "--gan-loss", "hinge", "--spectral-norm", "--ema", "0", "--epochs", "1",
                 "--batch-size", "32", "--device", "cpu",
                 "--out", str(tmp_path / "run"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["family"] == "gan" and summary["epochs"] == 1
    assert {f"train_{m}" for m in METRICS} | {"test_loss_d", "test_diversity"} <= set(summary)
    checkpoint = load_checkpoint(summary["checkpoint"])
    config = checkpoint.model_config
    assert (config.latent_dim, config.width, config.loss, config.kind) == (5, 8, "hinge", "dcgan")
    assert config.spectral_norm and config.ema == 0.0  # a spectral-norm D loads back strictly
    assert checkpoint.train_config["lr"] == 2e-4 and checkpoint.train_config["schedule"] == "constant"
    out = tmp_path / "samples.npz"
    assert main(["sample", "--checkpoint", summary["checkpoint"], "--n", "4", "--out", str(out)]) == 0
    with np.load(out) as saved:
        assert saved["images"].shape == (4, 12, 12, 1)
    report = tmp_path / "report.html"
    assert main(["report", "--checkpoint", summary["checkpoint"], "--out", str(report)]) == 0
    assert "Generative adversarial network" in report.read_text()
