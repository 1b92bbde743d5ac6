"""The evaluate generator, the domain network and the fid/weights commands, end to end."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from genai_engine.data import Dataset, ImageSet, load_dataset
from genai_engine.metrics.evaluate import EvalProgress, EvalResult, evaluate
from genai_engine.metrics.features import domain
from genai_engine.tasks import TaskControl

FAST = dict(kid=False, precision_recall_k=None, inception_score_splits=None, bootstrap=0)


def result_of(generator) -> EvalResult:
    records = list(generator)
    assert all(isinstance(r, EvalProgress) for r in records[:-1])
    assert isinstance(records[-1], EvalResult)
    return records[-1]


@pytest.fixture(scope="module")
def fashion() -> Dataset:
    return load_dataset("fashion-mnist")


@pytest.fixture(scope="module")
def shipped_domain():
    path = domain.default_weights_path()
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def vae_checkpoint(fashion, tmp_path_factory):
    """The demo checkpoint if it is there, else a VAE trained here for two short epochs."""
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.resources import demo_checkpoint_path

    if demo_checkpoint_path().is_file():
        return load_checkpoint(demo_checkpoint_path())
    from genai_engine.training import TrainConfig, train

    small = Dataset(
        "fashion-small", ImageSet(fashion.train.images[:12000], fashion.train.labels[:12000]),
        ImageSet(fashion.test.images[:500], fashion.test.labels[:500]),
    )
    out = tmp_path_factory.mktemp("vae")
    for _ in train(small, train_config=TrainConfig(epochs=2, device="cpu"), out_dir=out):
        pass
    return load_checkpoint(out / "checkpoint.pt")


def test_shipped_domain_network_records_its_accuracy_and_dataset(shipped_domain, fashion):
    payload = torch.load(shipped_domain, map_location="cpu", weights_only=True)
    assert payload["dataset_fingerprint"] == fashion.fingerprint
    assert payload["test_accuracy"] >= 0.90
    net = domain.load_domain_network(shipped_domain)
    assert net.dim == 128 and "domain" in net.label
    # its recorded accuracy is what it scores now
    acc = domain.accuracy(net.net, fashion.test.images[:2000], fashion.test.labels[:2000], "cpu")
    assert abs(acc - payload["test_accuracy"]) < 0.03


def test_sanity_ordering_train_lt_vae_lt_noise(fashion, shipped_domain, vae_checkpoint, tmp_path):
    n = 3000
    noise = np.random.default_rng(0).integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)
    results = {}
    for name, fake in (
        ("train", ImageSet(fashion.train.images[:n])),
        ("vae", vae_checkpoint),
        ("noise", noise),
    ):
        results[name] = result_of(
            evaluate(
                fashion, fake, n=n, features="domain", cache_dir=tmp_path, device="cpu",
                kid_subsets=10, precision_recall_k=None, inception_score_splits=None, bootstrap=0,
            )
        )
    fid = {k: r.fid for k, r in results.items()}
    kid = {k: r.kid_mean for k, r in results.items()}
    assert fid["train"] < fid["vae"] < fid["noise"], fid
    assert kid["train"] < kid["vae"] < kid["noise"], kid
    assert results["vae"].real_cache_hit and results["noise"].real_cache_hit
    assert all(r.n_real == 10_000 and r.n_fake == n for r in results.values())


def test_full_result_cache_and_warnings(fashion, shipped_domain, tmp_path):
    fake = ImageSet(fashion.train.images[5000:5600])
    first = result_of(evaluate(fashion, fake, features="domain", cache_dir=tmp_path, device="cpu",
                               kid_subsets=10, kid_subset_size=300, bootstrap=30))
    assert not first.real_cache_hit and len(list(tmp_path.glob("real-*.npz"))) == 1
    second = result_of(evaluate(fashion, fake, features="domain", cache_dir=tmp_path, device="cpu",
                                kid_subsets=10, kid_subset_size=300, bootstrap=30))
    assert second.real_cache_hit and second.fid == first.fid and second.kid_mean == first.kid_mean
    r = second
    assert r.features == "domain" and r.feature_dim == 128 and "domain" in r.feature_label
    assert r.fid_ci is not None and r.fid_ci[0] <= r.fid <= r.fid_ci[1] + 1e-9
    assert 0 <= r.precision <= 1 and 0 <= r.recall <= 1 and r.precision > 0.5
    assert 5 < r.inception_score <= 10  # real clothes: confident and varied
    json.dumps(r.to_dict())
    # other real data (another fingerprint) never hits that entry
    other = result_of(evaluate(fashion.test.images[:3000], fake, features="domain",
                               cache_dir=tmp_path, device="cpu", **FAST))
    assert not other.real_cache_hit and other.n_real == 3000
    tiny = result_of(evaluate(fashion, fashion.train.images[:50], features="domain",
                              cache_dir=tmp_path, device="cpu", **FAST))
    assert any("singular" in w for w in tiny.warnings)


def test_cancel_stops_without_result_or_cache(fashion, shipped_domain, tmp_path):
    control = TaskControl()
    records = []
    for record in evaluate(fashion, fashion.train.images[:1000], features="domain",
                           cache_dir=tmp_path, device="cpu", batch_size=100, control=control, **FAST):
        records.append(record)
        if isinstance(record, EvalProgress) and record.stage == "real features":
            control.cancel()
    assert records[-1].stage == "cancelled"
    assert not any(isinstance(r, EvalResult) for r in records)
    assert not list(tmp_path.glob("real-*.npz"))


def test_checkpoint_stream_equals_sample_images(vae_checkpoint):
    from genai_engine.metrics.sources import fake_source
    from genai_engine.sampling import sample_images

    source = fake_source(vae_checkpoint, 1500, 3, "cpu")
    streamed = np.concatenate([images for _, images in source.shard(128, 0, 1)])
    np.testing.assert_array_equal(streamed, sample_images(vae_checkpoint, 1500, seed=3, device="cpu"))


@pytest.mark.parametrize("channels", [1, 3])
def test_decoded_images_have_plain_c_strides(channels):
    """A permuted (N, C, H, W) tensor would keep its strides: with C = 1 numpy still calls it
    C-contiguous, but a convolution downstream takes another path (features differ ~1e-8)."""
    from genai_engine.tensors import to_uint8_images

    images = to_uint8_images(torch.rand(4, channels, 5, 6))
    assert images.shape == (4, 5, 6, channels) and images.flags.c_contiguous
    assert images.strides == np.empty(images.shape, np.uint8).strides


def test_evaluate_on_a_checkpoint_equals_evaluate_on_its_images(fashion, shipped_domain,
                                                                vae_checkpoint, tmp_path):
    from genai_engine.families.vae.inference import VAEInference
    from genai_engine.sampling import sample_images

    model = VAEInference.from_checkpoint(vae_checkpoint, "cpu")
    decoded = model.decode(np.zeros((3, model.latent_dim), np.float32))
    assert decoded.strides == np.empty(decoded.shape, np.uint8).strides
    n = 600  # within one sampling chunk: both streams cut the same batches
    real = fashion.test.images[:1000]
    settings = dict(n=n, seed=4, kid_subsets=10, kid_subset_size=200, inception_score_splits=5,
                    bootstrap=0, device="cpu", cache_dir=tmp_path)
    from_checkpoint = result_of(evaluate(real, vae_checkpoint, **settings))
    images = sample_images(vae_checkpoint, n, seed=4, device="cpu")
    from_images = result_of(evaluate(real, images, **settings))
    assert from_images.real_cache_hit and from_checkpoint.n_fake == from_images.n_fake == n
    for name in ("fid", "kid_mean", "inception_score", "precision", "recall"):
        got, want = getattr(from_checkpoint, name), getattr(from_images, name)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), name


def test_train_domain_network_on_a_toy_dataset(toy_dataset, tmp_path):
    records = list(domain.train_domain_network(toy_dataset.train, toy_dataset.test, epochs=3,
                                               batch_size=64, device="cpu", dataset_name="toy"))
    result = records[-1]
    assert isinstance(result, domain.DomainTrainResult) and result.test_accuracy > 0.6
    path = domain.save_domain_network(result.payload, tmp_path / "toy.pt")
    net = domain.load_domain_network(path)
    feats, logits = net.extract(toy_dataset.test.images[:10])
    assert feats.shape == (10, 128) and logits.shape == (10, 3)
    with pytest.raises(Exception, match="trained on 12x12x1"):
        net.check_images((1, 28, 28, 1))
    # cancelling returns a result marked cancelled
    control = TaskControl()
    control.cancel()
    last = list(domain.train_domain_network(toy_dataset.train, None, epochs=1, control=control,
                                            device="cpu"))[-1]
    assert last.cancelled


def fid_parser():
    from genai_engine.commands import fid, weights

    parser = argparse.ArgumentParser(prog="genai-lab")
    sub = parser.add_subparsers(dest="command")
    fid.register(sub)
    weights.register(sub)
    return parser


def test_fid_command_json(fashion, shipped_domain, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENAI_LAB_HOME", str(tmp_path))
    fake = tmp_path / "fake.npz"
    np.savez(fake, images=fashion.train.images[:400])
    args = fid_parser().parse_args(
        ["fid", "--real", "fashion-mnist", "--fake", str(fake), "--features", "domain",
         "--device", "cpu", "--json", "--no-pr", "--bootstrap", "20"]
    )
    assert args.func(args) == 0
    out = capsys.readouterr()
    data = json.loads(out.out.strip().splitlines()[-1])
    for key in ("fid", "kid_mean", "kid_std", "n_real", "n_fake", "features", "seconds"):
        assert key in data
    assert data["n_real"] == 10_000 and data["n_fake"] == 400 and data["features"] == "domain"
    assert "generated images 400/400" in out.err  # progress goes to stderr


def test_weights_install_from_a_file_checks_the_hash(tmp_path, monkeypatch):
    from genai_engine.errors import WeightsError

    monkeypatch.setenv("GENAI_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENAI_LAB_RESOURCES", str(tmp_path / "res"))
    monkeypatch.delenv("GENAI_LAB_INCEPTION_WEIGHTS", raising=False)
    bogus = tmp_path / "default_1.pt"
    bogus.write_bytes(b"x" * 100)
    args = fid_parser().parse_args(["weights", "install", "--from", str(bogus)])
    with pytest.raises(WeightsError, match="sha256"):
        args.func(args)
    assert not (tmp_path / "home" / "weights").exists() or not any((tmp_path / "home" / "weights").iterdir())
    args = fid_parser().parse_args(["weights", "list"])
    assert args.func(args) == 0


def test_cli_registers_fid_and_weights():
    from genai_engine import cli

    assert "fid" in cli.COMMANDS and "weights" in cli.COMMANDS


def test_metrics_and_commands_do_not_import_qt():
    code = (
        "import sys, genai_engine.commands.fid, genai_engine.commands.weights, "
        "genai_engine.metrics.evaluate, genai_engine.metrics.features.inception, "
        "genai_engine.metrics.features.domain; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
