"""The Language tab: a character model writes text, one character at a time, with its knobs.

For the open model when it is a ``TextGenerator`` (a character model of the autoregressive
family); any other model sees in place why not and how to get one. Three views over the model:

- the next character's distribution after the prompt, before and after temperature, top-k and
  top-p (``NextCharBars``), live as the prompt or a knob changes: computed latest-wins
  (``LatestWins``), so typing never queues work;
- Generate: the continuation streams into the text view as it is sampled, in chunks
  (``text_stream.stream_work``), with Stop and the speed in characters (tokens) per second;
- the same prompt and seed at several temperatures, side by side (``TemperatureColumns``), in
  one task.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.capabilities import no_text, writes_text
from desktop.latest_wins import LatestWins
from desktop.loaders import Loader
from desktop.state import AppState
from desktop.widgets.next_char_bars import STAND_INS, NextCharBars, shown_char
from desktop.widgets.tab_cover import centred, notice_label
from desktop.widgets.task_bar import TaskBar
from desktop.widgets.temperature_columns import TemperatureColumns
from desktop.widgets.text_knobs import TextKnobs
from desktop.widgets.text_stream import StreamView, TextChunk, monospace, stream_work
from genai_engine.errors import GenAIError
from genai_engine.families import get_family

TITLE = "Language"
CORPUS = "python-docs"  # the built-in corpus the "no model" page offers
PROMPT_TAIL = 24  # characters of the prompt quoted in the caption


class LanguageTab(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.temperatures: list[float] = []  # of the running or last task; one: a plain Generate
        self._chars = 0  # characters written by the task so far, all columns
        self._seconds = 0.0  # their sampling time
        self.distribution = LatestWins(state.runner, "Language: next character", self)
        self.distribution.ready.connect(self._show_distribution)
        self.distribution.failed.connect(self._show_prompt_error)

        self.reason = notice_label("language_reason")
        self.open_corpus_button = QPushButton("Open the Python docs corpus")
        self.open_corpus_button.setToolTip("Open the built-in text corpus (Python's help() topics) "
                                           "to train a character model on in the Train tab")
        self.open_corpus_button.clicked.connect(lambda: Loader.for_state(state).open_dataset(CORPUS))
        reason_page = QWidget()
        reason_layout = QVBoxLayout(reason_page)
        reason_layout.addStretch(1)
        reason_layout.addLayout(centred(self.reason))
        reason_layout.addLayout(centred(self.open_corpus_button))
        reason_layout.addStretch(2)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_view())
        self.pages.addWidget(reason_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.pages)

        state.model_changed.connect(self.set_model)
        self.set_model(state.model)

    # -- layout ------------------------------------------------------------------------------
    def _build_view(self) -> QWidget:
        self.model_label = QLabel()
        self.model_label.setObjectName("language_model")
        self.model_label.setWordWrap(True)
        style.set_text_colour(self.model_label, style.muted_colour)
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("language_prompt")
        self.prompt.setFont(monospace())
        self.prompt.setPlaceholderText("Type the start of a text (empty: the model starts from scratch)")
        self.prompt.setFixedHeight(96)
        self.prompt.textChanged.connect(self.request_distribution)
        self.prompt_error = QLabel()
        self.prompt_error.setObjectName("language_prompt_error")
        self.prompt_error.setWordWrap(True)
        style.set_text_colour(self.prompt_error, style.error_colour)
        self.prompt_error.hide()
        prompt_box = QGroupBox("Prompt")
        prompt_layout = QVBoxLayout(prompt_box)
        prompt_layout.addWidget(self.prompt)
        prompt_layout.addWidget(self.prompt_error)

        self.knobs = TextKnobs()
        self.knobs.changed.connect(self.request_distribution)
        knobs_box = QGroupBox("Sampling")
        QVBoxLayout(knobs_box).addWidget(self.knobs)

        self.task = TaskBar("Generate")
        self.task.run_button.setObjectName("language_generate")
        self.task.run_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.task.run_button.setToolTip("Write the continuation of the prompt (Ctrl+Return)")
        self.task.cancel_button.setText("Stop")
        self.task.cancel_button.setObjectName("language_stop")
        self.task.run_clicked.connect(self.generate)
        self.speed = QLabel()
        self.speed.setObjectName("language_speed")
        self.speed.setWordWrap(True)

        left = QWidget()
        left.setFixedWidth(320)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(self.model_label)
        left_layout.addWidget(prompt_box)
        left_layout.addWidget(knobs_box)
        left_layout.addWidget(self.task)
        left_layout.addWidget(self.speed)
        left_layout.addStretch(1)

        self.bars = NextCharBars()
        self.bars.setToolTip("The most likely next characters after the prompt: blue, as the model "
                             "predicts them; orange, what a character is drawn from after the knobs")
        self.caption = QLabel()
        self.caption.setObjectName("language_caption")
        self.caption.setWordWrap(True)
        bars_box = QWidget()
        bars_layout = QVBoxLayout(bars_box)
        bars_layout.setContentsMargins(0, 0, 0, 0)
        bars_layout.addWidget(self.bars, 1)
        bars_layout.addWidget(self.caption)

        self.text_view = StreamView()
        self.text_view.setObjectName("language_text")
        self.text_view.setPlaceholderText("Press Generate: the text appears here as it is sampled, "
                                          "after the prompt (grey).")
        self.columns = TemperatureColumns()
        self.columns.run_button.clicked.connect(self.compare_temperatures)
        self.outputs = QTabWidget()
        self.outputs.setDocumentMode(True)
        self.outputs.addTab(self.text_view, "Generated text")
        self.outputs.addTab(self.columns, "Several temperatures")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(bars_box)
        splitter.addWidget(self.outputs)
        splitter.setSizes([380, 620])

        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        row = QSplitter(Qt.Orientation.Horizontal)
        row.setChildrenCollapsible(False)
        row.addWidget(left)
        row.addWidget(splitter)
        row.setStretchFactor(1, 1)
        page_layout.addWidget(row)
        return page

    # -- model -------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return writes_text(self.model)

    def set_model(self, model) -> None:
        """Follow the open model: a character model's views, or the reason there are none."""
        self.task.slot.release()  # a generation for the old model is nobody's business now
        self.task.cancel_button.setEnabled(False)
        self.distribution.discard()
        self.model = model
        self.pages.setCurrentIndex(0 if self.available else 1)
        self.task.set_ready(self.available, "" if self.available else no_text(model))
        self.columns.run_button.setEnabled(self.available)
        self.text_view.start("")
        self.columns.clear()
        self.speed.clear()
        self.bars.clear_bars()
        if not self.available:
            self.reason.setText(no_text(model))
            return
        self.knobs.set_vocabulary_size(len(model.vocabulary))
        self.model_label.setText(f"{get_family(model.family).describe(model.config)}.")
        self.request_distribution()

    # -- the next character ------------------------------------------------------------------
    def request_distribution(self) -> None:
        if not self.available:
            return
        model, prompt, knobs = self.model, self.prompt.toPlainText(), self.knobs.knobs()
        self.distribution.request(lambda: model.next_distribution(prompt, **knobs), (model, prompt))

    def _show_distribution(self, result, tag) -> None:
        model, prompt = tag
        if model is not self.model:
            return
        chars, before, after = result
        self.prompt_error.hide()
        self.bars.show_distribution(chars, before, after)
        best = int(np.argmax(before))
        tail = prompt[-PROMPT_TAIL:].replace("\n", STAND_INS["\n"])
        where = f"After “{'…' if len(prompt) > PROMPT_TAIL else ''}{tail}”" if prompt else "At the start"
        kept = int(np.count_nonzero(after))
        self.caption.setText(
            f"{where} the model's likeliest next character is “{shown_char(chars[best])}” "
            f"(p = {before[best]:.2f}; after the knobs {after[best]:.2f}). {kept} of {len(chars)} "
            "characters can be drawn.")

    def _show_prompt_error(self, message: str) -> None:
        self.prompt_error.setText(message)
        self.prompt_error.show()

    # -- writing -----------------------------------------------------------------------------
    def generate(self) -> None:
        """Write ``length`` characters after the prompt, streaming into the text view."""
        self._write([self.knobs.temperature.value()])

    def compare_temperatures(self) -> None:
        """The same prompt and seed at each temperature of the list, side by side."""
        try:
            temperatures = self.columns.temperatures()
        except GenAIError as error:
            self.task.message.setText(str(error))
            return
        self._write(temperatures)

    def _write(self, temperatures: list[float]) -> None:
        if not self.available or self.task.running:
            return
        prompt, knobs = self.prompt.toPlainText(), self.knobs.knobs()
        length, seed = self.knobs.length.value(), self.knobs.seed.value()
        self.temperatures = temperatures
        self._chars, self._seconds = 0, 0.0
        single = len(temperatures) == 1
        if single:
            self.text_view.start(prompt)
            self.outputs.setCurrentWidget(self.text_view)
        else:
            self.columns.start(prompt, temperatures)
            self.outputs.setCurrentWidget(self.columns)
        self.speed.clear()
        self.columns.run_button.setEnabled(False)
        work = stream_work(self.model, prompt, length, temperatures, knobs["top_k"], knobs["top_p"], seed)
        name = "Writing text" if single else "Writing at several temperatures"
        self.task.submit(self.state.runner, name, work, text=f"{name}…", on_progress=self._on_chunk,
                         on_finished=lambda _last: self._ended("Done"),
                         on_error=self._failed, on_cancelled=lambda: self._ended("Stopped"))

    def _on_chunk(self, chunk: TextChunk) -> None:
        if len(self.temperatures) == 1:
            self.text_view.append_text(chunk.text)
        else:
            self.columns.add_chunk(chunk)
        total = chunk.length * len(self.temperatures)
        self.task.set_progress((chunk.column * chunk.length + chunk.written) / max(total, 1))
        if chunk.done:
            self._chars += chunk.written
            self._seconds += chunk.seconds

    def _ended(self, how: str) -> None:
        self.columns.run_button.setEnabled(self.available)
        rate = self._chars / self._seconds if self._seconds > 0 else 0.0
        self.task.message.setText(f"{how}: {self._chars:,} characters written.")
        self.speed.setText(f"<b>{rate:,.0f} tokens/s</b> ({self._chars:,} characters in "
                           f"{self._seconds:.2f} s; a token is one character here)")

    def _failed(self, message: str) -> None:
        self.columns.run_button.setEnabled(self.available)
        self.task.message.setText(message)
