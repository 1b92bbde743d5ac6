"""TaskSlot: one task per view; a released task's records and ending never reach the view."""

import threading

from desktop.task_runner import TaskRunner
from desktop.task_slot import TaskSlot


def _counting(gate: threading.Event):
    def work(control):
        yield 1
        gate.wait(5)  # the test releases the slot while the task waits here
        yield 2
    return work


def test_released_task_is_silent_and_a_new_one_is_heard(qtbot):
    runner = TaskRunner(max_threads=2)
    ended = []
    slot = TaskSlot(on_ended=lambda: ended.append("ended"))
    seen, gate = [], threading.Event()
    old = slot.start(runner, "old", _counting(gate), on_progress=lambda r: seen.append(("old", r)),
                     on_finished=lambda r: seen.append(("old done", r)))
    qtbot.waitUntil(lambda: seen == [("old", 1)], timeout=5000)
    slot.release()
    assert not slot.running and old.control.cancelled
    with qtbot.waitSignal(old.signals.ended, timeout=5000):
        gate.set()
    assert seen == [("old", 1)] and ended == []  # nothing after the release

    done = threading.Event()
    done.set()
    new = slot.start(runner, "new", _counting(done), on_progress=lambda r: seen.append(("new", r)),
                     on_finished=lambda r: seen.append(("new done", r)))
    qtbot.waitUntil(lambda: new.done, timeout=5000)
    assert seen[1:] == [("new", 1), ("new", 2), ("new done", 2)]
    assert ended == ["ended"] and not slot.running
    runner.shutdown()
