"""The main window: tabs, status bar, session restore with fallbacks, file actions, closing."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

import desktop.main_window as main_window_module
from desktop.main_window import MainWindow
from desktop.settings import Settings
from genai_engine.checkpoints import load_checkpoint

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def window(qtbot, app_state, settings):
    settings.confirm_close = False
    win = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(win)
    win.show()
    return win


def _wait_tasks(qtbot, state, timeout=60_000):
    qtbot.waitUntil(lambda: not state.runner.active, timeout=timeout)


def test_four_tabs_with_their_names_and_shortcuts(qtbot, window):
    tabs = window.findChild(type(window.tabs), "main_tabs")
    assert tabs is window.tabs
    names = [tabs.tabText(i) for i in range(tabs.count())]
    assert names[:4] == ["Train", "Explore", "Interpolate", "Evaluate"]
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentIndex() == 2
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentWidget() is window.train_tab


def test_status_bar_shows_device_and_running_task(qtbot, window, ready_state):
    assert window.device_label.text() == "Device: CPU"
    assert window.task_label.text() == "Ready"
    release = []
    window.state.runner.call("Busy work", lambda: _spin_until(release))
    assert window.task_label.text().startswith("Busy work")
    release.append(True)
    qtbot.waitUntil(lambda: window.task_label.text() == "Ready", timeout=10_000)


def _spin_until(flag: list) -> None:
    end = time.monotonic() + 10
    while not flag and time.monotonic() < end:
        time.sleep(0.01)


def test_first_start_opens_embedded_data_and_demo_model(qtbot, app_state, settings,
                                                       tiny_checkpoint, monkeypatch):
    monkeypatch.setattr(main_window_module, "demo_checkpoint_path", lambda: tiny_checkpoint)
    win = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(win)
    win.confirm_close = False
    win.restore_session()
    qtbot.waitUntil(lambda: app_state.dataset is not None and app_state.checkpoint is not None,
                    timeout=60_000)
    assert app_state.dataset.name == "fashion-mnist" and len(app_state.dataset.train) == 60_000
    assert Path(app_state.checkpoint.path) == tiny_checkpoint
    assert app_state.model is not None and win.last_error is None
    assert settings.last_dataset == "fashion-mnist"
    assert settings.last_checkpoint == str(tiny_checkpoint)
    assert win.train_tab.dataset_panel.name.text() == "fashion-mnist"
    _wait_tasks(qtbot, app_state)


def test_corrupt_last_checkpoint_and_missing_dataset_fall_back_with_a_message(
        qtbot, app_state, settings, tiny_checkpoint, tmp_path, monkeypatch):
    corrupt = tmp_path / "broken.pt"
    corrupt.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    settings.last_checkpoint = str(corrupt)
    settings.last_dataset = str(tmp_path / "gone.npz")
    monkeypatch.setattr(main_window_module, "demo_checkpoint_path", lambda: tiny_checkpoint)
    win = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(win)
    win.confirm_close = False
    errors = []
    app_state.error.connect(lambda title, message: errors.append(title))
    win.restore_session()
    qtbot.waitUntil(lambda: app_state.dataset is not None and app_state.checkpoint is not None,
                    timeout=60_000)
    assert sorted(errors) == ["Could not open the checkpoint", "Could not open the dataset"]
    assert win.error_boxes, "errors are shown in message boxes"
    assert Path(app_state.checkpoint.path) == tiny_checkpoint
    assert app_state.dataset.name == "fashion-mnist"
    assert settings.last_checkpoint == str(tiny_checkpoint)
    _wait_tasks(qtbot, app_state)


def test_bad_dataset_file_keeps_the_previous_dataset(qtbot, window, tiny_dataset, tmp_path):
    window.state.set_dataset(tiny_dataset)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip archive at all")
    window.loader.open_dataset(str(bad))
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=30_000)
    title, message = window.last_error
    assert title == "Could not open the dataset"
    assert "bad.npz" in message and tiny_dataset.name in message
    assert window.state.dataset is tiny_dataset
    assert window.train_tab.dataset_panel.name.text() == tiny_dataset.name
    assert window.settings.last_dataset != str(bad)
    _wait_tasks(qtbot, window.state)


def test_save_checkpoint_as_and_export_samples(qtbot, window, ready_state, tmp_path):
    assert window.save_checkpoint_action.isEnabled() and window.export_action.isEnabled()
    window.save_checkpoint_as(tmp_path / "copy")
    window.export_samples(tmp_path / "samples.npz", count=12)
    _wait_tasks(qtbot, ready_state)
    assert load_checkpoint(tmp_path / "copy.pt").model_config.latent_dim == 8
    with np.load(tmp_path / "samples.npz") as data:
        assert data["images"].shape == (12, 28, 28, 1)


def _start_long_training(qtbot, window, tiny_dataset):
    window.state.set_dataset(tiny_dataset)
    form = window.train_tab.form
    form.field("hidden").setText("32")
    form.field("latent_dim").setValue(4)
    form.batch_size.setValue(100)
    form.epochs.setValue(1000)
    window.tabs.setCurrentWidget(window.train_tab)
    window.train_tab.start()
    qtbot.waitUntil(lambda: window.train_tab.plot.points("train", "loss") >= 1
                    or ("train", "loss") in window.train_tab.plot.buffers, timeout=30_000)


def test_space_pauses_and_resumes_training(qtbot, window, tiny_dataset):
    _start_long_training(qtbot, window, tiny_dataset)
    window.activateWindow()
    window.train_tab.start_button.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.train_tab.run_state == "paused"
    assert "paused" in window.task_label.text()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.train_tab.run_state == "running"
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.train_tab.run_state == "stopping"
    qtbot.waitUntil(lambda: window.train_tab.run_state == "idle", timeout=30_000)
    assert Path(window.train_tab.last_checkpoint).is_file()


def test_close_while_training_asks_then_stops_and_keeps_the_checkpoint(
        qtbot, window, tiny_dataset, settings, monkeypatch):
    _start_long_training(qtbot, window, tiny_dataset)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked = []

    def question(*args, **kwargs):
        asked.append(args[2] if len(args) > 2 else "")
        return answers[len(asked) - 1]

    monkeypatch.setattr(QMessageBox, "question", question)
    window.confirm_close = True
    assert not window.close(), "answering No keeps the window open"
    assert window.isVisible() and window.train_tab.running
    assert "training" in asked[0]

    started = time.monotonic()
    assert window.close()
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"closing took {elapsed:.1f} s"
    assert not window.state.runner.active
    assert window.state.runner.pool.activeThreadCount() == 0
    saved = Path(window.train_tab.last_checkpoint)
    assert saved.is_file() and load_checkpoint(saved).model_config.latent_dim == 4
    reread = Settings(settings.path)
    assert reread.last_checkpoint == str(saved)
    assert reread.geometry is not None
    assert reread.train_defaults()["vae.latent_dim"] == "4"


def test_window_geometry_and_device_persist(qtbot, app_state, settings):
    first = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(first)
    first.confirm_close = False
    first.resize(1024, 700)
    first.show()
    assert first.apply_device("cpu")
    if not torch.cuda.is_available():
        assert not first.apply_device("cuda")
        assert first.last_error[0] == "Device not available" and first.state.device == "cpu"
    size = first.size()
    assert size.height() == 700
    first.close()
    second = MainWindow(app_state, Settings(settings.path), restore_session=False)
    qtbot.addWidget(second)
    second.confirm_close = False
    assert second.size() == size  # (not 1280x800, the first-start default)
    assert second.settings.device == "cpu"
