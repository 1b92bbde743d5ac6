"""Every hostile checkpoint: one CheckpointError from the engine, one line and a non-zero exit
from the CLI, and no code ever runs from a pickle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_checkpoints import (
    EXPECTED,
    HOSTILE_CHECKPOINTS,
    PICKLE_MARKER,
    write_wrong_dataset,
)

from genai_engine.checkpoints import load_checkpoint, save_checkpoint
from genai_engine.cli import main as cli_main
from genai_engine.errors import CheckpointError
from genai_engine.families.vae.nets import ModelConfig, build_model

pytestmark = pytest.mark.timeout(120)
NAMES = sorted(HOSTILE_CHECKPOINTS)


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> Path:
    """A valid, untrained checkpoint of a tiny MLP VAE (no training needed to corrupt one)."""
    model = build_model(ModelConfig(hidden=(16,), latent_dim=4, image_shape=(1, 8, 8)))
    path = tmp_path_factory.mktemp("good") / "good.pt"
    save_checkpoint(path, model, family="vae", train_config={}, epoch=1, history={"train_loss": [1.0]},
                    dataset={"name": "toy", "fingerprint": "f" * 16, "image_shape": [1, 8, 8]})
    load_checkpoint(path)  # the starting point itself is fine
    return path


def _hostile(name: str, tmp_path: Path, good: Path) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return HOSTILE_CHECKPOINTS[name](folder, good)


@pytest.mark.parametrize("name", NAMES)
def test_engine_refuses_with_checkpoint_error(name, tmp_path, good_checkpoint):
    path = _hostile(name, tmp_path, good_checkpoint)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert any(phrase in message.lower() for phrase in EXPECTED[name]), message
    assert not (path.parent / PICKLE_MARKER).exists()


@pytest.mark.parametrize("name", NAMES)
def test_cli_sample_one_line_non_zero(name, tmp_path, good_checkpoint, capsys):
    path = _hostile(name, tmp_path, good_checkpoint)
    out = tmp_path / "samples.png"
    code = cli_main(["sample", "--checkpoint", str(path), "--out", str(out), "--n", "4",
                     "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and not out.exists()
    assert len(err.splitlines()) == 1 and err.startswith("genai-lab sample: error:"), err
    assert not (path.parent / PICKLE_MARKER).exists()


@pytest.mark.parametrize("name", ["pickle_runs_code", "truncated_zip"])
def test_cli_subprocess_refuses(name, tmp_path, good_checkpoint):
    path = _hostile(name, tmp_path, good_checkpoint)
    result = subprocess.run(
        [sys.executable, "-m", "genai_engine", "sample", "--checkpoint", str(path),
         "--out", str(tmp_path / "s.png"), "--device", "cpu"],
        capture_output=True, text=True, timeout=90,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "checkpoint" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (path.parent / PICKLE_MARKER).exists()


def test_checkpoint_from_another_dataset_is_refused_on_resume(tmp_path, good_checkpoint):
    from toy_data import make_toy_dataset

    from genai_engine.training import TrainConfig, train

    path = write_wrong_dataset(tmp_path, good_checkpoint)
    checkpoint = load_checkpoint(path)  # valid on its own: only resuming on other data is wrong
    with pytest.raises(CheckpointError, match="trained on dataset 'other-data'"):
        next(iter(train(make_toy_dataset(), None, TrainConfig(epochs=1, device="cpu"),
                        out_dir=tmp_path / "run", resume=checkpoint)))


def test_the_pickle_exploits_really_run_code_when_unpickled(tmp_path, good_checkpoint):
    """Guards the corpus itself: an unsafe loader would indeed create the marker."""
    import pickle

    import torch

    path = _hostile("plain_pickle_runs_code", tmp_path, good_checkpoint)
    pickle.loads(path.read_bytes())
    assert (path.parent / PICKLE_MARKER).is_dir()
    zipped = _hostile("pickle_runs_code", tmp_path, good_checkpoint)
    torch.load(zipped, weights_only=False)
    assert (zipped.parent / PICKLE_MARKER).is_dir()
