"""Fixtures shared by all desktop tests.

- ``collect_garbage_between_tests`` (autouse): cycles are collected between tests, not in them.
- ``isolated_home`` (autouse): ``GENAI_LAB_HOME`` and ``GENAI_LAB_SETTINGS`` point into the
  test's tmp folder, so runs, logs and QSettings never touch the user's.
- ``settings``: a ``desktop.settings.Settings`` on that isolated .ini file.
- ``app_state``: an ``AppState`` (device cpu) whose ``TaskRunner`` is shut down at teardown;
  the test fails if a pool task is still running then.
- ``tiny_dataset`` (session): 2,000 Fashion-MNIST train and 500 test images as a ``Dataset``.
- ``tiny_checkpoint`` (session): path of a small MLP VAE (hidden 64, latent 8) trained one
  epoch on ``tiny_dataset``; load it with ``load_checkpoint``.
- ``ready_state``: ``app_state`` with ``tiny_dataset`` and ``tiny_checkpoint`` already set.
"""

from __future__ import annotations

import gc
import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from genai_engine.checkpoints import load_checkpoint
from genai_engine.data import Dataset, ImageSet
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.resources import resources_dir
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

TINY_TRAIN, TINY_TEST = 2000, 500

# One intra-op thread: training runs beside the GUI thread, and on a busy 2-core machine two
# spinning OpenMP threads made a 40-step tiny run take ~50 s instead of ~2 s.
torch.set_num_threads(1)
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]


@pytest.fixture(autouse=True)
def collect_garbage_between_tests():
    """No automatic cycle collection during a test, one full collection after it (set up
    first, so it runs after the test's widgets are closed). A collection that starts inside a
    Qt call holding a lock, and frees widgets of an earlier test, deadlocks in their
    destructors (seen in CI inside QObject::disconnect); the app collects from a timer for the
    same reason (``desktop/app.py``)."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "genai-home"
    home.mkdir()
    monkeypatch.setenv("GENAI_LAB_HOME", str(home))
    monkeypatch.setenv("GENAI_LAB_SETTINGS", str(home / "settings.ini"))
    return home


@pytest.fixture
def settings(isolated_home):
    from desktop.settings import Settings

    return Settings(isolated_home / "settings.ini")


@pytest.fixture
def app_state(qtbot):
    from PySide6.QtWidgets import QApplication

    from desktop.state import AppState

    state = AppState(device="cpu")
    yield state
    runner = state.runner
    leftover = [handle.name for handle in runner.active]
    finished = runner.shutdown(15_000)
    QApplication.processEvents()  # deliver the queued ``ended`` signals
    assert finished, f"pool threads still running at teardown: {leftover}"
    assert runner.pool.activeThreadCount() == 0
    assert not runner.active, f"tasks not ended at teardown: {[h.name for h in runner.active]}"


def _read_idx_gz(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _fashion_mnist() -> Dataset:
    try:
        from genai_engine.data import load_dataset
    except ImportError:  # the loader lands separately; read the embedded IDX files directly
        folder = resources_dir() / "datasets" / "fashion-mnist"
        def split(prefix: str) -> ImageSet:
            images = _read_idx_gz(folder / f"{prefix}-images-idx3-ubyte.gz")[..., None]
            labels = _read_idx_gz(folder / f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
            return ImageSet(np.ascontiguousarray(images), labels)
        return Dataset("fashion-mnist", split("train"), split("t10k"), FASHION_CLASSES)
    return load_dataset("fashion-mnist")


@pytest.fixture(scope="session")
def tiny_dataset() -> Dataset:
    full = _fashion_mnist()
    def head(images_set: ImageSet, n: int) -> ImageSet:
        labels = None if images_set.labels is None else images_set.labels[:n].copy()
        return ImageSet(images_set.images[:n].copy(), labels)
    return Dataset("fashion-mnist-tiny", head(full.train, TINY_TRAIN), head(full.test, TINY_TEST),
                   list(full.class_names or FASHION_CLASSES), source="tests")


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny-checkpoint")
    done = drain(train(tiny_dataset, ModelConfig(hidden=(64,), latent_dim=8,
                                                 image_shape=tiny_dataset.image_shape),
                       TrainConfig(epochs=1, batch_size=100, device="cpu"), out_dir=out))
    assert done.checkpoint, "the tiny training run wrote no checkpoint"
    return Path(done.checkpoint)


@pytest.fixture
def ready_state(app_state, tiny_dataset, tiny_checkpoint):
    app_state.set_dataset(tiny_dataset)
    app_state.set_checkpoint(load_checkpoint(tiny_checkpoint))
    return app_state
