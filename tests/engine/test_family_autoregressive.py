"""The autoregressive family: training, exact likelihood, sampling knobs, the cache, completion."""

import json
import math

import numpy as np
import pytest
import torch

from genai_engine.checkpoints import load_checkpoint
from genai_engine.cli import main as cli_main
from genai_engine.distributed import SINGLE
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.families.autoregressive.config import ARConfig
from genai_engine.families.autoregressive.sampling import SamplingSettings, draw, filter_distribution
from genai_engine.families.base import Batch, DensityModel, Encoder, GenerativeModel, LatentDecoder
from genai_engine.tasks import drain
from genai_engine.tensors import images_to_tensor, to_unit
from genai_engine.training import TrainConfig, train

FAMILY = get_family("autoregressive")


def tiny_config(dataset, **changes) -> ARConfig:
    return ARConfig(**{"width": 16, "layers": 2, "heads": 2, "image_shape": dataset.image_shape, **changes})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained one epoch on the toy squares (about 2 s), and its checkpoint."""
    from toy_data import make_toy_dataset

    dataset = make_toy_dataset()
    run = tmp_path_factory.mktemp("ar_run")
    settings = TrainConfig(epochs=1, batch_size=16, lr=1e-2, schedule="constant", device="cpu")
    done = drain(train(dataset, tiny_config(dataset), settings, family=FAMILY.name, out_dir=run))
    return dataset, load_checkpoint(done.checkpoint), done


def test_config_validates_and_round_trips():
    config = ARConfig(levels=16, width=32, heads=4, image_shape=(3, 8, 8), num_classes=10)
    assert ARConfig.from_dict(config.to_dict()) == config and config.tokens == 192
    with pytest.raises(GenAIError, match="multiple of the number of heads"):
        ARConfig(width=30, heads=4)
    with pytest.raises(GenAIError, match="levels must be a whole number from 2 to 256"):
        ARConfig(levels=1)
    with pytest.raises(GenAIError, match="--image-size"):
        ARConfig(image_shape=(3, 64, 64))
    fields = ARConfig.__dataclass_fields__
    assert all(fields[name].metadata.get("hidden") for name in ("image_shape", "num_classes"))
    assert all(fields[name].metadata["help"] for name in ("levels", "width", "layers", "heads"))


def test_training_lowers_the_exact_test_likelihood_and_checkpoints(trained):
    dataset, checkpoint, done = trained
    assert done.family == "autoregressive" and checkpoint.family == "autoregressive"
    bpd = done.history["test_bits_per_dim"][0]
    assert 0 < bpd < 0.5 * math.log2(8)  # well under uniform guessing (3 bits/dim)
    assert done.history["test_loss"][0] == pytest.approx(bpd * 144 * math.log(2))
    assert len(checkpoint.timeline) == 1
    x = images_to_tensor(dataset.test.images[:3], "cpu")
    preview = FAMILY.preview(checkpoint.model, x, None)  # the images, then the per-pixel predictions
    assert preview.shape == (6, 12, 12, 1) and np.array_equal(preview[:3], dataset.test.images[:3])
    assert np.abs(preview[3:].astype(int) - preview[:3]).mean() < 40  # a trained model predicts well
    assert set(checkpoint.timeline[0]["decoder"]) == set(checkpoint.model.state_dict())

    snapshot = checkpoint.snapshot()
    assert isinstance(snapshot, GenerativeModel) and isinstance(snapshot, DensityModel)
    assert not isinstance(snapshot, LatentDecoder) and not isinstance(snapshot, Encoder)
    assert snapshot.likelihood_kind == "exact"
    untrained = FAMILY.snapshot(FAMILY.build(checkpoint.model_config))
    images = dataset.test.images[:16]
    assert snapshot.nll(images).mean() < 0.5 * untrained.nll(images).mean()


def test_nll_equals_the_loss_the_step_reports_for_the_same_batch(toy_dataset):
    torch.manual_seed(0)
    model = FAMILY.build(tiny_config(toy_dataset, levels=5))
    images = toy_dataset.train.images[:8]
    expected = FAMILY.snapshot(model).nll(images).sum()  # before the step changes the weights
    step = FAMILY.training_step(model, TrainConfig(lr=1e-3), torch.device("cpu"), dist=SINGLE)
    metrics = step(Batch(to_unit(images_to_tensor(images, "cpu")), None))
    assert float(metrics["loss"]) == pytest.approx(expected, rel=1e-5)
    assert float(metrics["bits_per_dim"]) == pytest.approx(expected / (144 * math.log(2)), rel=1e-5)


def test_resume_continues_exactly(toy_dataset, tmp_path):
    config = tiny_config(toy_dataset, layers=1)
    settings = dict(batch_size=64, lr=3e-3, schedule="constant", device="cpu")  # same lr either way
    straight = drain(train(toy_dataset, config, TrainConfig(epochs=2, **settings), family=FAMILY.name))
    first = drain(train(toy_dataset, config, TrainConfig(epochs=1, **settings), family=FAMILY.name,
                        out_dir=tmp_path))
    resumed = drain(train(toy_dataset, None, TrainConfig(epochs=2, **settings),
                          resume=load_checkpoint(first.checkpoint)))
    assert resumed.history["test_loss"] == straight.history["test_loss"]


def test_seeded_samples_repeat_and_cached_sampling_equals_naive(trained):
    _, checkpoint, _ = trained
    snapshot = checkpoint.snapshot()
    a = snapshot.sample(4, seed=7)
    assert a.shape == (4, 12, 12, 1) and a.dtype == np.uint8
    assert np.array_equal(a, checkpoint.snapshot().sample(4, seed=7))
    assert np.array_equal(a, snapshot.sample(4, seed=7, cached=False))
    assert np.array_equal(a[:2], snapshot.sample(2, seed=7, batch_size=1))  # per image, not per batch
    assert not np.array_equal(a, snapshot.sample(4, seed=8))
    assert set(np.unique(a)) <= set(np.round(np.arange(8) * 255 / 7))  # only the K levels


def test_temperature_zero_and_top_k_one_are_greedy(trained):
    _, checkpoint, _ = trained
    snapshot = checkpoint.snapshot()
    snapshot.configure_sampling(temperature=0)
    greedy = snapshot.sample(3, seed=1)
    assert all(np.array_equal(greedy[0], image) for image in greedy)  # the seed no longer matters
    assert np.array_equal(greedy, snapshot.sample(3, seed=2))
    snapshot.configure_sampling(temperature=1.0, top_k=1)
    assert np.array_equal(greedy, snapshot.sample(3, seed=3))
    with pytest.raises(GenAIError, match="top-p must be above 0"):
        snapshot.configure_sampling(top_p=0)
    with pytest.raises(GenAIError, match="temperature must be a number"):
        snapshot.configure_sampling(temperature=-1)
    with pytest.raises(GenAIError, match="top-k must be a whole number"):
        snapshot.configure_sampling(top_k=1.5)


def test_top_k_and_top_p_keep_the_right_values():
    probs = torch.tensor([[0.05, 0.4, 0.1, 0.3, 0.15]])
    logits = probs.log()

    def kept(**knobs):
        return (filter_distribution(logits, SamplingSettings(**knobs)) > 0)[0].tolist()

    assert kept(top_k=2) == [False, True, False, True, False]
    assert kept(top_p=0.7) == [False, True, False, True, False]  # 0.4 + 0.3 reaches 0.7
    assert kept(top_p=0.71) == [False, True, False, True, True]  # needs the 0.15 too
    assert kept(top_p=0.01) == [False, True, False, False, False]  # the top value always stays
    assert kept(top_k=3, top_p=0.5) == [False, True, False, True, False]
    renormalised = filter_distribution(logits, SamplingSettings(top_k=2))[0]
    assert renormalised[1].item() == pytest.approx(0.4 / 0.7)
    assert renormalised.sum().item() == pytest.approx(1)
    hot = filter_distribution(logits, SamplingSettings(temperature=0.5))[0]
    assert hot[1] / hot[3] == pytest.approx((0.4 / 0.3) ** 2)  # logits / T
    # Inverse-CDF draws never pick a value of probability 0, even at the ends of [0, 1).
    filtered = filter_distribution(logits.repeat(3, 1), SamplingSettings(top_k=2))
    assert draw(filtered, torch.tensor([0.0, 0.5, 0.99999])).tolist() == [1, 1, 3]


def test_completion_keeps_the_given_rows(trained):
    dataset, checkpoint, _ = trained
    snapshot = checkpoint.snapshot()
    images = dataset.test.images[:3]
    out = snapshot.complete(images, rows_given=6, n_completions=2, seed=0, temperature=1.0)
    assert out.shape == (3, 2, 12, 12, 1)
    assert np.array_equal(out[:, :, :6], np.repeat(snapshot.quantise(images)[:, None, :6], 2, axis=1))
    assert not np.array_equal(out[:, 0], out[:, 1])  # two different completions
    with pytest.raises(GenAIError, match="rows given must be from 0 to the image height 12"):
        snapshot.complete(images, rows_given=13)


def test_generation_steps_show_each_pixel_distribution_before_and_after_the_knobs(trained):
    _, checkpoint, _ = trained
    snapshot = checkpoint.snapshot()
    steps = list(snapshot.generation_steps(seed=4, top_k=2))
    assert [s.index for s in steps] == list(range(144)) and (steps[13].row, steps[13].column) == (1, 1)
    for step in steps[:20]:
        assert step.before.shape == (8,) and step.before.sum() == pytest.approx(1)
        assert (step.after > 0).sum() <= 2 and step.after[step.value] > 0
    snapshot.configure_sampling(top_k=2)
    assert np.array_equal(steps[-1].image, snapshot.sample(1, seed=4)[0])  # the same draws as sample
    assert not torch.is_inference_mode_enabled()


def test_cli_trains_and_reports_bits_per_dim_and_levels(toy_dataset, tmp_path, capsys):
    data = tmp_path / "toy.npz"
    np.savez(data, images=toy_dataset.train.images[:128], test_images=toy_dataset.test.images[:32])
    assert cli_main(["train", "--family", "autoregressive", "--dataset", str(data), "--epochs", "1",
                     "--levels", "4", "--ar-width", "16", "--ar-layers", "1", "--ar-heads", "2",
                     "--out", str(tmp_path / "run"), "--device", "cpu", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["family"] == "autoregressive" and summary["levels"] == 4
    assert 0 < summary["test_bits_per_dim"] < 2  # log2 4 = 2 is uniform guessing
    assert load_checkpoint(summary["checkpoint"]).model_config.width == 16

    # sample (and fid) take the knobs: temperature 0 draws every pixel's likeliest level, so two
    # seeds give the same images; at 1 they differ; a diffusion model's setting is refused
    arrays = {}
    for name, temperature, seed in (("greedy_a", "0", "1"), ("greedy_b", "0", "2"), ("warm", "1", "2")):
        arrays[name] = tmp_path / f"{name}.npz"
        assert cli_main(["sample", "--checkpoint", summary["checkpoint"], "--n", "4", "--seed", seed,
                         "--temperature", temperature, "--top-k", "3", "--out", str(arrays[name])]) == 0
    images = {name: np.load(path)["images"] for name, path in arrays.items()}
    assert np.array_equal(images["greedy_a"], images["greedy_b"])
    assert not np.array_equal(images["greedy_b"], images["warm"])
    assert cli_main(["sample", "--checkpoint", summary["checkpoint"], "--steps", "5",
                     "--out", str(tmp_path / "x.png")]) == 1
    assert "no sampling setting 'steps'" in capsys.readouterr().err
