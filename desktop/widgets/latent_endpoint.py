"""Choose one end of a latent path: a dataset image (split + index) or a prior sample (seed)."""

from __future__ import annotations

import random

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop.widgets.image_picker import ImagePickerDialog
from desktop.widgets.image_view import ImageView
from genai_engine.data import Dataset
from genai_engine.latent import DATASET, PRIOR, Endpoint

MAX_SEED = 2**31 - 1


class EndpointEditor(QGroupBox):
    """A titled box: source (dataset image or prior sample), its settings, and a preview."""

    changed = Signal()

    def __init__(self, title: str, default: Endpoint, parent=None) -> None:
        super().__init__(title, parent)
        self.dataset: Dataset | None = None
        self._dataset_wanted = False  # set aside a dataset-image choice the model cannot use
        self._quiet = False

        self.source_box = QComboBox()
        self.source_box.addItem("Dataset image", DATASET)
        self.source_box.addItem("Prior sample", PRIOR)
        self.source_box.setToolTip(
            "Dataset image: the path starts at the encoder's mean code for that image.\n"
            "Prior sample: a random code z ~ N(0, I), repeatable for its seed.")

        self.split_box = QComboBox()
        self.split_box.addItem("Test", "test")
        self.split_box.addItem("Train", "train")
        self.index_spin = QSpinBox()
        self.index_spin.setToolTip("Index of the image in the split")
        self.index_spin.setKeyboardTracking(False)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Pick the image from pages of thumbnails")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip("The same seed always gives the same prior sample")
        self.dice_button = QPushButton("Random")
        self.dice_button.setToolTip("Draw a new seed")

        self.preview = ImageView(min_size=96)
        self.preview.setFixedSize(96, 96)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: palette(placeholder-text);")

        # One form for both sources (rows shown or hidden) keeps the labels aligned.
        self.form = QFormLayout()
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Source", self.source_box)
        self.form.addRow("Split", self.split_box)
        self.form.addRow("Image", _row(self.index_spin, self.browse_button))
        self.form.addRow("Seed", _row(self.seed_spin, self.dice_button))
        self.form.addRow(self.caption)
        layout = QHBoxLayout(self)
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(self.form, 1)
        self._wanted_index = default.index

        self.source_box.currentIndexChanged.connect(self._emit)
        self.split_box.currentIndexChanged.connect(self._on_split)
        self.index_spin.valueChanged.connect(self._on_index)
        self.seed_spin.valueChanged.connect(self._emit)
        self.browse_button.clicked.connect(self.browse)
        self.dice_button.clicked.connect(
            lambda: self.seed_spin.setValue(random.randint(0, 99_999)))
        self.set_endpoint(default)

    # -- state ------------------------------------------------------------------------------
    def endpoint(self) -> Endpoint:
        source = self.source_box.currentData()
        if source == DATASET and self.dataset is None:
            source = PRIOR
        return Endpoint(source, self.split_box.currentData(), self.index_spin.value(),
                        self.seed_spin.value())

    def set_endpoint(self, endpoint: Endpoint) -> None:
        self._quiet = True
        try:
            self.source_box.setCurrentIndex(self.source_box.findData(endpoint.source))
            self.split_box.setCurrentIndex(self.split_box.findData(endpoint.split))
            self._wanted_index = endpoint.index
            self._update_index_range()
            self.seed_spin.setValue(endpoint.seed)
        finally:
            self._quiet = False
        self._emit()

    def set_dataset(self, dataset: Dataset | None, unusable_reason: str = "") -> None:
        """Offer dataset images only when there is a dataset the model can encode. With an
        ``unusable_reason`` (the model has no encoder) the editor shows a prior sample instead
        and returns to the dataset image once a model can use it."""
        self.dataset = dataset
        item = self.source_box.model().item(0)
        item.setEnabled(self.dataset is not None)
        item.setToolTip("" if self.dataset is not None else unusable_reason or
                        "Open a dataset whose images match the model to start from one")
        self._quiet = True
        try:
            if unusable_reason and self.source_box.currentData() == DATASET:
                self._dataset_wanted = True
                self.source_box.setCurrentIndex(self.source_box.findData(PRIOR))
            elif dataset is not None and self._dataset_wanted:
                self._dataset_wanted = False
                self.source_box.setCurrentIndex(self.source_box.findData(DATASET))
            self._update_index_range()
        finally:
            self._quiet = False
        self._emit()

    def set_preview(self, image: np.ndarray | None) -> None:
        if image is not None:
            self.preview.set_image(image)

    # -- slots ------------------------------------------------------------------------------
    def browse(self) -> None:
        if self.dataset is None:
            return
        part = self.dataset.split(self.split_box.currentData())
        dialog = ImagePickerDialog(part.images, part.labels, self.dataset.class_names,
                                   self.index_spin.value(),
                                   f"{self.title()}: pick a {self.split_box.currentText().lower()} image",
                                   self)
        if dialog.exec() and dialog.chosen is not None:
            self.index_spin.setValue(dialog.chosen)

    def _on_index(self, index: int) -> None:
        self._wanted_index = index
        self._emit()

    def _on_split(self) -> None:
        self._update_index_range()
        self._emit()

    def _update_index_range(self) -> None:
        count = len(self.dataset.split(self.split_box.currentData())) if self.dataset else 0
        # Remember the wanted index: a smaller split (or none yet) must not lose it for good.
        self.index_spin.blockSignals(True)
        self.index_spin.setRange(0, max(0, count - 1))
        self.index_spin.setValue(min(self._wanted_index, max(0, count - 1)))
        self.index_spin.blockSignals(False)
        self.index_spin.setSuffix(f" / {count:,}" if count else "")

    def _emit(self) -> None:
        if self._quiet:
            return
        endpoint = self.endpoint()
        uses_dataset = endpoint.source == DATASET
        # Without a usable dataset a "dataset image" choice falls back to a prior sample; the
        # choice is kept so it comes back when a matching dataset opens.
        fallback = self.source_box.currentData() == DATASET and not uses_dataset
        for row in (1, 2):
            self.form.setRowVisible(row, uses_dataset)
        self.form.setRowVisible(3, not uses_dataset)
        self.caption.setText(("No matching dataset open: using a " if fallback else "")
                             + endpoint.describe(self.dataset))
        if uses_dataset:
            self.preview.set_image(self.dataset.split(endpoint.split).images[endpoint.index])
        self.changed.emit()


def _row(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    for i, widget in enumerate(widgets):
        row.addWidget(widget, 1 if i == 0 else 0)
    return holder
