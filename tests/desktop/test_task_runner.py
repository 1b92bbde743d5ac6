"""TaskRunner: outcomes arrive as signals, and memory freed by a task goes back to the OS."""

import sys
import threading

import numpy as np
import pytest

import desktop.task_runner as task_runner
from desktop.task_runner import TaskRunner, release_free_memory


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_release_free_memory_returns_freed_arena_pages():
    kept = []

    def fragment() -> None:  # small blocks live in this thread's arena; keep 1 in 64
        blocks = [np.ones(1000) for _ in range(40_000)]  # 8 kB each: 320 MB
        kept.extend(blocks[::64])

    thread = threading.Thread(target=fragment)
    thread.start()
    thread.join()
    before = rss_mb()
    assert release_free_memory()
    assert before - rss_mb() > 200  # most of the freed blocks' pages are returned
    assert len(kept) == 625


def test_memory_is_released_after_real_tasks_only(qtbot, monkeypatch):
    calls = []
    monkeypatch.setattr(task_runner, "release_free_memory", lambda: calls.append(1) or True)
    runner = TaskRunner()
    for quiet in (True, False):
        handle = runner.call("work", lambda: 42, quiet=quiet)
        # ``done`` is set by a slot the runner connects before the task starts (a signal
        # waited on only now could already have been emitted)
        qtbot.waitUntil(lambda h=handle: h.done, timeout=5000)
    assert runner.shutdown(5000)
    assert calls == [1]
