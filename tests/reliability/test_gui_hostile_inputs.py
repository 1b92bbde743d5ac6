"""Hostile files through the real main window: a message for the user, the previous dataset or
model stays open, and a corrupt settings file does not stop the window from opening."""

from __future__ import annotations

import hostile_corpus
import pytest
from hostile_checkpoints import CORRUPT_SETTINGS, HOSTILE_CHECKPOINTS, PICKLE_MARKER

from desktop.loaders import Loader
from desktop.main_window import MainWindow
from desktop.settings import Settings

pytestmark = pytest.mark.timeout(120)
DATA_CASES = ["idx_truncated_gzip", "idx_billions_of_images_gz", "npz_pickle_exploit"]
CHECKPOINT_CASES = ["pickle_runs_code", "nan_weights", "weights_do_not_match_config",
                    "random_bytes"]


@pytest.fixture
def window(qtbot, ready_state, settings):
    settings.confirm_close = False
    win = MainWindow(ready_state, settings, restore_session=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def _wait_loaded(qtbot, win):
    loader = Loader.for_state(win.state)
    qtbot.waitUntil(lambda: not loader.busy and not win.state.runner.active, timeout=30_000)


@pytest.mark.parametrize("name", [n for n in DATA_CASES if n in hostile_corpus.HOSTILE_DATA_CASES])
def test_hostile_dataset_shows_a_message_and_keeps_the_dataset(qtbot, window, tmp_path, name):
    before = window.state.dataset
    path = hostile_corpus.HOSTILE_DATA_CASES[name].write(tmp_path)
    Loader.for_state(window.state).open_dataset(str(path))
    _wait_loaded(qtbot, window)
    assert window.last_error is not None and window.last_error[0] == "Could not open the dataset"
    assert before.name in window.last_error[1]  # tells the user what is still open
    assert any(box.isVisible() for box in window.error_boxes)
    assert window.state.dataset is before
    assert not (tmp_path / hostile_corpus.PICKLE_MARKER).exists()


@pytest.mark.parametrize("name", CHECKPOINT_CASES)
def test_hostile_checkpoint_shows_a_message_and_keeps_the_model(qtbot, window, tmp_path,
                                                                tiny_checkpoint, name):
    before_checkpoint, before_model = window.state.checkpoint, window.state.model
    path = HOSTILE_CHECKPOINTS[name](tmp_path, tiny_checkpoint)
    Loader.for_state(window.state).open_checkpoint(str(path))
    _wait_loaded(qtbot, window)
    title, message = window.last_error
    assert title == "Could not open the checkpoint" and str(path) in message
    assert any(box.isVisible() for box in window.error_boxes)
    assert window.state.checkpoint is before_checkpoint and window.state.model is before_model
    assert not (tmp_path / PICKLE_MARKER).exists()
    # The app stays usable: the kept model still decodes through the runner.
    results = []
    window.state.runner.call("Decode", lambda: before_model.sample(2, 0),
                             on_finished=results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    assert results[0].shape[0] == 2


@pytest.mark.parametrize("name", sorted(CORRUPT_SETTINGS))
def test_corrupt_settings_do_not_stop_the_window(qtbot, app_state, isolated_home, name):
    path = isolated_home / "corrupt" / "settings.ini"
    path.parent.mkdir()
    CORRUPT_SETTINGS[name](path)
    settings = Settings(path)
    assert settings.device in ("auto", "cpu", "cuda", "mps")
    settings.confirm_close = False
    win = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(win)
    win.show()
    assert win.isVisible() and win.width() >= 1024
    assert win.train_tab.form.values()  # the Train form built despite garbage defaults
    win.close()
