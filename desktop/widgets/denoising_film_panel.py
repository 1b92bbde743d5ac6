"""Generate ▸ Denoising film: every step of one reverse process, and what fewer steps cost.

For a model that samples step by step (``base.StepwiseDenoiser``, a diffusion model): pick a
sample (a grid tile, or a seed here), then scrub the slider through the reverse process to see
x_t (the noisy image entering the step) beside the network's prediction of the clean image at
that step. The filmstrip shows evenly spaced steps (x_t above, the prediction below; click one
to jump there). "Steps vs quality" samples the same noise with several step counts, side by side
with the time each took. Any other model gets the reason in place of the controls.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.capabilities import model_phrase
from desktop.state import AppState
from desktop.widgets.config_form import parse_ints
from desktop.widgets.image_view import ImageView, tile_at
from desktop.widgets.task_bar import TaskBar
from desktop.widgets.view_or_reason import ViewOrReason
from genai_engine.analysis.denoising import TradeRow, filmstrip_frames, steps_trade
from genai_engine.errors import GenAIError
from genai_engine.families.base import StepwiseDenoiser, prior_samples

STRIP_FRAMES = 8
TRADE_STEPS = "5,10,25,50"
TRADE_HINT = "Steps vs quality: the same noise sampled with several numbers of steps, and what each costs."


def no_film(model) -> str:
    return (f"{model_phrase(model)} makes an image in one pass, not by denoising step by step, "
            "so there is no denoising film. It works for diffusion models.")


def _stack(images: np.ndarray) -> np.ndarray:
    """Two rows of frames (2, S, H, W, C) -> (2S, H, W, C) for a 2-row grid of S columns."""
    return images.reshape(-1, *images.shape[2:])


class DenoisingFilmPanel(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.film = None
        self.strip_index = np.zeros(0, np.int64)
        self.z: np.ndarray | None = None  # a picked tile's noise; None: the seed's
        self.label: int | None = None
        self.source = ""
        self.trade: list[TradeRow] = []

        film = QScrollArea()  # on a short screen the film scrolls instead of overlapping its text
        film.setWidget(self._build_film())
        film.setWidgetResizable(True)
        film.setFrameShape(QFrame.Shape.NoFrame)
        self.pages = ViewOrReason(film, "film_reason")
        self.reason = self.pages.reason
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    # -- layout ------------------------------------------------------------------------------
    def _build_film(self) -> QWidget:
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setToolTip("Film the sample of this seed (or click a tile of the grid)")
        self.seed_spin.valueChanged.connect(lambda _v: self.use_seed())
        self.class_combo = QComboBox()
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 1000)
        self.steps_spin.setValue(25)
        self.steps_spin.setToolTip("Steps of the filmed reverse process, with the configured sampler")
        self.strip_spin = QSpinBox()
        self.strip_spin.setRange(2, 16)
        self.strip_spin.setValue(STRIP_FRAMES)
        self.strip_spin.setToolTip("How many evenly spaced steps the filmstrip shows")
        self.strip_spin.valueChanged.connect(lambda _v: self._show_strip())
        self.task = TaskBar("Film")
        self.task.run_clicked.connect(self.make_film)
        settings = QGroupBox("Film one sample")
        form = QFormLayout(settings)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Class", self.class_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Filmstrip frames", self.strip_spin)
        form.addRow(self.task)
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        form.addRow(self.source_label)

        self.trade_edit = QLineEdit(TRADE_STEPS)
        self.trade_edit.setToolTip("Step counts to compare, e.g. 5,10,25,50")
        self.trade_task = TaskBar("Compare")
        self.trade_task.run_clicked.connect(self.compare_steps)
        trade_box = QGroupBox("Steps vs quality")
        trade_form = QFormLayout(trade_box)
        trade_form.addRow("Steps", self.trade_edit)
        trade_form.addRow(self.trade_task)
        side = QVBoxLayout()
        side.addWidget(settings)
        side.addWidget(trade_box)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(280)

        self.xt_view = ImageView(min_size=160)
        self.xt_view.setToolTip("x_t: the noisy image entering this step")
        self.x0_view = ImageView(min_size=160)
        self.x0_view.setToolTip("The network's prediction of the clean image at this step")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("film_slider")
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self.show_frame)
        self.frame_label = QLabel("Press Film, or click a sample of the grid.")
        self.frame_label.setWordWrap(True)
        self.strip_view = ImageView(min_size=80)
        self.strip_view.setToolTip("Evenly spaced steps: x_t above, the predicted clean image below. "
                                   "Click one to jump there.")
        self.strip_view.clicked.connect(self._on_strip_click)
        self.trade_view = ImageView(min_size=80)
        self.trade_view.setToolTip("The same starting noise sampled with each number of steps")
        self.trade_label = QLabel(TRADE_HINT)
        self.trade_label.setWordWrap(True)

        frames = QGridLayout()
        frames.addWidget(QLabel("x_t (noisy image)"), 0, 0, Qt.AlignHCenter)
        frames.addWidget(QLabel("Predicted clean image"), 0, 1, Qt.AlignHCenter)
        frames.addWidget(self.xt_view, 1, 0)
        frames.addWidget(self.x0_view, 1, 1)
        frames.setRowStretch(1, 3)
        frames.addWidget(self.slider, 2, 0, 1, 2)
        frames.addWidget(self.frame_label, 3, 0, 1, 2)
        self.strip_label = QLabel("Filmstrip")
        frames.addWidget(self.strip_label, 4, 0, 1, 2)
        frames.addWidget(self.strip_view, 5, 0, 1, 2)
        frames.setRowStretch(5, 1)
        frames.addWidget(self.trade_view, 6, 0, 1, 2)
        frames.setRowStretch(6, 1)
        frames.addWidget(self.trade_label, 7, 0, 1, 2)
        page = QWidget()
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(side_widget)
        layout.addLayout(frames, 1)
        return page

    # -- model -------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return isinstance(self.model, StepwiseDenoiser)

    def set_model(self, model, class_names: list[str]) -> None:
        self.model = model
        self.film, self.trade = None, []
        for view in (self.xt_view, self.x0_view, self.strip_view, self.trade_view):
            view.clear_image()
        self.frame_label.setText("Press Film, or click a sample of the grid.")
        self.strip_label.setText("Filmstrip")
        self.trade_label.setText(TRADE_HINT)
        self.slider.setEnabled(False)
        self.class_combo.clear()
        if model is not None and model.conditional:
            for k, name in enumerate(class_names):
                self.class_combo.addItem(name, k)
        else:
            self.class_combo.addItem("(the model has no classes)", None)
        self.class_combo.setEnabled(model is not None and model.conditional)
        self.pages.show_view(self.available, no_film(model) if model is not None else
                             "Open or train a diffusion model to film its reverse process.")
        if self.available:
            settings = model.sampling_fields()
            self.steps_spin.setMaximum(model.config.timesteps)
            self.steps_spin.setValue(settings.steps)
            self.use_seed()
        self.task.set_ready(self.available, no_film(model) if model is not None else "")
        self.trade_task.set_ready(self.available, no_film(model) if model is not None else "")

    # -- source ------------------------------------------------------------------------------
    def use_seed(self) -> None:
        self.z, self.label = None, None
        self.source = f"seed {self.seed_spin.value()}"
        self.source_label.setText(f"Filming the sample of {self.source}.")

    def set_source(self, z, label, caption: str) -> None:
        """Film this starting noise (a grid tile's) and class next; runs the film at once."""
        if not self.available or z is None:
            return
        self.z, self.label, self.source = np.asarray(z, np.float32), label, caption
        if label is not None:
            self.class_combo.setCurrentIndex(self.class_combo.findData(label))
        self.steps_spin.setValue(self.model.sampling_fields().steps)  # the tile's own steps
        self.source_label.setText(f"Filming {caption}.")
        self.make_film()

    def _noise_and_label(self):
        z = self.z
        if z is None:
            z = prior_samples(1, self.model.latent_dim, self.seed_spin.value())[0]
        return z, self.class_combo.currentData()

    # -- film --------------------------------------------------------------------------------
    def make_film(self) -> None:
        if not self.available or self.task.running:
            return
        model, steps = self.model, self.steps_spin.value()
        z, label = self._noise_and_label()
        self.task.submit(self.state.runner, "Generate: denoising film",
                         lambda _c: iter((model.denoising_film(z, label, steps=steps),)),
                         text=f"Filming {steps} steps…",
                         on_finished=lambda film: self._set_film(model, film),
                         on_error=self.task.message.setText)

    def _set_film(self, model, film) -> None:
        if model is not self.model:
            return
        self.film = film
        self.task.set_progress(1.0, "")
        self.slider.setEnabled(True)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(film.x_t) - 1)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.show_frame(0)
        self._show_strip()

    def show_frame(self, index: int) -> None:
        """Frame ``index``: x_t entering step index+1 (the last: the final sample) and the
        prediction made at that step (the last step's for the final frame)."""
        if self.film is None:
            return
        steps = len(self.film.timesteps)
        index = int(np.clip(index, 0, steps))
        self.xt_view.set_image(self.film.x_t[index])
        self.x0_view.set_image(self.film.x0[min(index, steps - 1)])
        if index < steps:
            self.frame_label.setText(f"Step {index + 1} of {steps} (t = {self.film.timesteps[index]}): "
                                     "x_t, and the clean image the network predicts from it.")
        else:
            self.frame_label.setText(f"The final sample after {steps} steps, beside the last prediction.")
        if self.slider.value() != index:
            self.slider.setValue(index)

    def _show_strip(self) -> None:
        if self.film is None:
            return
        frames = len(self.film.x_t)
        self.strip_index = filmstrip_frames(frames, self.strip_spin.value())
        predictions = self.film.x0[np.minimum(self.strip_index, frames - 2)]
        self.strip_view.set_images(_stack(np.stack([self.film.x_t[self.strip_index], predictions])),
                                   len(self.strip_index))
        shown = ", ".join("end" if i == frames - 1 else str(i + 1) for i in self.strip_index)
        self.strip_label.setText(f"Filmstrip, steps {shown}: x_t above, the predicted clean image below")

    def _on_strip_click(self, x: float, y: float) -> None:
        if self.film is None:
            return
        _, h, w, _ = self.film.x_t.shape
        tile = tile_at(x, y, h, w, len(self.strip_index))
        if 0 <= tile < 2 * len(self.strip_index):
            self.show_frame(int(self.strip_index[tile % len(self.strip_index)]))

    # -- steps vs quality --------------------------------------------------------------------
    def compare_steps(self) -> None:
        if not self.available or self.trade_task.running:
            return
        try:
            counts = parse_ints(self.trade_edit.text())
            if max(counts) > self.model.config.timesteps or min(counts) < 1:
                raise GenAIError(f"step counts must be from 1 to the model's {self.model.config.timesteps} "
                                 "noise steps")
        except GenAIError as error:
            self.trade_task.message.setText(str(error))
            return
        model = self.model
        z, label = self._noise_and_label()
        self.trade = []
        self.trade_task.submit(self.state.runner, "Generate: steps vs quality",
                               lambda control: steps_trade(model, counts, z, label, control),
                               text="Sampling…", on_progress=lambda row: self._add_row(model, row),
                               on_finished=lambda _r: self.trade_task.set_progress(1.0, ""),
                               on_error=self.trade_task.message.setText)

    def _add_row(self, model, row: TradeRow) -> None:
        if model is not self.model:
            return
        self.trade.append(row)
        self.trade_task.set_progress(row.done / row.total)
        self.trade_view.set_images(np.stack([r.image for r in self.trade]), len(self.trade))
        self.trade_label.setText(f"Steps vs quality, {self.source}, left to right: " + " · ".join(
            f"{r.steps} steps {r.ms_per_image:.0f} ms" for r in self.trade)
            + " (one image at a time; batches are faster per image).")
