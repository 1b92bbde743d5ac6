"""Cooperative control of long-running engine generators.

A generator receives a ``TaskControl`` and calls ``control.checkpoint()`` between steps: it
blocks while the task is paused and returns ``False`` once the task is cancelled, so the
generator can finish cleanly (save, yield a final record) instead of being killed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


class TaskControl:
    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._running = threading.Event()
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake a paused task so it can see the cancel

    def pause(self) -> None:
        if not self.cancelled:
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def checkpoint(self) -> bool:
        """Wait while paused; return ``True`` to go on, ``False`` when cancelled."""
        if not self._running.is_set():
            self._running.wait()
        return not self._cancelled.is_set()


@dataclass
class StageProgress:
    """A progress record of a task that runs in named stages (subclasses name the task)."""

    stage: str
    done: int
    total: int
    seconds: float  # since the task started
    message: str = ""  # a short line for people

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def drain(generator):
    """Run a generator to the end and return its last record (for headless callers)."""
    last = None
    for record in generator:
        last = record
    return last
