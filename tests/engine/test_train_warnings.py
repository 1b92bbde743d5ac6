"""A user never sees an internal warning: conditional training prints none (PyTorch warns once
per process about a non-writable NumPy array, so this runs in a fresh one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from toy_data import make_toy_dataset


def test_conditional_training_prints_no_warning(tmp_path):
    data = make_toy_dataset(n_train=128, n_test=32)
    npz = tmp_path / "toy.npz"
    np.savez(npz, images=data.train.images[..., 0], labels=data.train.labels,
             test_images=data.test.images[..., 0], test_labels=data.test.labels)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GENAI_LAB_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, "-W", "always", "-m", "genai_engine", "train", "--dataset", str(npz),
         "--conditional", "--hidden", "16", "--latent-dim", "2", "--epochs", "1",
         "--batch-size", "32", "--device", "cpu", "--out", str(tmp_path / "run"), "--json"],
        capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["epochs"] == 1
