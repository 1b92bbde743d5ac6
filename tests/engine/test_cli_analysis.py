"""``genai-lab memorisation`` and ``genai-lab anomalies``: the app's two checks on the command line."""

import json

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.analysis.anomaly import roc_auc, score_images, synthetic_outliers
from genai_engine.analysis.memorisation import memorisation_check
from genai_engine.checkpoints import load_checkpoint
from genai_engine.cli import main
from genai_engine.resources import resources_dir
from genai_engine.tasks import drain


@pytest.fixture(scope="module")
def toy_vae(tmp_path_factory):
    """A VAE trained for one epoch on the toy squares (train and test splits in one .npz)."""
    folder = tmp_path_factory.mktemp("toy-vae")
    data = make_toy_dataset(n_train=256, n_test=64)
    npz = folder / "toy.npz"
    np.savez(npz, images=data.train.images[..., 0], labels=data.train.labels,
             test_images=data.test.images[..., 0], test_labels=data.test.labels,
             class_names=np.array(data.class_names))
    out = folder / "run"
    assert main(["train", "--dataset", str(npz), "--hidden", "32", "--latent-dim", "3", "--epochs", "1",
                 "--batch-size", "64", "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    return out / "checkpoint.pt", data


def gan_demo():
    path = resources_dir() / "models" / "demo_gan.pt"
    if not path.is_file():
        pytest.skip("the demo GAN is missing")
    return str(path)


def test_memorisation_json_matches_the_engine_and_the_table_says_the_same(toy_vae, capsys):
    path, data = toy_vae
    args = ["memorisation", "--checkpoint", str(path), "--n", "12", "--k", "3", "--baseline", "40",
            "--device", "cpu"]
    assert main([*args, "--json"]) == 0
    out = capsys.readouterr()
    got = json.loads(out.out)
    assert "sampling 12 images" in out.err  # progress on stderr
    reference = drain(memorisation_check(
        load_checkpoint(path).snapshot("cpu"), data.train.images, train_labels=data.train.labels,
        test_images=data.test.images, test_labels=data.test.labels, n_samples=12, k=3,
        spaces=["pixel", "encoder"], baseline_n=40))
    assert set(got["spaces"]) == {"pixel", "encoder"}  # a VAE: its encoder space by default
    for space, search in reference.spaces.items():
        rows = got["spaces"][space]["samples"]
        assert [r["neighbours"] for r in rows] == search.indices.tolist()
        assert np.allclose([r["distances"] for r in rows], search.distances, rtol=1e-12)
        share = search.percentile()
        assert got["spaces"][space]["flagged"] == int((share < 0.05).sum())
        assert got["spaces"][space]["baseline_n"] == 40
        assert got["spaces"][space]["nearest_min"] == pytest.approx(search.distances[:, 0].min())
        assert {r["nearest_class"] for r in rows} <= set(data.class_names)

    assert main([*args, "--quiet"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    pixel_row = next(line for line in out.out.splitlines() if line.startswith("pixel "))
    assert f"{got['spaces']['pixel']['nearest_median']:.4g}" in pixel_row
    assert "of 12" in pixel_row


def test_anomalies_auc_matches_the_engine_and_lists_typical_images(toy_vae, capsys):
    path, data = toy_vae
    args = ["anomalies", "--checkpoint", str(path), "--n", "64", "--against", "inverted", "--top", "3",
            "--device", "cpu", "--quiet"]
    assert main([*args, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    model = load_checkpoint(path).snapshot("cpu")
    base = drain(score_images(model, data.test.images, data.test.labels)).scores
    foreign = drain(score_images(model, synthetic_outliers(data.test.images, "inverted"))).scores
    assert got["against"]["auc"] == pytest.approx(roc_auc(base, foreign), abs=1e-12)
    assert got["mean"] == pytest.approx(base.mean())
    assert set(got["per_class"]) == set(data.class_names)
    assert sum(c["n"] for c in got["per_class"].values()) == 64
    assert [p["index"] for p in got["most_typical"]] == np.argsort(base, kind="stable")[:3].tolist()
    assert got["least_typical"][0]["score"] == pytest.approx(base.max())

    assert main(args) == 0
    table = capsys.readouterr().out
    assert f"ROC AUC {got['against']['auc']:.3f}, {got['against']['separation']}" in table
    assert table.count("\n") >= 2 + len(data.class_names)  # a row per class


def test_a_model_that_cannot_serve_the_check_gets_one_line_and_exit_1(capsys):
    gan = gan_demo()
    assert main(["anomalies", "--checkpoint", gan, "--quiet"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "need a VAE, not a gan model" in line
    assert main(["memorisation", "--checkpoint", gan, "--spaces", "pixel,encoder"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "has no encoder" in line and "--spaces pixel" in line
    assert main(["memorisation", "--checkpoint", gan, "--spaces", "pixels"]) == 2  # a usage error
