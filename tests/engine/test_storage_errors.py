"""A full disk, a read-only folder, an interrupted run: one clear sentence, nothing earlier lost.

CI runs as root, for whom permissions prove nothing, so these tests write to real small or
read-only filesystems: a ``tmpfs`` mounted in a private mount namespace (``unshare -m``, or
``unshare -rm`` for a normal user), which vanishes with the process. Each case runs as a
subprocess inside that namespace and reports what it saw as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from toy_data import make_toy_dataset

pytestmark = pytest.mark.timeout(120)
TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent


def _unshare_prefix() -> list[str] | None:
    """The command that runs a shell in a private mount namespace, if this machine allows it."""
    if shutil.which("unshare") is None:
        return None
    for prefix in (["unshare", "-m"], ["unshare", "-rm"]):
        probe = [*prefix, "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d"]
        if subprocess.run(probe, capture_output=True, timeout=30).returncode == 0:
            return prefix
    return None


UNSHARE = _unshare_prefix()
needs_mounts = pytest.mark.skipif(
    UNSHARE is None, reason="needs `unshare -m` (or -rm) and tmpfs mounts to make a real full or "
    "read-only filesystem; not permitted here")

# fills the disk holding $1 to the last byte
FILL = "dd if=/dev/zero of=$1/filler bs=4k 2>/dev/null; true"


def run_in_namespace(mounts: str, command: str, tmp_path: Path, env: dict | None = None):
    """``mounts`` (shell, may use $D for tmp_path/disk) then ``command`` in a private mount
    namespace; returns the CompletedProcess."""
    disk = tmp_path / "disk"
    disk.mkdir(exist_ok=True)
    script = f"D={disk}; {mounts} && {command}"
    environment = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{TESTS}",
                   "GENAI_LAB_HOME": str(tmp_path / "home"), **(env or {})}
    return subprocess.run([*UNSHARE, "sh", "-c", script], capture_output=True, text=True, timeout=110,
                          cwd=tmp_path, env=environment)


@pytest.fixture
def toy_npz(tmp_path):
    data = make_toy_dataset(n_train=128, n_test=32)
    path = tmp_path / "toy.npz"
    np.savez(path, images=data.train.images[..., 0], labels=data.train.labels,
             test_images=data.test.images[..., 0], test_labels=data.test.labels)
    return path


def train_command(data: Path, out: str, epochs: int = 1, batch: int = 16) -> str:
    return (f"{sys.executable} -m genai_engine train --dataset {data} --hidden 16 --latent-dim 2 "
            f"--epochs {epochs} --batch-size {batch} --device cpu --out {out}")


ENGINE_WRITES = textwrap.dedent('''
    import json, os, sys
    from pathlib import Path
    import numpy as np
    from toy_data import make_toy_dataset
    from genai_engine.checkpoints import atomic_torch_save, load_checkpoint
    from genai_engine.errors import CheckpointNotSaved, StorageError
    from genai_engine.families.vae.nets import ModelConfig
    from genai_engine.metrics.evaluate import evaluate, run_to_result
    from genai_engine.report import export_report
    from genai_engine.sampling import save_samples
    from genai_engine.tasks import drain
    from genai_engine.training import TrainConfig, train

    disk, elsewhere = Path(sys.argv[1]), Path(sys.argv[2])
    seen = {}
    toy = make_toy_dataset(n_train=64, n_test=32, size=28)
    config = ModelConfig(hidden=(16,), latent_dim=2, image_shape=toy.image_shape)
    earlier = drain(train(toy, config, TrainConfig(epochs=1, batch_size=16, device="cpu"),
                          out_dir=disk / "run"))
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, bytes(4096))
    except OSError as error:
        seen["filled"] = error.errno
    os.close(fd)

    def failure(work):
        try:
            work()
        except StorageError as error:
            return {"message": str(error), "type": type(error).__name__}
        return None

    # the per-epoch checkpoint of a resumed run: stop, keep the model in memory
    try:
        drain(train(toy, None, TrainConfig(epochs=2, batch_size=16, device="cpu"), out_dir=disk / "run",
                    resume=load_checkpoint(earlier.checkpoint)))
    except CheckpointNotSaved as error:
        seen["checkpoint"] = {"message": str(error), "kept_epoch": error.checkpoint.epoch}
        # "Save Checkpoint As..." elsewhere writes the kept model
        seen["saved_elsewhere"] = load_checkpoint(atomic_torch_save(error.checkpoint.raw,
                                                                    elsewhere / "kept.pt")).epoch
    seen["earlier_epoch"] = load_checkpoint(earlier.checkpoint).epoch
    images = toy.test.images[:4]
    seen["png"] = failure(lambda: save_samples(images, disk / "samples.png"))
    seen["npz"] = failure(lambda: save_samples(images, disk / "samples.npz"))
    seen["report"] = failure(lambda: export_report(disk / "report.html", load_checkpoint(earlier.checkpoint),
                                                   toy, n_samples=4))
    result = run_to_result(evaluate(toy, toy.train.images, n=64, features="domain", device="cpu", kid=False,
                                    precision_recall_k=None, inception_score_splits=None, bootstrap=0,
                                    cache_dir=disk / "stats_cache"))
    seen["fid"] = result.fid
    seen["warnings"] = result.warnings
    seen["temp_files"] = [str(p) for p in disk.rglob("*.tmp")]
    print(json.dumps(seen))
''')


@needs_mounts
def test_a_full_disk_fails_every_write_with_one_sentence_and_keeps_what_was_there(tmp_path):
    (tmp_path / "engine_writes.py").write_text(ENGINE_WRITES)
    (tmp_path / "elsewhere").mkdir()
    result = run_in_namespace("mount -t tmpfs -o size=512k tmpfs $D",
                              f"{sys.executable} engine_writes.py $D {tmp_path / 'elsewhere'}", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["filled"] == 28  # ENOSPC: the disk really was full
    disk = tmp_path / "disk"
    checkpoint = seen["checkpoint"]
    assert checkpoint["message"].startswith(f"cannot write {disk}/run/checkpoint.pt: no space left on "
                                            f"the disk holding {disk}/run; free some space")
    assert "training stopped after epoch 2" in checkpoint["message"] and "\n" not in checkpoint["message"]
    assert checkpoint["kept_epoch"] == 2 and seen["saved_elsewhere"] == 2
    assert seen["earlier_epoch"] == 1  # the earlier checkpoint still loads
    for kind, name in (("png", "samples.png"), ("npz", "samples.npz"), ("report", "report.html")):
        assert seen[kind] == {"type": "StorageError", "message": f"cannot write {disk}/{name}: no space left "
                              f"on the disk holding {disk}; free some space or choose another folder"}, kind
    # a statistics cache that cannot be written: FID is still computed, with a note
    assert np.isfinite(seen["fid"])
    notes = [w for w in seen["warnings"] if "not cached" in w]
    assert len(notes) == 1 and "no space left on the disk holding" in notes[0]
    assert seen["temp_files"] == []


@needs_mounts
def test_cli_train_on_a_full_disk_says_so_and_exits_1(tmp_path, toy_npz):
    result = run_in_namespace(f"mount -t tmpfs -o size=256k tmpfs $D && sh -c '{FILL}' - $D",
                              f"{train_command(toy_npz, '$D/run')}; echo rc=$?; ls -a $D/run", tmp_path)
    lines = result.stdout.strip().splitlines()
    assert "rc=1" in lines, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [f"genai-lab train: error: cannot write {tmp_path}/disk/run/checkpoint.pt: no space "
                      f"left on the disk holding {tmp_path}/disk/run; free some space or choose another "
                      "folder (training stopped after epoch 1; an earlier checkpoint there is unchanged)"]
    assert not [name for name in lines[lines.index("rc=1") + 1:] if name not in (".", "..")]  # no temp file


@needs_mounts
def test_cli_train_into_a_read_only_folder_fails_before_training(tmp_path, toy_npz):
    result = run_in_namespace("mkdir -p $D && mount -t tmpfs -o ro tmpfs $D",
                              f"{train_command(toy_npz, '$D/run', epochs=50)}; echo rc=$?", tmp_path)
    assert "rc=1" in result.stdout, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "epoch" not in result.stderr
    assert result.stderr.strip() == (f"genai-lab train: error: cannot create the folder {tmp_path}/disk/run: "
                                     f"{tmp_path}/disk is read-only or not yours; choose a folder you can "
                                     "write to")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_first_epoch_saves_the_partial_epoch(tmp_path, signum):
    data = make_toy_dataset(n_train=40_000, n_test=32)  # one epoch of batch 4 takes many seconds
    path = tmp_path / "big.npz"
    np.savez(path, images=data.train.images[..., 0], test_images=data.test.images[..., 0])
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "GENAI_LAB_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(train_command(path, str(out), batch=4).split(), cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while not out.is_dir() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the trainer makes the run folder just before its first step
    time.sleep(1.0)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr[-3000:]
    assert stderr.strip().splitlines()[-1] == (f"genai-lab train: stopped by {signal.Signals(signum).name}; "
                                               f"checkpoint saved: {out / 'checkpoint.pt'}")
    import torch

    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.families import get_family

    checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert checkpoint.epoch == 0  # a partial epoch counts as not yet trained: a resume runs it again
    assert checkpoint.history == {}
    torch.manual_seed(0)  # the trainer's seed before it builds the network
    initial = get_family("vae").build(checkpoint.model_config).state_dict()
    moved = [name for name, value in checkpoint.model.state_dict().items()
             if not torch.allclose(value, initial[name])]
    assert moved  # but its weights are the partly trained ones, not the initial ones
