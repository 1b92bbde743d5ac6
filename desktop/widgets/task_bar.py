"""Run / Cancel buttons, a progress bar and a one-line message: the controls of one task.

A view runs one engine generator at a time through a ``TaskSlot``; this bar is the slot with
its controls, so Cancel reaches the running task and the buttons always match its state.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop import style
from desktop.task_runner import TaskHandle, TaskRunner
from desktop.task_slot import TaskSlot


class TaskBar(QWidget):
    run_clicked = Signal()

    def __init__(self, run_text: str = "Run", parent=None) -> None:
        super().__init__(parent)
        self.slot = TaskSlot(on_ended=self._ended)
        self.run_button = QPushButton(run_text)
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        style.set_text_colour(self.message, style.muted_colour)

        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

        self.run_button.clicked.connect(self.run_clicked)
        self.cancel_button.clicked.connect(self.cancel)
        self._ready = True
        self._reason = ""  # the "why not" text the message shows, cleared once ready

    @property
    def handle(self) -> TaskHandle | None:
        return self.slot.handle

    @property
    def running(self) -> bool:
        return self.slot.running

    def set_ready(self, ready: bool, reason: str = "") -> None:
        """Whether a run may start (e.g. a model is open); ``reason`` says why not."""
        self._ready = ready
        self.run_button.setEnabled(ready and not self.running)
        self.run_button.setToolTip("" if ready else reason)
        if not self.running and not ready and reason:
            self.message.setText(reason)
        elif not self.running and ready and self._reason and self.message.text() == self._reason:
            self.message.clear()  # no stale "Open a dataset first" once it is open
        self._reason = "" if ready else reason

    def submit(self, runner: TaskRunner, name: str, work, *, text: str = "", on_progress=None,
               on_finished=None, on_error=None, on_cancelled=None) -> TaskHandle:
        """Start ``work`` on ``runner`` with this bar tracking it (see ``TaskSlot.start``)."""
        handle = self.slot.start(runner, name, work, on_progress=on_progress, on_finished=on_finished,
                                 on_error=on_error, on_cancelled=on_cancelled)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.message.setText(text)
        return handle

    def set_progress(self, fraction: float, text: str | None = None) -> None:
        self.progress.setValue(int(round(max(0.0, min(1.0, fraction)) * 1000)))
        if text is not None:
            self.message.setText(text)

    def cancel(self) -> None:
        if self.slot.cancel():
            self.cancel_button.setEnabled(False)
            self.message.setText("Cancelling…")

    def _ended(self) -> None:
        self.cancel_button.setEnabled(False)
        self.run_button.setEnabled(self._ready)
