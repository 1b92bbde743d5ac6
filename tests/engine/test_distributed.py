"""torchrun with 2 gloo ranks on the CPU: real processes, real rendezvous on localhost."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.checkpoints import load_checkpoint


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args, ranks: int, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if ranks == 1:
        command = [sys.executable, "-m", "genai_engine", *args]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={ranks}",
                   "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{free_port()}",
                   "-m", "genai_engine", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=400, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def toy_npz(tmp_path):
    data = make_toy_dataset(n_train=1024, n_test=256)
    path = tmp_path / "toy.npz"
    np.savez(path, images=data.train.images[..., 0], labels=data.train.labels,
             test_images=data.test.images[..., 0], test_labels=data.test.labels)
    return path


def common(npz, out, epochs=None):
    return ["train", "--dataset", str(npz), "--hidden", "64", "--latent-dim", "4",
            *(["--epochs", str(epochs)] if epochs else []),
            "--batch-size", "64", "--lr", "3e-3", "--device", "cpu", "--out", str(out), "--json"]


def test_two_gloo_ranks_match_one_process_and_resume_across_rank_counts(toy_npz, tmp_path):
    single = launch(common(toy_npz, tmp_path / "single", 3), 1, tmp_path)
    double = launch(common(toy_npz, tmp_path / "ddp", 3), 2, tmp_path)
    assert double["world_size"] == 2 and single["world_size"] == 1
    one = load_checkpoint(single["checkpoint"]).history["test_loss"]
    two = load_checkpoint(double["checkpoint"]).history["test_loss"]
    # Same effective batch and data order; only the reparameterisation noise differs per rank.
    assert np.allclose(one, two, rtol=0.03), (one, two)
    assert two[-1] < two[0]

    # Resume the 2-rank run's checkpoint with one process: the run continues at epoch 4.
    resumed = launch([*common(toy_npz, tmp_path / "ddp", 4), "--resume", double["checkpoint"]], 1, tmp_path)
    checkpoint = load_checkpoint(resumed["checkpoint"])
    assert checkpoint.epoch == 4 and len(checkpoint.history["test_loss"]) == 4
    assert checkpoint.history["test_loss"][:3] == pytest.approx(two)


def test_two_ranks_stop_together_at_a_time_limit(toy_npz, tmp_path):
    args = [*common(toy_npz, tmp_path / "timed"), "--minutes", "0.05", "--epoch-images", "128"]
    summary = launch(args, 2, tmp_path)
    # rank 0's clock decides for both: a rank that stopped alone would leave the other waiting
    # in a gradient exchange until the launch's timeout
    assert summary["status"] == "time limit" and summary["world_size"] == 2
    assert summary["epochs"] >= 2 and load_checkpoint(summary["checkpoint"]).epoch == summary["epochs"]
