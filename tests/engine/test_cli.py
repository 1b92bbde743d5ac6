"""The headless CLI contract: JSON summaries, one-line errors, no Qt."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.checkpoints import load_checkpoint
from genai_engine.cli import main


def run_cli(*args, cwd=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "genai_engine", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)


@pytest.fixture
def toy_npz(tmp_path):
    data = make_toy_dataset(n_train=256, n_test=64)
    path = tmp_path / "toy.npz"
    np.savez(path, images=data.train.images[..., 0], labels=data.train.labels,
             test_images=data.test.images[..., 0], test_labels=data.test.labels)
    return path


def test_train_for_minutes_fills_the_time_with_epochs(toy_npz, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--dataset", str(toy_npz), "--hidden", "32", "--latent-dim", "3",
                 "--minutes", "0.02", "--epoch-images", "64", "--batch-size", "32", "--device", "cpu",
                 "--schedule", "late-decay", "--out", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "time limit" and summary["epochs"] >= 1
    record = json.loads((out / "run.json").read_text())
    assert record["train_config"]["minutes"] == 0.02 and record["train_config"]["schedule"] == "late-decay"
    assert record["train_config"]["epochs"] > 1000  # no --epochs: the time decides
    assert load_checkpoint(out / "checkpoint.pt").epoch == summary["epochs"]


def test_train_json_summary_then_sample(toy_npz, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--dataset", str(toy_npz), "--hidden", "32", "--latent-dim", "3",
                 "--epochs", "2", "--batch-size", "32", "--device", "cpu", "--out", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("epochs", "train_loss", "test_loss", "samples_per_s", "seconds", "checkpoint", "device"):
        assert key in summary
    assert summary["epochs"] == 2 and summary["device"] == "cpu"
    assert summary["samples_per_s"] > 0 and summary["test_loss"] > 0
    checkpoint = load_checkpoint(summary["checkpoint"])
    assert checkpoint.model_config.hidden == (32,) and checkpoint.model_config.latent_dim == 3

    resumed_code = main(["train", "--dataset", str(toy_npz), "--epochs", "3", "--batch-size", "32",
                         "--device", "cpu", "--out", str(out), "--resume", summary["checkpoint"],
                         "--json"])
    assert resumed_code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs"] == 3

    grid = tmp_path / "samples.png"
    assert main(["sample", "--checkpoint", summary["checkpoint"], "--n", "9", "--out", str(grid)]) == 0
    from PIL import Image

    assert Image.open(grid).size == (3 * 14 + 2, 3 * 14 + 2)  # 3x3 tiles of 12 px, 2 px gaps
    arrays = tmp_path / "samples.npz"
    assert main(["sample", "--checkpoint", summary["checkpoint"], "--n", "5", "--out", str(arrays)]) == 0
    with np.load(arrays) as data:
        assert data["images"].shape == (5, 12, 12, 1) and data["images"].dtype == np.uint8


@pytest.mark.parametrize("args,expected,code", [
    (["train", "--dataset", "/no/such/place"], "/no/such/place", 1),  # runtime failures: 1
    (["train", "--epochs", "0"], "epochs", 1),
    (["train", "--latent-dim", "1"], "latent dim", 1),
    (["train", "--hidden", "abc"], "hidden", 1),
    (["train", "--device", "tpu"], "device", 1),
    (["sample", "--checkpoint", "/no/such.pt", "--out", "x.png"], "no such checkpoint", 1),
    (["fid", "--fake", "x.npz", "--per-epoch"], "give --checkpoint", 2),  # usage errors: 2
])
def test_errors_are_one_line_with_the_exit_code_of_their_kind(args, expected, code, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and "Traceback" not in result.stderr


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"format": "genai-lab-vae", "x": Evil()}))
    result = run_cli("sample", "--checkpoint", str(path), "--out", str(tmp_path / "s.png"))
    assert result.returncode != 0
    assert not marker.exists()
    assert "checkpoint" in result.stderr


def test_engine_and_headless_cli_load_no_qt():
    code = (
        "import sys, genai_engine, genai_engine.training, genai_engine.families, genai_engine.cli\n"
        "from genai_engine.cli import build_parser\n"
        "build_parser()\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph', 'desktop'))]\n"
        "print(bad)\n"
        "assert not bad, bad\n"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['genai-lab', 'train', '--help']\n"
        "try:\n"
        "    runpy.run_module('genai_engine', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]\n"
        "sys.stderr.write(repr(bad))\n"
        "raise SystemExit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--latent-dim" in result.stdout


def test_info_lists_the_embedded_dataset(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "fashion-mnist" in info["datasets"]
    assert "cpu" in info["devices"]


def test_fid_per_epoch_prints_the_rows_of_timeline_fid(tmp_path, capsys, monkeypatch):
    from genai_engine.analysis.timeline_fid import NO_TIMELINE, format_timeline, timeline_fid
    from genai_engine.checkpoints import atomic_torch_save
    from genai_engine.data import load_dataset
    from genai_engine.metrics.features import domain
    from genai_engine.tasks import drain

    if not domain.default_weights_path().is_file():
        pytest.skip("the shipped domain network is missing")
    monkeypatch.setenv("GENAI_LAB_HOME", str(tmp_path / "home"))  # the statistics cache
    fashion = load_dataset("fashion-mnist")
    train_npz, real_npz = tmp_path / "train.npz", tmp_path / "real.npz"
    np.savez(train_npz, images=fashion.train.images[:1000, ..., 0],
             labels=fashion.train.labels[:1000])
    np.savez(real_npz, images=fashion.test.images[:300])
    assert main(["train", "--dataset", str(train_npz), "--hidden", "32", "--latent-dim", "4",
                 "--epochs", "3", "--batch-size", "100", "--device", "cpu",
                 "--out", str(tmp_path / "run"), "--json"]) == 0
    path = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["checkpoint"]

    fid = ["fid", "--per-epoch", "--real", str(real_npz), "--features", "domain", "--n", "200",
           "--device", "cpu"]
    assert main([*fid, "--checkpoint", path, "--json"]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    reference = drain(timeline_fid(load_checkpoint(path), str(real_npz), n=200,
                                   features="domain", device="cpu"))
    assert reference.real_cache_hit and not data["real_cache_hit"]  # the CLI ran first
    assert [row["epoch"] for row in data["rows"]] == [1, 2, 3]
    for got, want in zip(data["rows"], reference.rows, strict=True):
        assert got["epoch"] == want.epoch and got["n"] == want.n == 200
        assert got["fid"] == pytest.approx(want.fid, rel=1e-12)
        assert got["kid_mean"] == pytest.approx(want.kid_mean, rel=1e-12)
        assert got["kid_std"] == pytest.approx(want.kid_std, rel=1e-12)
    assert data["features"] == "domain" and data["feature_label"] == reference.feature_label
    assert data["feature_network_id"] == reference.feature_network_id
    assert len(out.out.strip().splitlines()) == 1  # --json: stdout is the JSON object alone
    table = format_timeline(reference).splitlines()[:5]  # header and the rows, on stderr
    assert "\n".join(table) in out.err
    assert "epoch 3: FID" in out.err  # progress goes to stderr

    # a checkpoint without per-epoch snapshots: a one-line error, non-zero
    bare = tmp_path / "bare.pt"
    raw = load_checkpoint(path).raw
    atomic_torch_save({k: v for k, v in raw.items() if k != "timeline"}, bare)
    result = run_cli(*fid, "--checkpoint", str(bare), cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"genai-lab fid: error: {NO_TIMELINE}"]


def test_usage_errors_exit_2_and_runtime_failures_exit_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse's own usage error
        main(["train", "--no-such-option"])
    assert exit_info.value.code == 2
    assert main(["compare", "/no/such.pt"]) == 1  # a bad file: the command ran and failed
    assert "no such checkpoint" in capsys.readouterr().err


def test_train_never_overwrites_a_run(toy_npz, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    train = ["train", "--dataset", str(toy_npz), "--hidden", "16", "--latent-dim", "2", "--epochs", "1",
             "--batch-size", "64", "--device", "cpu", "--json", "--quiet"]
    assert main(train) == 0 and main(train) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["run_folder"] != second["run_folder"]  # a new timestamped folder each time
    for summary in (first, second):
        folder = Path(summary["run_folder"])
        assert folder.parent == Path("runs") and "-toy" in folder.name  # runs/<time>-toy[-2]
        assert Path(summary["checkpoint"]) == folder / "checkpoint.pt"

    out = first["run_folder"]
    before = (tmp_path / out / "checkpoint.pt").read_bytes()
    assert main([*train, "--out", out]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / out / "checkpoint.pt").read_bytes() == before
    assert main([*train, "--out", out, "--overwrite", "--seed", "5"]) == 0
    assert (tmp_path / out / "checkpoint.pt").read_bytes() != before
    capsys.readouterr()
    # --resume without --out continues in the checkpoint's own folder
    assert main([*train, "--epochs", "2", "--resume", f"{out}/checkpoint.pt"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["run_folder"] == out and resumed["epochs"] == 2


def test_json_means_stdout_is_json_only_and_quiet_means_no_progress(toy_npz, tmp_path, capsys):
    train = ["train", "--dataset", str(toy_npz), "--hidden", "16", "--latent-dim", "2", "--epochs", "1",
             "--batch-size", "64", "--device", "cpu", "--out", str(tmp_path / "run")]
    assert main([*train, "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["epochs"] == 1 and "epoch 1/1" in out.err
    assert main([*train, "--overwrite", "--quiet"]) == 0
    out = capsys.readouterr()
    assert out.err == "" and out.out.startswith("done:")
    assert main(["sample", "--checkpoint", str(tmp_path / "run" / "checkpoint.pt"), "--n", "4",
                 "--out", str(tmp_path / "s.npz"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"path": str(tmp_path / "s.npz"), "n": 4, "seed": 0}


def test_every_option_has_help_and_shows_its_default():
    from genai_engine.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name in ("train", "sample", "fid", "likelihood", "compare", "report", "info"):
        own = commands[name]._actions
        if name == "train":  # the families' own options are the families' business
            own = own[:[a.dest for a in own].index("quiet") + 1]
        for action in own:
            assert action.help, f"{name} {action.option_strings} has no help"
    text = commands["train"].format_help()
    assert "(default: 0)" in " ".join(text.split()) and "(default: vae)" in text
    assert "(default: 64)" in commands["sample"].format_help()
