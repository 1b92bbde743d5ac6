"""Streaming text from a character model: the worker that samples it and the view that shows it.

``stream_work`` runs a ``TextGenerator.generate`` on the worker pool for one or several
temperatures, one after the other with the same seed, and yields ``TextChunk`` records of the
characters drawn since the last one, at most every ``CHUNK_S``: a signal per character would
flood the GUI thread with thousands of queued events. ``StreamView`` shows the prompt in a
muted colour and appends the chunks as they come.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QTextCharFormat, QTextCursor, QTextOption
from PySide6.QtWidgets import QPlainTextEdit

from desktop import style

CHUNK_S = 0.03  # how often drawn characters reach the view


@dataclass(frozen=True)
class TextChunk:
    """Characters drawn since the previous chunk of run ``column`` (its temperature's place)."""

    column: int
    text: str
    written: int  # characters of this column drawn so far
    length: int  # characters asked for per column
    seconds: float  # sampling time of this column so far
    done: bool = False  # the column's last chunk

    @property
    def chars_per_s(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def stream_work(model, prompt: str, length: int, temperatures: list[float], top_k: int, top_p: float,
                seed: int):
    """``work(control)`` for the task runner: ``length`` characters after ``prompt`` at each
    temperature in turn, as ``TextChunk``s; a cancel stops after the next character. Bad
    settings or a prompt the model cannot read fail before the first chunk."""

    def work(control):
        for column, temperature in enumerate(temperatures):
            characters = model.generate(prompt, length, temperature=temperature, top_k=top_k, top_p=top_p,
                                        seed=seed)
            start = last = time.perf_counter()
            pending: list[str] = []
            written = 0
            for character in characters:
                pending.append(character)
                written += 1
                now = time.perf_counter()
                if control.cancelled:
                    break
                if now - last >= CHUNK_S:
                    yield TextChunk(column, "".join(pending), written, length, now - start)
                    pending, last = [], now
            yield TextChunk(column, "".join(pending), written, length, time.perf_counter() - start, done=True)
            if control.cancelled:
                return

    return work


def monospace() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(font.pointSizeF(), 9.5))
    return font


class StreamView(QPlainTextEdit):
    """Read-only text: the prompt (muted), then the text written after it (normal)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFont(monospace())
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        # A model stuck on one character still wraps; a run of spaces, which Qt never wraps,
        # must not widen the view with a sideways scroll.
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.prompt = ""
        self.written = ""  # the text after the prompt

    def start(self, prompt: str) -> None:
        self.clear()
        self.prompt, self.written = prompt, ""
        muted = QTextCharFormat()
        muted.setForeground(style.muted_colour())
        self._insert(prompt, muted)

    def append_text(self, text: str) -> None:
        self.written += text
        self._insert(text, QTextCharFormat())

    def _insert(self, text: str, char_format: QTextCharFormat) -> None:
        if not text:
            return
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, char_format)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()
