"""Run engine generators on a private thread pool and report through Qt signals.

``TaskRunner.submit(name, work)`` takes ``work(control) -> iterator`` (an engine generator such
as ``training.train``). Every yielded record arrives as ``progress``; the last record as
``finished``; a raised exception as ``errored`` with a readable message; ``cancelled`` when
the task stopped on request. Exactly one of finished / errored / cancelled is emitted, then
``ended``. Signals live on a QObject owned by the GUI thread; emits from the worker thread are
queued, so slots always run in the GUI thread. The GUI thread never runs model code.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from itertools import count

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from genai_engine.errors import GenAIError
from genai_engine.tasks import TaskControl

log = logging.getLogger(__name__)
Work = Callable[[TaskControl], Iterator]


def describe_error(error: BaseException) -> str:
    """One readable sentence for the user; the traceback goes to the log."""
    if isinstance(error, GenAIError):
        return str(error)
    text = str(error)
    if "out of memory" in text.lower():
        return ("The GPU ran out of memory. Try a smaller batch size or model, or choose the CPU "
                "as the device in Preferences.")
    if isinstance(error, MemoryError):
        return "The computer ran out of memory. Try a smaller dataset, batch size or model."
    first = text.strip().splitlines()[0] if text.strip() else ""
    detail = f"{type(error).__name__}: {first[:300]}" if first else type(error).__name__
    return f"Unexpected error ({detail}). Details are in the log."


def _load_malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return None


_malloc_trim = _load_malloc_trim()


def release_free_memory() -> bool:
    """Give the memory freed by a finished task back to the OS (glibc only; True if it did).

    glibc keeps freed blocks in per-thread arenas; after a training or an evaluation on a pool
    thread that can be hundreds of MB the next task, on another thread, does not reuse, so the
    app's footprint would creep up run after run.
    """
    return bool(_malloc_trim(0)) if _malloc_trim is not None else False


class TaskSignals(QObject):
    progress = Signal(object)
    finished = Signal(object)
    errored = Signal(str)
    cancelled = Signal()
    ended = Signal()


class TaskHandle:
    """What a caller keeps: the signals to connect, and cancel/pause/resume."""

    def __init__(self, task_id: int, name: str, quiet: bool = False) -> None:
        self.id = task_id
        self.name = name
        self.quiet = quiet  # an interactive helper (e.g. slider decoding), not a task to announce
        self.control = TaskControl()
        self.signals = TaskSignals()
        self.done = False

    def cancel(self) -> None:
        self.control.cancel()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()


class _Job(QRunnable):
    def __init__(self, handle: TaskHandle, work: Work) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.handle = handle
        self.work = work

    def run(self) -> None:  # worker thread
        handle, signals, control = self.handle, self.handle.signals, self.handle.control
        last = None
        # Generators check ``control`` themselves, so a cancelled training run still saves
        # its checkpoint and yields its final record before the loop ends.
        try:
            for record in self.work(control):
                last = record
                signals.progress.emit(record)
        except BaseException as error:  # noqa: BLE001 - every failure must reach the user
            log.error("task %r failed:\n%s", handle.name, traceback.format_exc())
            signals.errored.emit(describe_error(error))
        else:
            if control.cancelled:
                signals.cancelled.emit()
            else:
                signals.finished.emit(last)
        finally:
            if not handle.quiet:  # a real task, not a slider decode: worth the few ms
                release_free_memory()
            signals.ended.emit()


class TaskRunner(QObject):
    """Owns a private QThreadPool; ``shutdown()`` cancels everything and waits."""

    task_started = Signal(object)  # TaskHandle
    task_ended = Signal(object)

    def __init__(self, max_threads: int = 3, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._ids = count(1)
        self._active: dict[int, TaskHandle] = {}

    @property
    def active(self) -> list[TaskHandle]:
        return list(self._active.values())

    def submit(self, name: str, work: Work, *, on_progress=None, on_finished=None,
               on_error=None, on_cancelled=None, quiet: bool = False) -> TaskHandle:
        """Start ``work`` on the pool. Callbacks are connected before the task starts.

        ``quiet`` tasks (short interactive work) are not shown as the running task.
        """
        handle = TaskHandle(next(self._ids), name, quiet)
        signals = handle.signals
        for signal, slot in ((signals.progress, on_progress), (signals.finished, on_finished),
                             (signals.errored, on_error), (signals.cancelled, on_cancelled)):
            if slot is not None:
                signal.connect(slot)
        signals.ended.connect(lambda h=handle: self._on_ended(h))
        self._active[handle.id] = handle
        self.task_started.emit(handle)
        self.pool.start(_Job(handle, work))
        return handle

    def call(self, name: str, fn: Callable[[], object], **callbacks) -> TaskHandle:
        """Run a plain function on the pool; its return value arrives as ``finished``."""
        return self.submit(name, lambda control: iter((fn(),)), **callbacks)

    def _on_ended(self, handle: TaskHandle) -> None:
        handle.done = True
        self._active.pop(handle.id, None)
        self.task_ended.emit(handle)

    def cancel_all(self) -> None:
        for handle in self.active:
            handle.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every task and wait for the pool; True if all threads finished in time."""
        self.cancel_all()
        return self.pool.waitForDone(timeout_ms)
