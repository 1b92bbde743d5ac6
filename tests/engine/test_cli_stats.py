"""``fid`` with a feature-statistics file on either side, as pytorch-fid allows."""

import json

import numpy as np
import pytest

from genai_engine.cli import main
from genai_engine.data import load_dataset
from genai_engine.metrics.features import domain, inception
from genai_engine.metrics.statistics import FeatureStats

DOMAIN = ["--features", "domain", "--device", "cpu", "--no-cache", "--bootstrap", "0", "--json", "--quiet"]


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    if not domain.default_weights_path().is_file():
        pytest.skip("the shipped domain network is missing")
    fashion = load_dataset("fashion-mnist")
    folder = tmp_path_factory.mktemp("stats")
    real, fake = folder / "real.npz", folder / "fake.npz"
    np.savez(real, images=fashion.test.images[:300])
    np.savez(fake, images=fashion.train.images[:200])
    return real, fake


def fid_json(capsys, *args) -> dict:
    assert main(["fid", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_saved_statistics_stand_in_for_either_side(image_files, tmp_path, capsys):
    real, fake = image_files
    fake_stats, real_stats = tmp_path / "fake-stats.npz", tmp_path / "real-stats.npz"
    full = fid_json(capsys, "--real", str(real), "--fake", str(fake), "--save-stats", str(fake_stats),
                    *DOMAIN)
    assert full["kid_mean"] is not None and full["precision"] is not None
    _, meta = FeatureStats.load(fake_stats)
    assert meta["feature_network_id"] == full["feature_network_id"]  # the file says which network
    assert meta["preprocessing"] == domain.PREPROCESSING

    from_fake_stats = fid_json(capsys, "--real", str(real), "--fake", str(fake_stats), *DOMAIN)
    assert from_fake_stats["fid"] == pytest.approx(full["fid"], rel=1e-9)
    assert from_fake_stats["n_fake"] == 200 and from_fake_stats["n_real"] == 300
    for key in ("kid_mean", "precision", "recall", "inception_score", "fid_ci"):
        assert from_fake_stats[key] is None, key
    [note] = [w for w in from_fake_stats["warnings"] if "not computed" in w]
    assert note.startswith("KID, precision/recall") and "the Inception Score" in note

    # the real side as statistics (saved by measuring the real images as the "generated" side)
    fid_json(capsys, "--real", str(fake), "--fake", str(real), "--save-stats", str(real_stats), *DOMAIN)
    from_real_stats = fid_json(capsys, "--real", str(real_stats), "--fake", str(fake), *DOMAIN)
    assert from_real_stats["fid"] == pytest.approx(full["fid"], rel=1e-9)
    assert from_real_stats["kid_mean"] is None and not from_real_stats["real_cache_hit"]
    assert from_real_stats["inception_score"] == pytest.approx(full["inception_score"])  # needs only fakes

    both = fid_json(capsys, "--real", str(real_stats), "--fake", str(fake_stats), *DOMAIN)
    assert both["fid"] == pytest.approx(full["fid"], rel=1e-9)

    # the human table says what is missing and why
    assert main(["fid", "--real", str(real_stats), "--fake", str(fake), *DOMAIN[:-2]]) == 0
    table = capsys.readouterr().out
    assert "KID" not in table.split("warning:")[0] and "not computed" in table


def test_a_network_mismatch_or_an_unrecorded_network_is_a_one_line_error(image_files, tmp_path, capsys):
    real, fake = image_files
    saved = tmp_path / "domain-stats.npz"
    fid_json(capsys, "--real", str(real), "--fake", str(fake), "--save-stats", str(saved), *DOMAIN)
    # domain statistics against Inception ones: refused before any weights are needed
    pytorch_fid = tmp_path / "pytorch-fid.npz"
    np.savez(pytorch_fid, mu=np.zeros(inception.FEATURE_DIM), sigma=np.eye(inception.FEATURE_DIM))
    assert main(["fid", "--real", str(pytorch_fid), "--fake", str(saved), "--quiet"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "domain-" in error[0] and "use --features domain" in error[0]

    # pytorch-fid's files record no network: Inception only
    plain = tmp_path / "plain.npz"
    stats, _ = FeatureStats.load(saved)
    np.savez(plain, mu=stats.mean, sigma=stats.covariance)
    assert main(["fid", "--real", str(plain), "--fake", str(fake), *DOMAIN]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "does not record which feature network" in error[0]
    assert "--features inception" in error[0]

    # options that make no sense with statistics: usage errors
    assert main(["fid", "--real", str(real), "--fake", str(saved), "--n", "50", *DOMAIN]) == 2
    assert main(["fid", "--real", str(saved), "--checkpoint", "x.pt", "--per-epoch"]) == 2


def test_two_pytorch_fid_files_need_no_weights_and_say_what_they_assumed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENAI_LAB_INCEPTION_WEIGHTS", str(tmp_path / "none.pt"))  # not installed
    rng = np.random.default_rng(0)
    d = inception.FEATURE_DIM
    mu, var = rng.normal(size=(2, d)), rng.uniform(0.5, 2.0, size=(2, d))
    paths = [tmp_path / "a.npz", tmp_path / "b.npz"]
    for path, m, v in zip(paths, mu, var, strict=True):
        np.savez(path, mu=m, sigma=np.diag(v))  # all pytorch-fid writes
    data = fid_json(capsys, "--real", str(paths[0]), "--fake", str(paths[1]), "--json")
    # diagonal covariances: FID in closed form
    want = ((mu[0] - mu[1]) ** 2).sum() + (var[0] + var[1] - 2 * np.sqrt(var[0] * var[1])).sum()
    assert data["fid"] == pytest.approx(want, rel=1e-12)
    assert data["feature_network_id"] == inception.NETWORK_ID and data["n_real"] == 0
    assert sum("does not record its feature network" in w for w in data["warnings"]) == 2

    bad = tmp_path / "bad.npz"
    np.savez(bad, mu=np.zeros(3), sigma=np.zeros((2, 2)))
    assert main(["fid", "--real", str(bad), "--fake", str(paths[1])]) == 1
    assert "sigma a square matrix" in capsys.readouterr().err
