"""Window-wide keys: Ctrl+Return runs the visible tab's primary action, and Space pauses training
only when the focused control does not use Space itself."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.main_window import RUN_KEY, MainWindow

pytestmark = pytest.mark.timeout(180)
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(qtbot, ready_state, settings):
    settings.confirm_close = False
    win = MainWindow(ready_state, settings, restore_session=False)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitExposed(win)
    return win


def _stop_training(qtbot, window):
    window.train_tab.stop()
    qtbot.waitUntil(lambda: window.train_tab.run_state == "idle", timeout=60_000)


def _long_run(window):
    window.train_tab.form.batch_size.setValue(100)
    window.train_tab.form.epochs.setValue(1000)


def _start_long_training(qtbot, window):
    _long_run(window)
    window.train_tab.start()
    qtbot.waitUntil(lambda: window.train_tab.run_state == "running", timeout=30_000)


def test_ctrl_return_on_evaluate_measures_and_leaves_training_alone(qtbot, window):
    evaluate = window.evaluate_tab
    window.tabs.setCurrentWidget(evaluate)
    evaluate.samples_spin.setValue(200)
    evaluate.interval_check.setChecked(False)
    assert window.start_action.shortcut().isEmpty(), "Start gives Ctrl+Return to Measure here"
    assert "Ctrl+Return" in evaluate.run_button.toolTip()
    with qtbot.waitSignal(evaluate.finished, timeout=120_000):
        qtbot.keyClick(window, Qt.Key.Key_Return, CTRL)  # a button's shortcut clicks ~0.1 s later
    assert window.train_tab.run_state == "idle"
    assert window.tabs.currentWidget() is evaluate
    assert evaluate.history.rowCount() == 1


def test_ctrl_return_on_train_starts_training(qtbot, window):
    window.tabs.setCurrentWidget(window.evaluate_tab)
    window.tabs.setCurrentWidget(window.train_tab)  # the key comes back to Start
    assert window.start_action.shortcut() == RUN_KEY
    _long_run(window)
    qtbot.keyClick(window, Qt.Key.Key_Return, CTRL)
    assert window.train_tab.run_state != "idle"
    assert not window.evaluate_tab.running
    _stop_training(qtbot, window)


def test_space_on_a_focused_checkbox_toggles_it_and_does_not_pause(qtbot, window):
    _start_long_training(qtbot, window)
    window.tabs.setCurrentWidget(window.explore_tab)
    checkbox = window.explore_tab.show_inactive
    checkbox.setFocus()
    qtbot.waitUntil(checkbox.hasFocus, timeout=5_000)
    was = checkbox.isChecked()
    qtbot.keyClick(checkbox, Qt.Key.Key_Space)
    assert checkbox.isChecked() != was
    assert window.train_tab.run_state == "running"
    qtbot.keyClick(window.tabs, Qt.Key.Key_Space)  # a control without a use for Space
    assert window.train_tab.run_state == "paused"
    _stop_training(qtbot, window)
