"""A CUDA out-of-memory inside a task reaches the user as advice, and the runner goes on."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(60)


def _oom_training(control):
    yield "first step"
    raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total "
                       "capacity; 5.10 GiB already allocated)")


def test_out_of_memory_becomes_advice_and_the_runner_keeps_working(qtbot, app_state):
    runner = app_state.runner
    messages, progress = [], []
    with qtbot.waitSignal(runner.task_ended, timeout=10_000):
        handle = runner.submit("Training", _oom_training, on_progress=progress.append,
                               on_error=messages.append)
    assert progress == ["first step"]
    assert len(messages) == 1
    assert "smaller batch size" in messages[0] and "Preferences" in messages[0]
    assert "Tried to allocate" not in messages[0]  # the raw text stays in the log
    assert handle.done and not runner.active

    results = []
    with qtbot.waitSignal(runner.task_ended, timeout=10_000):
        runner.call("Next task", lambda: 6 * 7, on_finished=results.append,
                    on_error=messages.append)
    assert results == [42] and len(messages) == 1


def test_other_errors_stay_readable_one_line(qtbot, app_state):
    messages = []
    with qtbot.waitSignal(app_state.runner.task_ended, timeout=10_000):
        app_state.runner.call("Broken", lambda: {}["missing"], on_error=messages.append)
    assert messages and "\n" not in messages[0] and "KeyError" in messages[0]
