"""Ctrl+C (SIGINT) and SIGTERM stop a headless run the way the app's Stop does: the task is
cancelled, finishes its step, saves, and the command exits 128 + the signal's number.

A second Ctrl+C while it saves is the usual KeyboardInterrupt, for a user who will not wait.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from genai_engine.tasks import TaskControl

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalStop:
    """Which signal (if any) cancelled ``control``."""

    def __init__(self, control: TaskControl) -> None:
        self.control = control
        self.signum: int | None = None

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum or 0)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    def _handle(self, signum, _frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        self.control.cancel()


@contextmanager
def stop_on_signals(control: TaskControl, enabled: bool = True):
    """Within the block, SIGINT and SIGTERM cancel ``control``; yields the ``SignalStop``.
    Handlers can only be set from the main thread; elsewhere (and when not ``enabled``, as
    under torchrun, where ranks must stop together) the signals keep their usual effect."""
    stop = SignalStop(control)
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, stop._handle) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
