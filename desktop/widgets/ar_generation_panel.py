"""Generate ▸ Generation view: an image written pixel by pixel, with each pixel's distribution.

For a model that draws an image one value at a time (``base.StepwiseSampler``, an
autoregressive model), as Transformer Explainer shows GPT-2 choosing a word: the image so far
with the current pixel framed, and two bar charts over the K levels, the distribution the
model predicts for that pixel (before the knobs) and the one the value is drawn from (after
temperature, top-k and top-p), the drawn level highlighted.

"Next pixel", "Next row", "Play" and "Finish" ask for a pixel count; the engine's step
generator runs on the worker pool, latest-wins (``LatestWins``): a burst of clicks runs once, to
the newest count. Changing the seed, class or a knob redraws the same number of pixels from the
start with the new settings: the same seed draws the same uniform numbers, so what changes in
the image is the knobs' doing.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGraphicsRectItem,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.capabilities import model_phrase
from desktop.latest_wins import LatestWins
from desktop.state import AppState
from desktop.widgets.image_view import ImageView
from desktop.widgets.sampling_form import SamplingForm
from desktop.widgets.view_or_reason import ViewOrReason
from genai_engine.errors import GenAIError
from genai_engine.families.base import StepwiseSampler

PLAY_MS = 30  # a frame of "Play"
BAR = style.BLUE
DRAWN = style.ORANGE
START_TEXT = "Press Next pixel or Play to write an image pixel by pixel."


def no_generation_view(model) -> str:
    return (f"{model_phrase(model)} does not write an image one pixel at a time, so there is no "
            "generation view. It works for autoregressive models.")


def levels_text(model) -> str:
    """'8 grey levels' (or per colour channel): the values one pixel can take."""
    channels = model.config.image_shape[0]
    return f"{model.levels} grey levels" if channels == 1 else f"{model.levels} levels per colour channel"


class _Run:
    """One image being written: the engine's step generator and the last step it reached.
    Only the worker thread touches it (``LatestWins`` runs one job at a time)."""

    def __init__(self, steps) -> None:
        self.steps = steps
        self.last = None

    def advance_to(self, drawn: int):
        """Draw until ``drawn`` pixels are done (or the image is); the last step, or None."""
        while drawn > 0 and (self.last is None or self.last.index + 1 < drawn):
            step = next(self.steps, None)
            if step is None:
                break
            self.last = step
        return self.last


class DistributionBars(pg.PlotWidget):
    """Probabilities over the K levels as bars, the drawn level in another colour."""

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMouseEnabled(False, False)
        self.setTitle(title, size="9pt")
        self.setLabel("left", "probability")
        self.setLabel("bottom", "pixel level (0 black)")
        self.setYRange(0, 1, padding=0.02)
        self.setMinimumHeight(140)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=BAR, pen=None)
        self.addItem(self.bars)
        self.heights = np.zeros(0)
        style.keep_plot_styled(self)

    def set_levels(self, levels: int) -> None:
        step = max(1, levels // 16)
        self.getAxis("bottom").setTicks([[(k, str(k)) for k in range(0, levels, step)], []])
        self.setXRange(-0.6, levels - 0.4, padding=0)
        self.show_probs(np.zeros(levels), None)

    def show_probs(self, probs: np.ndarray, drawn: int | None) -> None:
        self.heights = np.asarray(probs, float)
        brushes = [pg.mkBrush(DRAWN if k == drawn else BAR) for k in range(len(probs))]
        self.bars.setOpts(x=np.arange(len(probs)), height=self.heights, brushes=brushes)


class ARGenerationPanel(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.step = None  # the GenerationStep shown
        self.drawn = 0  # pixels asked for
        self.run: _Run | None = None
        self.run_id = 0
        self.job = LatestWins(state.runner, "Generate: pixel by pixel", self)
        self.job.ready.connect(self._on_step)
        self.job.failed.connect(self._show_error)
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_MS)
        self.play_timer.timeout.connect(self._tick)

        self.pages = ViewOrReason(self._build_view(), "ar_generation_reason")
        self.reason = self.pages.reason
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    # -- layout ------------------------------------------------------------------------------
    def _build_view(self) -> QWidget:
        self.levels_label = QLabel()
        self.levels_label.setWordWrap(True)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setToolTip("The same seed draws the same random numbers, so the same image "
                                  "for the same knobs")
        self.seed_spin.valueChanged.connect(lambda _v: self.restart(keep=True))
        self.class_combo = QComboBox()
        self.class_combo.currentIndexChanged.connect(lambda _i: self.restart(keep=True))
        self.knobs = SamplingForm()
        self.knobs.changed.connect(lambda: self.restart(keep=True))
        self.next_button = QPushButton("Next pixel")
        self.next_button.setToolTip("Draw one more pixel")
        self.next_button.clicked.connect(lambda: self.advance(1))
        self.row_button = QPushButton("Next row")
        self.row_button.setToolTip("Draw the pixels up to the end of this row")
        self.row_button.clicked.connect(self.next_row)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Draw pixel after pixel until the image is done")
        self.play_button.toggled.connect(self._play)
        self.speed_combo = QComboBox()
        self.speed_combo.addItem("1 pixel a frame", 1)
        self.speed_combo.addItem("4 pixels a frame", 4)
        self.speed_combo.addItem("a row a frame", 0)
        self.finish_button = QPushButton("Finish")
        self.finish_button.setToolTip("Draw every remaining pixel")
        self.finish_button.clicked.connect(self.finish)
        self.restart_button = QPushButton("Restart")
        self.restart_button.setToolTip("Start again from an empty image")
        self.restart_button.clicked.connect(lambda: self.restart(keep=False))
        buttons = QGridLayout()
        buttons.addWidget(self.next_button, 0, 0)
        buttons.addWidget(self.row_button, 0, 1)
        buttons.addWidget(self.play_button, 1, 0)
        buttons.addWidget(self.speed_combo, 1, 1)
        buttons.addWidget(self.finish_button, 2, 0)
        buttons.addWidget(self.restart_button, 2, 1)

        settings = QGroupBox("Write one image")
        form = QFormLayout(settings)
        form.addRow(self.levels_label)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Class", self.class_combo)
        form.addRow(self.knobs)
        form.addRow(buttons)
        side = QVBoxLayout()
        side.addWidget(settings)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(280)

        self.image_view = ImageView(min_size=160)
        self.image_view.setToolTip("The image so far (pixels not drawn yet are black); the frame "
                                   "marks the pixel just drawn")
        self.marker = QGraphicsRectItem(0, 0, 1, 1)
        pen = pg.mkPen(style.MARK, width=2)
        pen.setCosmetic(True)
        self.marker.setPen(pen)
        self.marker.setVisible(False)
        self.image_view.view.addItem(self.marker)
        self.before_bars = DistributionBars("Predicted by the model (before the knobs)")
        self.after_bars = DistributionBars("Drawn from (after temperature, top-k, top-p)")
        self.caption = QLabel(START_TEXT)
        self.caption.setObjectName("ar_generation_caption")
        self.caption.setWordWrap(True)

        bars = QVBoxLayout()
        bars.addWidget(self.before_bars)
        bars.addWidget(self.after_bars)
        top = QHBoxLayout()
        top.addWidget(self.image_view, 2)
        top.addLayout(bars, 3)
        right = QVBoxLayout()
        right.addLayout(top, 1)
        right.addWidget(self.caption)
        page = QWidget()
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(side_widget)
        layout.addLayout(right, 1)
        return page

    # -- model -------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return isinstance(self.model, StepwiseSampler)

    @property
    def tokens(self) -> int:
        return int(np.prod(self.model.config.image_shape)) if self.available else 0

    def set_model(self, model, class_names: list[str]) -> None:
        self.play_button.setChecked(False)
        self.model = model
        self.pages.show_view(self.available, no_generation_view(model) if model is not None else
                             "Open or train an autoregressive model to watch it write an image.")
        self.knobs.set_model(model if self.available else None)
        for widget in (self.seed_spin, self.class_combo):
            widget.blockSignals(True)
        self.class_combo.clear()
        if self.available and model.conditional:
            for k, name in enumerate(class_names):
                self.class_combo.addItem(name, k)
        else:
            self.class_combo.addItem("(the model has no classes)", None)
        self.class_combo.setEnabled(self.available and model.conditional)
        for widget in (self.seed_spin, self.class_combo):
            widget.blockSignals(False)
        if self.available:
            self.levels_label.setText(f"<b>K = {model.levels}</b>: each pixel is one of "
                                      f"{levels_text(model)}, chosen like the next word of a sentence.")
            for bars in (self.before_bars, self.after_bars):
                bars.set_levels(model.levels)
            self.image_view.clear_image()
        self.restart(keep=False)

    # -- stepping ----------------------------------------------------------------------------
    def _settings(self) -> dict | None:
        """The knobs from the form, checked by the model's own settings type; None (and the
        reason shown) if one is refused."""
        values = self.knobs.values()
        try:
            dataclasses.replace(self.model.sampling_fields(), **values)
        except GenAIError as error:
            self._show_error(str(error))
            return None
        self.knobs.error.hide()
        return values

    def restart(self, keep: bool) -> None:
        """A new run with the current seed, class and knobs; ``keep`` redraws as many pixels."""
        self.job.discard()
        self.run_id += 1
        self.run = None
        drawn = self.drawn if keep else 0
        self.drawn = 0
        self.step = None
        self.marker.setVisible(False)
        if not self.available:
            return
        knobs = self._settings()
        if knobs is None:
            self.play_button.setChecked(False)
            return
        self.run = _Run(self.model.generation_steps(seed=self.seed_spin.value(),
                                                    label=self.class_combo.currentData(), **knobs))
        c, h, w = self.model.config.image_shape
        self.image_view.set_image(np.zeros((h, w, c), np.uint8))
        for bars in (self.before_bars, self.after_bars):
            bars.set_levels(self.model.levels)
        self.caption.setText(START_TEXT)
        self.advance(drawn)

    def advance(self, pixels: int) -> None:
        """Ask for ``pixels`` more (latest-wins: the job runs to the newest count)."""
        if self.run is None or pixels <= 0:
            return
        self.drawn = min(self.tokens, self.drawn + pixels)
        run, drawn = self.run, self.drawn
        self.job.request(lambda: run.advance_to(drawn), self.run_id)
        if self.drawn >= self.tokens:
            self.play_button.setChecked(False)

    def next_row(self) -> None:
        if self.available:
            row = self.tokens // self.model.config.image_shape[1]
            self.advance(row - self.drawn % row)

    def finish(self) -> None:
        self.play_button.setChecked(False)
        if self.available:
            self.advance(self.tokens - self.drawn)

    def _play(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on and self.run is not None and self.drawn < self.tokens:
            self.play_timer.start()
        else:
            self.play_timer.stop()
            if on:
                self.play_button.setChecked(False)

    def _tick(self) -> None:
        if self.job.busy:  # the frame waits for the worker: no backlog of pixels
            return
        per_frame = self.speed_combo.currentData()
        if per_frame == 0:
            self.next_row()
        else:
            self.advance(per_frame)

    # -- display -----------------------------------------------------------------------------
    def _on_step(self, step, run_id) -> None:
        if run_id != self.run_id or step is None:
            return
        self.step = step
        self.image_view.set_image(step.image)
        self.marker.setRect(step.column, step.row, 1, 1)
        self.marker.setVisible(True)
        self.before_bars.show_probs(step.before, step.value)
        self.after_bars.show_probs(step.after, step.value)
        c, h, w = self.model.config.image_shape
        channel = f", {'RGB'[step.channel]}" if c == 3 else ""
        kept = int(np.count_nonzero(step.after))
        self.caption.setText(
            f"Pixel {step.index + 1:,} of {self.tokens:,} (row {step.row + 1}, column {step.column + 1}"
            f"{channel}): drew level {step.value} of 0–{self.model.levels - 1}, which the model gave "
            f"p = {step.before[step.value]:.2f} and the knobs {step.after[step.value]:.2f}; "
            f"{kept} of {self.model.levels} levels could be drawn.")

    def _show_error(self, message: str) -> None:
        self.knobs.error.setText(message)
        self.knobs.error.show()
