"""Generate ▸ Completion: the top rows of an image as the prompt, several endings side by side.

For a model that completes images (``base.Completer``, an autoregressive model), the image
version of prompting a language model: give the top rows of a dataset test image, or of an
image drawn with the mouse, and the model writes the rest, several times at the chosen
temperature, top-k and top-p (seeded: the same seed repeats them). The given rows are tinted
green and bordered in every tile, so what the model wrote stands apart; the original image
(at the model's K levels) is shown first for comparison.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGraphicsRectItem,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.capabilities import model_phrase
from desktop.state import AppState
from desktop.widgets.draw_canvas import DrawCanvas
from desktop.widgets.image_picker import ImagePickerDialog
from desktop.widgets.image_view import ImageView
from desktop.widgets.sampling_form import SamplingForm, describe_settings
from desktop.widgets.task_bar import TaskBar
from desktop.widgets.view_or_reason import ViewOrReason
from genai_engine.errors import GenAIError
from genai_engine.families.base import Completer
from genai_engine.sampling import GRID_PADDING

DATASET, DRAWN = 0, 1
GIVEN = style.GREEN


def no_completion(model) -> str:
    return (f"{model_phrase(model)} cannot continue a given top part of an image, so there is no "
            "completion. It works for autoregressive models.")


class ARCompletionPanel(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.completions: np.ndarray | None = None  # uint8 (n, H, W, C) of the last run
        self.prompt: np.ndarray | None = None  # the image they continue (H, W, C)
        self.rows_done = 0  # the rows given in the shown completions
        self._marks: list[QGraphicsRectItem] = []

        self.pages = ViewOrReason(self._build_view(), "ar_completion_reason")
        self.reason = self.pages.reason
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        state.dataset_changed.connect(lambda _d: self._follow_dataset())

    # -- layout ------------------------------------------------------------------------------
    def _build_view(self) -> QWidget:
        self.dataset_radio = QRadioButton("A test image")
        self.drawn_radio = QRadioButton("My drawing (beside)")
        self.source_group = QButtonGroup(self)
        self.source_group.addButton(self.dataset_radio, DATASET)
        self.source_group.addButton(self.drawn_radio, DRAWN)
        self.dataset_radio.setChecked(True)
        self.source_group.idToggled.connect(lambda _i, _on: self._show_prompt())
        self.image_spin = QSpinBox()
        self.image_spin.setToolTip("Which image of the test split gives the prompt")
        self.image_spin.valueChanged.connect(lambda _v: self._on_image_index())
        self.browse_button = QPushButton("Pick…")
        self.browse_button.setToolTip("Pick the test image from thumbnails")
        self.browse_button.clicked.connect(self.browse)
        picker = QHBoxLayout()
        picker.addWidget(self.image_spin, 1)
        picker.addWidget(self.browse_button)
        self.rows_spin = QSpinBox()
        self.rows_spin.setToolTip("How many rows from the top the model is given; it writes the rest")
        self.rows_spin.valueChanged.connect(lambda _v: self._show_prompt())
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 16)
        self.count_spin.setValue(6)
        self.count_spin.setToolTip("How many completions to draw side by side")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setToolTip("The same seed repeats the same completions")
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("The class a conditional model completes the image as")
        self.knobs = SamplingForm()
        self.task = TaskBar("Complete")
        self.task.run_button.setToolTip("Write the rest of the image, several times")
        self.task.run_clicked.connect(self.complete)

        settings = QGroupBox("Complete an image")
        form = QFormLayout(settings)
        form.addRow("Prompt", self.dataset_radio)
        form.addRow("", self.drawn_radio)
        form.addRow("Test image", picker)
        form.addRow("Rows given", self.rows_spin)
        form.addRow("Completions", self.count_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Class", self.class_combo)
        form.addRow(self.knobs)
        form.addRow(self.task)
        side = QVBoxLayout()
        side.addWidget(settings)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(280)

        self.canvas = DrawCanvas()
        self.canvas.changed.connect(self._on_drawn)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.canvas.clear)
        copy = QPushButton("Use test image")
        copy.setToolTip("Start the drawing from the chosen test image")
        copy.clicked.connect(self._copy_test_image)
        canvas_buttons = QHBoxLayout()
        canvas_buttons.addWidget(clear)
        canvas_buttons.addWidget(copy)
        canvas_box = QGroupBox("Draw a prompt")
        canvas_box.setToolTip(self.canvas.toolTip())
        canvas_layout = QVBoxLayout(canvas_box)
        canvas_layout.addWidget(self.canvas, 1)
        canvas_layout.addLayout(canvas_buttons)
        canvas_box.setFixedWidth(230)

        self.result_view = ImageView(min_size=140)
        self.result_view.setToolTip("The original image first, then the completions; the given rows "
                                    "are tinted green")
        self.caption = QLabel("Choose the prompt and press Complete.")
        self.caption.setObjectName("ar_completion_caption")
        self.caption.setWordWrap(True)
        results = QVBoxLayout()
        results.addWidget(self.result_view, 1)
        results.addWidget(self.caption)
        page = QWidget()
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(side_widget)
        layout.addWidget(canvas_box)
        layout.addLayout(results, 1)
        return page

    # -- model and data ----------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return isinstance(self.model, Completer)

    def set_model(self, model, class_names: list[str]) -> None:
        self.model = model
        self.completions, self.prompt = None, None
        self._clear_result("Choose the prompt and press Complete.")
        self.pages.show_view(self.available, no_completion(model) if model is not None else
                             "Open or train an autoregressive model to complete images with it.")
        self.knobs.set_model(model if self.available else None)
        self.class_combo.clear()
        if self.available and model.conditional:
            for k, name in enumerate(class_names):
                self.class_combo.addItem(name, k)
        else:
            self.class_combo.addItem("(the model has no classes)", None)
        self.class_combo.setEnabled(self.available and model.conditional)
        if self.available:
            c, h, w = model.config.image_shape
            self.canvas.set_shape(h, w, c)
            self.rows_spin.blockSignals(True)
            self.rows_spin.setRange(0, h)
            self.rows_spin.setValue(h // 2)  # the top half by default
            self.rows_spin.blockSignals(False)
        self._follow_dataset()

    def _dataset_fits(self) -> bool:
        dataset = self.state.dataset
        return (self.available and dataset is not None
                and tuple(dataset.image_shape) == tuple(self.model.config.image_shape))

    def _follow_dataset(self) -> None:
        fits = self._dataset_fits()
        for widget in (self.dataset_radio, self.image_spin, self.browse_button):
            widget.setEnabled(fits)
        if fits:
            self.image_spin.setRange(0, len(self.state.dataset.test) - 1)
        elif self.available:
            self.drawn_radio.setChecked(True)
            if self.state.dataset is not None:
                self.dataset_radio.setToolTip("The dataset's images do not fit the model: draw a prompt, "
                                              "or open the dataset it was trained on.")
        self._show_prompt()

    def test_image(self) -> tuple[np.ndarray, int | None] | None:
        """The chosen test image and its label, or None when the dataset does not fit."""
        if not self._dataset_fits():
            return None
        test = self.state.dataset.test
        index = self.image_spin.value()
        return test.images[index], None if test.labels is None else int(test.labels[index])

    def browse(self) -> None:
        if not self._dataset_fits():
            return
        test = self.state.dataset.test
        dialog = ImagePickerDialog(test.images, test.labels, self.state.dataset.class_names,
                                   self.image_spin.value(), "Pick the image to complete", self)
        if dialog.exec() and dialog.chosen is not None:
            self.image_spin.setValue(dialog.chosen)
            self.dataset_radio.setChecked(True)

    def _on_image_index(self) -> None:
        picked = self.test_image()
        if picked is not None and picked[1] is not None and self.class_combo.isEnabled():
            index = self.class_combo.findData(picked[1])
            if index >= 0:
                self.class_combo.setCurrentIndex(index)
        self.dataset_radio.setChecked(True)
        self._show_prompt()

    def _copy_test_image(self) -> None:
        picked = self.test_image()
        if picked is not None:
            self.canvas.set_image(picked[0])

    def _on_drawn(self) -> None:
        if self.source_group.checkedId() != DRAWN:
            self.drawn_radio.setChecked(True)  # drawing makes the drawing the prompt
        else:
            self._show_prompt()

    def source_image(self) -> np.ndarray | None:
        if self.source_group.checkedId() == DRAWN:
            return self.canvas.image
        picked = self.test_image()
        return None if picked is None else picked[0]

    # -- completing --------------------------------------------------------------------------
    def _show_prompt(self) -> None:
        """Before a run: the chosen prompt alone, its given rows marked."""
        self.canvas.set_guide_row(self.rows_spin.value())
        if not self.available or self.task.running:
            return
        image = self.source_image()
        if image is None:
            self._clear_result("Draw a prompt, or open a dataset that fits the model.")
            return
        self.completions = None
        self.result_view.set_images(image[None], 1)
        self._mark_given(1, 1, self.rows_spin.value(), image.shape)
        self.caption.setText(f"The prompt: the top {self.rows_spin.value()} of {image.shape[0]} rows "
                             "(tinted) are given. Press Complete.")

    def complete(self) -> None:
        if not self.available or self.task.running:
            return
        image = self.source_image()
        if image is None:
            self.task.message.setText("Draw a prompt, or open a dataset that fits the model.")
            return
        values = self.knobs.values()
        try:
            dataclasses.replace(self.model.sampling_fields(), **values)  # the engine's own checks
        except GenAIError as error:
            self.knobs.error.setText(str(error))
            self.knobs.error.show()
            return
        self.knobs.error.hide()
        model, rows = self.model, self.rows_spin.value()
        n, seed = self.count_spin.value(), self.seed_spin.value()
        label = self.class_combo.currentData()
        labels = None if label is None else np.array([label])
        prompt = np.array(image, copy=True)
        self.task.submit(
            self.state.runner, "Generate: completion",
            lambda _c: iter(((model.quantise(prompt[None])[0],
                              model.complete(prompt[None], rows, n, seed, labels, **values)[0]),)),
            text=f"Writing {n} completions…",
            on_finished=lambda result: self._set_result(model, rows, result),
            on_error=self.task.message.setText)

    def _set_result(self, model, rows: int, result) -> None:
        if model is not self.model:
            return
        original, completions = result
        self.prompt, self.completions, self.rows_done = original, completions, rows
        tiles = np.concatenate([original[None], completions])
        self.result_view.set_images(tiles, len(tiles))
        self._mark_given(len(tiles), len(tiles), rows, original.shape)
        self.task.set_progress(1.0, "")
        settings = describe_settings(dataclasses.replace(model.sampling_fields(), **self.knobs.values()))
        self.caption.setText(f"First the original at the model's {model.levels} levels, then "
                             f"{len(completions)} completions of its top {rows} rows (tinted green) "
                             f"({settings}), seed {self.seed_spin.value()}.")

    def _mark_given(self, tiles: int, columns: int, rows: int, shape) -> None:
        """Tint and border the given rows of each tile."""
        for item in self._marks:
            self.result_view.view.removeItem(item)
        self._marks = []
        h, w = shape[:2]
        if rows <= 0:
            return
        pen = pg.mkPen(GIVEN, width=2)
        pen.setCosmetic(True)
        tint = QColor(GIVEN)
        tint.setAlpha(50)
        for tile in range(tiles):
            row, col = divmod(tile, columns)
            item = QGraphicsRectItem(GRID_PADDING + col * (w + GRID_PADDING),
                                     GRID_PADDING + row * (h + GRID_PADDING), w, rows)
            item.setPen(pen)
            item.setBrush(pg.mkBrush(tint))
            self.result_view.view.addItem(item)
            self._marks.append(item)

    def _clear_result(self, text: str) -> None:
        self.result_view.clear_image()
        self._mark_given(0, 1, 0, (1, 1))
        self.caption.setText(text)
