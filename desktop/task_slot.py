"""One task at a time for a view: the single way a view runs an engine generator.

A ``TaskSlot`` starts ``work(control)`` on the ``TaskRunner`` and keeps its handle. Every
yielded record arrives at ``on_progress``, the last one (the result) at ``on_finished``, a
failure as one readable sentence at ``on_error``, a stop on request at ``on_cancelled``. The
slot is free again before any of the three ending callbacks runs, so a callback may start the
next task. ``release()`` cancels the task and lets it go: its late records and its ending are
dropped, which is how a view abandons work for an older model or dataset. ``TaskBar`` is the
slot with Run / Cancel buttons; views with their own controls (Train, Evaluate, the Explore
map) use a slot directly.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.task_runner import TaskHandle, TaskRunner, Work


class TaskSlot:
    def __init__(self, on_ended: Callable[[], None] | None = None) -> None:
        self.handle: TaskHandle | None = None
        self._on_ended = on_ended  # the owner's own bookkeeping, before the caller's callback

    @property
    def running(self) -> bool:
        return self.handle is not None

    def start(self, runner: TaskRunner, name: str, work: Work, *, on_progress=None, on_finished=None,
              on_error=None, on_cancelled=None) -> TaskHandle:
        """Start ``work``; the callbacks hear only from this task, and only while it is held."""
        handle: TaskHandle | None = None

        def current(callback):
            def slot(*args):
                if handle is self.handle and callback is not None:
                    callback(*args)
            return slot

        def ending(callback):
            def slot(*args):
                if handle is not self.handle:
                    return  # released: a task nobody waits for any more
                self.handle = None
                if self._on_ended is not None:
                    self._on_ended()
                if callback is not None:
                    callback(*args)
            return slot

        handle = runner.submit(name, work, on_progress=current(on_progress),
                               on_finished=ending(on_finished), on_error=ending(on_error),
                               on_cancelled=ending(on_cancelled))
        self.handle = handle
        return handle

    def cancel(self) -> bool:
        """Ask the task to stop (its ``on_cancelled`` follows); True if one was running."""
        if self.handle is None:
            return False
        self.handle.cancel()
        return True

    def pause(self) -> None:
        if self.handle is not None:
            self.handle.pause()

    def resume(self) -> None:
        if self.handle is not None:
            self.handle.resume()

    def release(self) -> None:
        """Cancel the task and forget it: nothing it still sends reaches the view."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
