"""Latest-wins background work for live views (slider drags, map hover).

A live view asks for a new image far more often than a decode can finish. ``LatestWins`` keeps
at most one job in flight on the ``TaskRunner`` and one pending slot that every new request
overwrites, so a fast drag never queues a backlog: when the running job ends, only the newest
request runs next. Every request gets a generation number; a result is delivered only if it is
newer than anything delivered so far and was not made stale by ``discard()`` (e.g. after a
model change). Results of jobs that were superseded while running are still delivered when
they are the newest available, so the view keeps moving during a drag; the final result is
always that of the last request.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop.task_runner import TaskRunner


class LatestWins(QObject):
    """Run ``fn()`` jobs on the runner, newest first, dropping superseded and stale results."""

    ready = Signal(object, object)  # result, tag of the request that produced it
    failed = Signal(str)  # a readable message (the newest request failed)
    idle = Signal()  # nothing in flight and nothing pending

    def __init__(self, runner: TaskRunner, name: str = "decode", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.name = name
        self.generation = 0  # of the newest request
        self.delivered_generation = 0  # of the newest result handed out
        self._stale_up_to = 0  # results of generations <= this are dropped
        self._in_flight = False
        self._pending: tuple[int, Callable[[], object], object] | None = None
        self.started_jobs = 0  # how many jobs actually ran (the rest were overwritten)

    @property
    def busy(self) -> bool:
        return self._in_flight or self._pending is not None

    def request(self, fn: Callable[[], object], tag: object = None) -> int:
        """Ask for ``fn()`` to run on the pool; returns the request's generation."""
        self.generation += 1
        job = (self.generation, fn, tag)
        if self._in_flight:
            self._pending = job  # overwrite: the older pending request will never run
        else:
            self._start(job)
        return self.generation

    def discard(self) -> None:
        """Drop the pending request and make every result requested so far stale."""
        self._pending = None
        self._stale_up_to = self.generation

    def _start(self, job: tuple[int, Callable[[], object], object]) -> None:
        generation, fn, tag = job
        self._in_flight = True
        self.started_jobs += 1
        self.runner.call(
            f"{self.name} #{generation}", fn,
            on_finished=lambda result: self._finished(generation, tag, result),
            on_error=lambda message: self._failed(generation, message),
            on_cancelled=lambda: self._ended(),
        )

    def _wanted(self, generation: int) -> bool:
        return generation > self.delivered_generation and generation > self._stale_up_to

    def _finished(self, generation: int, tag: object, result: object) -> None:
        wanted = self._wanted(generation)
        self._ended()  # start the next job before the (possibly slow) display of this one
        if wanted:
            self.delivered_generation = generation
            self.ready.emit(result, tag)

    def _failed(self, generation: int, message: str) -> None:
        wanted = self._wanted(generation) and generation == self.generation
        self._ended()
        if wanted:
            self.failed.emit(message)

    def _ended(self) -> None:
        self._in_flight = False
        if self._pending is not None:
            job, self._pending = self._pending, None
            self._start(job)
        else:
            self.idle.emit()


class LatestWinsDecoder(LatestWins):
    """Latest-wins decoding of one latent vector with a model snapshot (``VAEInference``)."""

    def decode(self, model, z: np.ndarray, label: int | None = None, tag: object = None) -> int:
        # Copy now: the caller keeps editing its vector while the job waits or runs.
        z = np.array(z, dtype=np.float32, copy=True)
        labels = None if label is None else np.array([label], dtype=np.int64)
        return self.request(lambda: model.decode(z, labels), tag)
