"""One atomic writer for every file the app saves: the mode a plain open() gives, no torn files."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager

import pytest

from genai_engine.checkpoints import load_checkpoint, save_checkpoint
from genai_engine.families.vae.nets import ModelConfig, build_model
from genai_engine.files import atomic_write, atomic_write_text
from genai_engine.report import write_report

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@contextmanager
def umask(value: int):
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_report_and_checkpoint_are_shared_readable_under_umask_022(tmp_path):
    model = build_model(ModelConfig(hidden=(8,), latent_dim=2, image_shape=(1, 4, 4)))
    with umask(0o022):
        report = write_report("<p>run</p>", tmp_path / "out" / "report.html")
        checkpoint = save_checkpoint(tmp_path / "run" / "checkpoint.pt", model, family="vae",
                                     train_config={}, epoch=1, history={"train_loss": [1.0]},
                                     dataset={"name": "toy", "fingerprint": "f" * 16,
                                              "image_shape": [1, 4, 4]})
    assert mode(report) == 0o644 and mode(checkpoint) == 0o644
    assert report.read_text(encoding="utf-8") == "<p>run</p>"
    assert load_checkpoint(checkpoint).epoch == 1


def test_the_users_umask_is_kept(tmp_path):
    with umask(0o077):
        private = atomic_write_text(tmp_path / "private.json", "{}")
    with umask(0o002):
        group = atomic_write(tmp_path / "group.bin", lambda handle: handle.write(b"x"))
    assert mode(private) == 0o600 and mode(group) == 0o664


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    path = atomic_write_text(tmp_path / "data.txt", "old")

    def fail(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, fail)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.txt"]


def test_only_temp_files_of_dead_writers_are_cleared(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    path = tmp_path / "model.pt"
    stale = tmp_path / f".model.pt.{dead}-0a1b2c3d.tmp"
    busy = tmp_path / f".model.pt.{os.getpid()}-0a1b2c3d.tmp"  # another thread of ours writing
    stale.write_bytes(b"left by a killed writer")
    busy.write_bytes(b"another thread is writing")
    atomic_write_text(path, "new")
    assert not stale.exists() and busy.exists() and path.read_text() == "new"
