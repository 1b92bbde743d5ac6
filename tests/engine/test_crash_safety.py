"""SIGKILL a real training process at random moments: the last checkpoint always survives."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.checkpoints import load_checkpoint

KILLS = 10


@pytest.mark.timeout(900)  # ten torch start-ups; seconds each on a quiet machine
def test_random_sigkills_never_corrupt_the_checkpoint(tmp_path):
    data = make_toy_dataset(n_train=256, n_test=64)
    npz = tmp_path / "toy.npz"
    np.savez(npz, images=data.train.images[..., 0], labels=data.train.labels)
    out = tmp_path / "run"
    checkpoint = out / "checkpoint.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rng = random.Random(1234)
    epochs_seen = []
    survived = 0
    for _ in range(KILLS):
        command = [sys.executable, "-m", "genai_engine", "train", "--dataset", str(npz), "--hidden", "32",
                   "--latent-dim", "3", "--epochs", "100000", "--batch-size", "16", "--device", "cpu",
                   "--out", str(out)]
        if checkpoint.exists():
            command += ["--resume", str(checkpoint)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        # Wait until this process has saved once (torch takes a while to start), then kill at
        # a random moment of training: epochs of 16 steps take a few tens of ms, so saves
        # happen all the time and some kills land mid-save.
        before = checkpoint.stat().st_mtime_ns if checkpoint.exists() else None
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if checkpoint.exists() and checkpoint.stat().st_mtime_ns != before:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL, process.stderr.read()
        loaded = load_checkpoint(checkpoint)  # raises if the file were torn
        epochs_seen.append(loaded.epoch)
        assert len(loaded.history["test_loss"]) == loaded.epoch
        survived += 1
    assert survived == KILLS
    assert epochs_seen == sorted(epochs_seen), "a resumed run went backwards"
    assert epochs_seen[-1] > epochs_seen[0], "resuming after kills made no progress"
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 1, leftovers  # at most the temp file of the save that was killed
    json.loads((out / "run.json").read_text())  # the run record is written atomically too
