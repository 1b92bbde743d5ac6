"""The Train tab driven through its widgets: train, pause/resume, stop, resume, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.tabs.train_tab import IDLE, PAUSED, RUNNING, TrainTab
from genai_engine.checkpoints import load_checkpoint
from genai_engine.errors import TrainingDiverged
from genai_engine.training import StepRecord

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def tab(qtbot, app_state, tiny_dataset):
    app_state.set_dataset(tiny_dataset)
    widget = TrainTab(app_state)
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    # Tiny, fast settings typed into the form as a user would.
    widget.form.field("hidden").setText("32")
    widget.form.field("latent_dim").setValue(4)
    widget.form.batch_size.setValue(100)
    widget.form.epochs.setValue(2)
    return widget


def _wait_idle(qtbot, tab: TrainTab, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: tab.run_state == IDLE, timeout=timeout)


def test_training_shows_curves_progress_and_saves_checkpoints(qtbot, tab, app_state):
    models = []
    app_state.model_changed.connect(models.append)
    with qtbot.waitSignal(app_state.checkpoint_changed, timeout=60_000):
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
        assert tab.run_state == RUNNING
        assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
        assert not tab.form.isEnabled()
    _wait_idle(qtbot, tab)
    qtbot.waitUntil(lambda: tab.plot.points("test", "loss") == 2, timeout=2_000)
    assert tab.plot.points("train", "loss") >= 2
    assert tab.plot.points("train", "kl") == tab.plot.points("train", "loss")
    # Buffered drawing: far fewer redraws than records would mean one plot call per record.
    assert tab.plot.redraws <= tab.plot.points("train", "loss") + 6
    assert not tab.plot.redraw_timer.isActive()
    checkpoint = Path(tab.last_checkpoint)
    assert checkpoint.is_file() and checkpoint.parent == tab.run_dir
    assert str(tab.run_dir) in tab.run_label.text() and tab.open_folder_button.isEnabled()
    assert load_checkpoint(checkpoint).epoch == 2
    assert app_state.checkpoint.path == checkpoint
    assert len(models) >= 3  # one snapshot per epoch, then the final checkpoint
    assert tab.diagnostics.kl_bars.values is not None and len(tab.diagnostics.kl_bars.values) == 4
    assert tab.progress.value() == 1000 and "Finished after 2 epochs" in tab.progress_text
    assert tab.recon_view.image is not None
    assert tab.start_button.isEnabled() and tab.form.isEnabled()


def test_pause_holds_training_and_resume_continues(qtbot, tab):
    tab.form.epochs.setValue(200)
    steps = []

    tab.start()
    tab.handle.signals.progress.connect(
        lambda r: steps.append(r.step) if isinstance(r, StepRecord) else None)
    qtbot.waitUntil(lambda: len(steps) >= 1, timeout=30_000)
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)
    assert tab.run_state == PAUSED and tab.pause_button.text() == "Resume"
    qtbot.wait(400)  # a record already on its way may still arrive
    held = list(steps)
    qtbot.wait(600)
    assert steps == held, "training went on while paused"
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)
    assert tab.run_state == RUNNING and tab.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(steps) > len(held), timeout=30_000)
    qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    _wait_idle(qtbot, tab)


def test_stop_mid_run_leaves_a_loadable_checkpoint(qtbot, tab, app_state):
    tab.form.epochs.setValue(500)
    tab.start()
    qtbot.waitUntil(lambda: tab.plot.points("train", "loss") >= 1, timeout=30_000)
    started = time.monotonic()
    qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    assert "Stopping" in tab.progress_text
    _wait_idle(qtbot, tab)
    assert time.monotonic() - started < 20
    assert "Stopped" in tab.progress_text
    checkpoint = load_checkpoint(tab.last_checkpoint)
    assert checkpoint.model_config.latent_dim == 4
    qtbot.waitUntil(lambda: app_state.checkpoint is not None, timeout=5_000)
    assert str(app_state.checkpoint.path) == tab.last_checkpoint


def test_resume_continues_a_checkpoint_to_more_epochs(qtbot, tab, app_state, tiny_checkpoint):
    tab.resume_from(tiny_checkpoint)
    qtbot.waitUntil(lambda: tab.resume_checkpoint is not None, timeout=10_000)
    assert tab.resume_banner.isVisible() and "epoch 1" in tab.resume_label.text()
    assert not tab.form.model_box.isEnabled()  # the checkpoint fixes the architecture
    assert tab.form.field("latent_dim").value() == 8 and tab.form.field("hidden").text() == "64"
    tab.form.epochs.setValue(2)
    tab.start()
    _wait_idle(qtbot, tab)
    resumed = load_checkpoint(tab.last_checkpoint)
    assert resumed.epoch == 2 and len(resumed.history["test_loss"]) == 2
    assert tab.resume_checkpoint is None and tab.form.model_box.isEnabled()


def test_invalid_settings_give_an_inline_message(qtbot, tab, app_state):
    tab.form.field("hidden").clear()
    qtbot.keyClicks(tab.form.field("hidden"), "abc")
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    assert tab.run_state == IDLE and tab.handle is None
    assert tab.error_label.isVisible() and "Hidden widths" in tab.error_label.text()
    # Typing again clears the message; a bad learning rate is caught the same way.
    qtbot.keyClicks(tab.form.field("hidden"), "1")
    assert not tab.error_label.isVisible()
    tab.form.field("hidden").setText("32")
    tab.form.lr.setText("fast")
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    assert "Learning rate" in tab.error_label.text() and not app_state.runner.active


def test_divergence_shows_a_message_and_leaves_the_tab_usable(qtbot, tab, app_state,
                                                             monkeypatch):
    import desktop.training_work as train_module

    def diverging(dataset, *args, control=None, **kwargs):
        yield StepRecord(epoch=1, step=1, total_steps=40, loss=500.0,
                         metrics={"loss": 500.0, "recon": 480.0, "kl": 20.0}, lr=10.0,
                         images_per_s=1000.0, elapsed_s=0.1, eta_s=3.0)
        raise TrainingDiverged("the loss became nan at epoch 1, step 2; training stopped and "
                               "the last good weights were kept. Try a smaller learning rate.")

    monkeypatch.setattr(train_module, "train", diverging)
    errors = []
    app_state.error.connect(lambda title, message: errors.append((title, message)))
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    _wait_idle(qtbot, tab)
    assert errors and errors[0][0] == "Training stopped"
    assert "smaller learning rate" in errors[0][1]
    assert "error" in tab.progress_text.lower()
    assert tab.start_button.isEnabled() and tab.form.isEnabled()
    assert not tab.stop_button.isEnabled()


def test_settings_are_remembered(qtbot, app_state, tiny_dataset, tab):
    tab.form.field("latent_dim").setValue(7)
    tab.form.field("hidden").setText("48")
    tab.form.epochs.setValue(1)
    tab.start()
    _wait_idle(qtbot, tab)
    again = TrainTab(app_state)
    qtbot.addWidget(again)
    assert again.form.field("latent_dim").value() == 7 and again.form.field("hidden").text() == "48"


def test_a_time_limit_ends_the_run_annealed_and_is_remembered(qtbot, app_state, tab):
    tab.form.schedule.setCurrentText("late-decay")
    assert tab.form.epochs.isEnabled() and tab.form.epochs.value() == 2
    tab.form.minutes.setValue(0.1)  # six seconds
    assert not tab.form.epochs.isEnabled()  # the time decides how many epochs fit
    rates = []
    show_step = tab._on_step
    tab._on_step = lambda record: (rates.append(record.lr), show_step(record))
    started = time.perf_counter()
    tab.start()
    qtbot.waitUntil(lambda: "% of 0.1 min" in tab.progress_text, timeout=30_000)
    _wait_idle(qtbot, tab)
    assert 5.5 < time.perf_counter() - started < 60
    assert "Time limit reached: after" in tab.progress_text and tab.progress.value() == 1000
    checkpoint = load_checkpoint(tab.last_checkpoint)
    assert checkpoint.epoch > 2 and checkpoint.train_config["minutes"] == pytest.approx(0.1)
    assert rates[0] == pytest.approx(4e-3, rel=0.01) and rates[-1] < 0.2 * rates[0]  # held, then annealed
    again = TrainTab(app_state)
    qtbot.addWidget(again)
    assert again.form.minutes.value() == pytest.approx(0.1) and again.form.minutes.text() == "0.1 min"
