"""Latest-wins background work for live views (slider drags, map hover).

A live view asks for a new image far more often than a decode can finish. ``LatestWins`` keeps
at most one job in flight and one pending slot that every new request overwrites, so a fast
drag never queues a backlog: when the running job ends, only the newest request runs next.
Every request gets a generation number; a result is delivered only if it is newer than anything
delivered so far and was not made stale by ``discard()`` (e.g. after a model change). Results of
jobs that were superseded while running are still delivered when they are the newest
available, so the view keeps moving during a drag; the final result is always that of the last
request.

``ThrottledLatestWins`` serves secondary views that follow the same point (a class grid, a
filmstrip beside the main image): it starts the newest request at most every ``interval_ms``
and only while its widget is visible, so a drag keeps its frame budget for the main image.

The jobs run in one service task on the ``TaskRunner`` that waits for the pending slot and
ends after a moment without requests. Handing a request over is a lock and a notify: unlike
starting a pool task per request, it never makes the GUI thread give up the GIL and queue
behind a training thread for it (measured: up to hundreds of ms on a busy 2-core machine).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop.task_runner import TaskRunner, describe_error

IDLE_EXIT_S = 1.0  # the service task ends after this long without a request
POLL_S = 0.05  # how often a waiting service looks at its cancel flag


class LatestWins(QObject):
    """Run ``fn()`` jobs on the runner, newest first, dropping superseded and stale results."""

    ready = Signal(object, object)  # result, tag of the request that produced it
    failed = Signal(str)  # a readable message (the newest request failed)
    idle = Signal()  # nothing running, pending or on its way back

    def __init__(self, runner: TaskRunner, name: str = "decode", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.name = name
        self.generation = 0  # of the newest request
        self.delivered_generation = 0  # of the newest result handed out
        self._stale_up_to = 0  # results of generations <= this are dropped
        # Shared with the service thread, guarded by the condition's lock:
        self._cond = threading.Condition()
        self._pending: tuple[int, Callable[[], object], object] | None = None
        self._running = False
        self._in_transit = 0  # results yielded but not yet handled in the GUI thread
        self._alive = False  # a service task is running and will look at the slot
        self.started_jobs = 0  # how many jobs actually ran (the rest were overwritten)

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._running or self._pending is not None or self._in_transit > 0

    def request(self, fn: Callable[[], object], tag: object = None) -> int:
        """Ask for ``fn()`` to run in the background; returns the request's generation."""
        self.generation += 1
        with self._cond:
            self._pending = (self.generation, fn, tag)  # overwrite: the older one never runs
            start = not self._alive
            self._alive = True
            self._cond.notify()
        if start:
            self.runner.submit(self.name, self._serve, on_progress=self._on_result, quiet=True)
        return self.generation

    def discard(self) -> None:
        """Drop the pending request and make every result requested so far stale."""
        with self._cond:
            self._pending = None
        self._stale_up_to = self.generation

    # -- worker thread ---------------------------------------------------------------------
    def _serve(self, control):
        """The service task: take the pending job, run it, yield its outcome; repeat."""
        last_work = time.monotonic()
        while True:
            with self._cond:
                while self._pending is None:
                    if control.cancelled or time.monotonic() - last_work > IDLE_EXIT_S:
                        self._alive = False  # decided under the lock: a new request restarts
                        return
                    self._cond.wait(POLL_S)
                (generation, fn, tag), self._pending = self._pending, None
                self._running = True
                self.started_jobs += 1
            try:
                outcome = (generation, tag, fn(), None)
            except Exception as error:  # noqa: BLE001 - reported to the view, the service goes on
                outcome = (generation, tag, None, describe_error(error))
            with self._cond:
                self._running = False
                self._in_transit += 1
            last_work = time.monotonic()
            yield outcome

    # -- GUI thread ------------------------------------------------------------------------
    def _wanted(self, generation: int) -> bool:
        return generation > self.delivered_generation and generation > self._stale_up_to

    def _on_result(self, outcome) -> None:
        generation, tag, result, error = outcome
        with self._cond:
            self._in_transit -= 1
        if error is None and self._wanted(generation):
            self.delivered_generation = generation
            self.ready.emit(result, tag)
        elif error is not None and self._wanted(generation) and generation == self.generation:
            self.failed.emit(error)
        if not self.busy:
            self.idle.emit()


class LatestWinsDecoder(LatestWins):
    """Latest-wins decoding of one latent vector with a model snapshot (``VAEInference``)."""

    def decode(self, model, z: np.ndarray, label: int | None = None, tag: object = None) -> int:
        # Copy now: the caller keeps editing its vector while the job waits or runs.
        z = np.array(z, dtype=np.float32, copy=True)
        labels = None if label is None else np.array([label], dtype=np.int64)
        return self.request(lambda: model.decode(z, labels), tag)


class ThrottledLatestWins(QObject):
    """``LatestWins`` for a secondary view: the newest request starts at most every
    ``interval_ms`` and only while ``widget`` is visible (a hidden one runs it once shown)."""

    def __init__(self, runner: TaskRunner, name: str, widget: QWidget, interval_ms: int,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = LatestWins(runner, name, self)
        self.ready, self.failed = self.job.ready, self.job.failed
        self.widget = widget
        self._next: tuple[Callable[[], object], object] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._start)
        widget.installEventFilter(self)

    @property
    def settled(self) -> bool:
        """Nothing waiting, running or on its way back (a hidden view's wait excepted)."""
        waiting = self._next is not None and self.widget.isVisible()
        return not (waiting or self._timer.isActive() or self.job.busy)

    def request(self, fn: Callable[[], object], tag: object = None) -> None:
        self._next = (fn, tag)
        if not self._timer.isActive():
            self._timer.start()

    def discard(self) -> None:
        self._next = None
        self._timer.stop()
        self.job.discard()

    def _start(self) -> None:
        if self._next is not None and self.widget.isVisible():
            (fn, tag), self._next = self._next, None
            self.job.request(fn, tag)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Show and self._next is not None and not self._timer.isActive():
            self._timer.start()
        return False
