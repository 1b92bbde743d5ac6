"""The app on a full disk: training stops with one sentence, keeps its model, and File ▸ Save
Checkpoint As… writes it elsewhere. (The engine's tests use a real full tmpfs; here the disk
is made full by raising ENOSPC from the checkpoint write, as the issue allows in-process.)"""

from __future__ import annotations

import errno

import pytest
from PySide6.QtCore import Qt

import genai_engine.training as training
from desktop.main_window import MainWindow
from desktop.tabs.train_tab import IDLE
from genai_engine.checkpoints import load_checkpoint
from genai_engine.files import storage_error

pytestmark = pytest.mark.timeout(120)


def test_a_failed_epoch_save_stops_keeps_the_model_and_offers_save_as(qtbot, app_state, settings,
                                                                       tiny_dataset, tmp_path, monkeypatch):
    def full_disk(_payload, path):
        raise storage_error(OSError(errno.ENOSPC, "No space left on device"), path)

    monkeypatch.setattr(training, "atomic_torch_save", full_disk)
    settings.confirm_close = False
    window = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(window)
    app_state.set_dataset(tiny_dataset)
    tab = window.train_tab
    tab.form.field("hidden").setText("32")
    tab.form.field("latent_dim").setValue(4)
    tab.form.batch_size.setValue(100)
    tab.form.epochs.setValue(3)
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.run_state == IDLE and window.last_error is not None, timeout=60_000)

    title, message = window.last_error
    assert title == "Training stopped"
    first, _, advice = message.partition("\n\n")
    assert first == (f"cannot write {tab.run_dir}/checkpoint.pt: no space left on the disk holding "
                     f"{tab.run_dir}; free some space or choose another folder (training stopped after "
                     "epoch 1; an earlier checkpoint there is unchanged)")
    assert "Save Checkpoint As" in advice
    kept = app_state.checkpoint
    assert kept is not None and kept.path is None and kept.epoch == 1
    assert window.save_checkpoint_action.isEnabled()

    window.save_checkpoint_as(tmp_path / "kept")  # other tasks (the tab's preview) may end first
    qtbot.waitUntil(lambda: kept.path == tmp_path / "kept.pt", timeout=30_000)
    saved = load_checkpoint(tmp_path / "kept.pt")
    assert saved.epoch == 1
    for name, value in saved.model.state_dict().items():
        assert value.equal(kept.model.state_dict()[name])
