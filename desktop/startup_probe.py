"""The startup benchmark's hook: when each window first painted and when the session was ready.

``desktop.app.main`` creates a ``StartupProbe`` when ``GENAI_LAB_STARTUP_PROBE`` names a file
(``tests/benchmarks/bench_startup.py`` sets it). It records, as ``time.time()`` values:
``shown`` (the loading window's first frame), ``interactive`` (the main window's first frame)
and ``ready`` (embedded dataset and demo model loaded), writes them to the file and quits.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.loading_window import on_first_paint


class StartupProbe:
    def __init__(self, path: str, ready_timeout_s: float = 20.0) -> None:
        self.path = path
        self.ready_timeout_s = ready_timeout_s
        self.marks: dict[str, float] = {}

    def watch(self, window, mark: str) -> None:
        """Record ``mark`` at ``window``'s first painted frame."""
        on_first_paint(window, lambda: self._record(mark))

    def _record(self, mark: str) -> None:
        self.marks[mark] = time.time()
        # process CPU seconds: a busy machine stretches wall time, not this
        self.marks[f"cpu_at_{mark}"] = time.process_time()

    def finish_when_ready(self, window) -> None:
        """Poll until ``window``'s session has a dataset and a model, then write and quit."""
        started = time.time()

        def poll() -> None:
            state = window.state
            if state.dataset is not None and state.model is not None:
                self.marks["ready"] = time.time()
                self._finish(window)
            elif time.time() - started > self.ready_timeout_s:
                self._finish(window)
            else:
                QTimer.singleShot(10, poll)

        poll()

    def _finish(self, window) -> None:
        self.marks.setdefault("ready", float("nan"))
        Path(self.path).write_text(json.dumps({"pid": os.getpid(), **self.marks}), encoding="utf-8")
        window.confirm_close = False
        window.close()
        QApplication.quit()
