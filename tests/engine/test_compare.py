"""Compare: tiny models of three families on a Fashion-MNIST slice, the data check, the guide, the CLI."""

import json
import math

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.analysis.compare import ComparisonResult, check_same_data, compare
from genai_engine.analysis.decision_guide import DISAGREES, decision_guide
from genai_engine.analysis.train_all import FamilyRecord, TrainAllDone, train_all
from genai_engine.checkpoints import load_checkpoint
from genai_engine.cli import main
from genai_engine.data import load_dataset
from genai_engine.errors import GenAIError
from genai_engine.families.autoregressive.config import ARConfig
from genai_engine.families.gan.config import GANConfig
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.metrics.features import domain
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

pytestmark = pytest.mark.skipif(not domain.default_weights_path().is_file(),
                                reason="the shipped domain network is missing")
N = 64


@pytest.fixture(scope="module")
def fashion_npz(tmp_path_factory):
    """A 600/200 slice of Fashion-MNIST as an .npz, so checkpoints record a source to reload."""
    full = load_dataset("fashion-mnist")
    path = tmp_path_factory.mktemp("fashion") / "fashion-slice.npz"
    np.savez(path, images=full.train.images[:600, ..., 0], labels=full.train.labels[:600],
             test_images=full.test.images[:200, ..., 0], test_labels=full.test.labels[:200])
    return path


@pytest.fixture(scope="module")
def checkpoints(fashion_npz, tmp_path_factory):
    data = load_dataset(fashion_npz)
    shape = data.image_shape
    configs = {"vae": ModelConfig(hidden=(32,), latent_dim=4, image_shape=shape),
               "gan": GANConfig(kind="mlp", latent_dim=8, width=16, image_shape=shape),
               "autoregressive": ARConfig(levels=4, width=16, layers=1, heads=2, image_shape=shape)}
    paths = []
    for family, config in configs.items():
        out = tmp_path_factory.mktemp(family)
        settings = TrainConfig(epochs=1, batch_size=200, lr=2e-3, device="cpu")
        drain(train(data, config, settings, family=family, out_dir=out))
        paths.append(out / "checkpoint.pt")
    return paths


@pytest.fixture(scope="module")
def result(checkpoints, fashion_npz):
    return drain(compare(checkpoints, load_dataset(fashion_npz), n=N, seed=3, device="cpu",
                         inception=False))


def test_one_row_per_model_with_finite_numbers_or_a_reason(result):
    assert isinstance(result, ComparisonResult)
    assert [r.family for r in result.rows] == ["vae", "gan", "autoregressive"]
    assert result.n == N and result.seed == 3 and "domain" in result.feature_label.lower()
    for row in result.rows:
        for value in (row.fid, row.precision, row.recall, row.seconds_per_image, row.memorisation_median):
            assert math.isfinite(value)
        assert row.parameters > 0 and row.epochs == 1 and row.train_seconds > 0
        assert row.grid.shape == (16, 28, 28, 1) and row.grid.dtype == np.uint8
        assert row.inception_note  # none asked for: a reason, never a blank
    vae, gan, ar = result.rows
    assert vae.likelihood_kind == "bound" and ar.likelihood_kind == "exact"
    assert 0 < ar.bits_per_dim <= math.log2(4) * 1.5  # K = 4 levels: about 2 bits/dim is a guess
    assert gan.bits_per_dim is None and "defines no likelihood" in gan.likelihood_note
    assert ar.sampling == {"temperature": 1.0, "top_k": 0, "top_p": 1.0} and gan.sampling == {}
    assert result.memorisation_baseline > 0


def test_latent_families_draw_from_the_same_seeds(result, checkpoints):
    """The grid's first sample is the decode of the same z the seed names (VAE and GAN share it
    when their latents have the same size; here each matches its own model's sample)."""
    vae = load_checkpoint(checkpoints[0]).snapshot("cpu")
    np.testing.assert_array_equal(result.rows[0].grid, vae.sample(16, seed=3))


def test_models_trained_on_other_data_are_refused_in_one_sentence(checkpoints, fashion_npz, tmp_path):
    toy = make_toy_dataset(n_train=64, n_test=16)
    drain(train(toy, ModelConfig(hidden=(8,), latent_dim=2, image_shape=toy.image_shape),
                TrainConfig(epochs=1, batch_size=32, device="cpu"), out_dir=tmp_path))
    with pytest.raises(GenAIError, match="same dataset") as error:
        drain(compare([checkpoints[0], tmp_path / "checkpoint.pt"], n=N, device="cpu"))
    assert "\n" not in str(error.value)
    models = [load_checkpoint(c) for c in checkpoints[:2]]
    with pytest.raises(GenAIError, match="not on the dataset given"):
        check_same_data(models, toy)


def row(label, family, **values):
    base = {"label": label, "family": family, "fid": None, "precision": None, "recall": None,
            "seconds_per_image": None, "bits_per_dim": None, "likelihood_kind": None,
            "memorisation_median": 1.0, "capabilities": {"latent": False, "encoder": False}}
    return {**base, **values}


def test_the_guide_names_the_measured_best_and_flags_disagreements():
    rows = [row("vae", "vae", fid=30.0, precision=0.5, recall=0.7, seconds_per_image=1e-4,
                bits_per_dim=0.4, likelihood_kind="bound", capabilities={"latent": True, "encoder": True}),
            row("gan", "gan", fid=12.0, precision=0.8, recall=0.2, seconds_per_image=2e-4,
                capabilities={"latent": True, "encoder": False}),
            row("autoregressive", "autoregressive", fid=50.0, precision=0.4, recall=0.3,
                seconds_per_image=0.05, bits_per_dim=1.1, likelihood_kind="exact")]
    guide = {line.topic: line for line in decision_guide(rows)}
    assert guide["best fidelity (lowest FID)"].measured.startswith("gan") and \
        guide["best fidelity (lowest FID)"].agrees
    coverage = guide["best coverage (recall)"]
    assert coverage.measured.startswith("vae") and coverage.agrees
    assert guide["fastest sampler"].measured.startswith("vae") and guide["fastest sampler"].agrees
    assert guide["slowest sampler"].measured.startswith("autoregressive")
    assert guide["only exact likelihood"].measured.startswith("autoregressive")
    assert guide["only exact likelihood"].agrees
    assert guide["editable latent with an encoder"].measured == "vae"

    rows[2]["fid"] = 5.0  # the autoregressive model wins fidelity: against the guide
    rows[2]["seconds_per_image"] = 1e-6  # and sampling speed
    guide = {line.topic: line for line in decision_guide(rows)}
    assert not guide["best fidelity (lowest FID)"].agrees
    assert DISAGREES in guide["best fidelity (lowest FID)"].sentence()
    assert not guide["fastest sampler"].agrees


def test_a_claim_about_families_not_compared_cannot_be_checked():
    rows = [row("vae", "vae", fid=30.0, recall=0.5), row("vae 2", "vae", fid=20.0, recall=0.6)]
    guide = {line.topic: line for line in decision_guide(rows)}
    assert guide["best fidelity (lowest FID)"].measured.startswith("vae 2")
    assert guide["best fidelity (lowest FID)"].agrees is None
    assert guide["sharpest, most realistic samples (precision)"].measured == "not measured"


def test_cli_prints_the_table_and_a_json_line(checkpoints, tmp_path, capsys):
    out = tmp_path / "compare.html"
    code = main(["compare", *map(str, checkpoints[:2]), "--n", "32", "--device", "cpu",
                 "--no-inception", "--json", "--out", str(out), "--csv", str(tmp_path / "t.csv")])
    assert code == 0
    captured = capsys.readouterr()
    stdout = captured.out.strip().splitlines()
    assert len(stdout) == 1  # with --json, stdout is the JSON object alone (| jq works)
    payload = json.loads(stdout[0])
    assert {"rows", "n", "seed", "features", "feature_label", "dataset", "guide", "seconds"} <= set(payload)
    assert [r["family"] for r in payload["rows"]] == ["vae", "gan"]
    assert payload["rows"][1]["bits_per_dim"] is None and payload["rows"][1]["likelihood_note"]
    assert any(line.startswith("FID (") for line in captured.err.splitlines())  # the table: stderr
    assert "data:image/png" in out.read_text()
    assert (tmp_path / "t.csv").read_text().count("\n") == 3  # header + 2 models


def test_cli_refuses_more_than_four_in_one_line(checkpoints, capsys):
    assert main(["compare", *[str(checkpoints[0])] * 5]) == 2
    assert "at most 4" in capsys.readouterr().err


def test_train_all_stops_each_family_at_its_budget_and_keeps_the_checkpoints(tmp_path):
    toy = make_toy_dataset(n_train=256, n_test=32, size=12)
    records = list(train_all(toy, ["vae", "gan"], budget_s=0.3, out_dir=tmp_path, device="cpu"))
    done = records[-1]
    assert isinstance(done, TrainAllDone) and set(done.checkpoints) == {"vae", "gan"}
    assert done.reasons == {"vae": "time limit", "gan": "time limit"}  # each one's own time limit
    assert {r.family for r in records if isinstance(r, FamilyRecord)} == {"vae", "gan"}
    for path in done.checkpoints.values():
        checkpoint = load_checkpoint(path)
        assert checkpoint.raw["train_seconds"] > 0 and checkpoint.train_config["minutes"] == 0.3 / 60
