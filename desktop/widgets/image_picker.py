"""Pick one image of a dataset split from pages of thumbnails (optionally one class only)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.widgets.image_view import ImageView

PADDING = 2  # the gap ``image_grid`` leaves around every tile


class ThumbnailGrid(QWidget):
    """Pages of ``columns x rows`` thumbnails of an image array; a click emits the image index."""

    picked = Signal(int)  # index into the full split

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None,
                 class_names: list[str] | None = None, columns: int = 12, rows: int = 8,
                 parent=None) -> None:
        super().__init__(parent)
        self.images, self.labels = images, labels
        self.columns, self.per_page = columns, columns * rows
        self.indices = np.arange(len(images))  # the (filtered) images being paged through

        self.class_box = QComboBox()
        self.class_box.setToolTip("Show only the images of one class")
        self.class_box.addItem("All classes", -1)
        if labels is not None:
            names = class_names or []
            for k in range(int(labels.max()) + 1 if len(labels) else 0):
                self.class_box.addItem(names[k] if k < len(names) else f"class {k}", k)
        self.class_box.setVisible(labels is not None)
        self.prev_button, self.next_button = QToolButton(), QToolButton()
        self.prev_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.next_button.setArrowType(Qt.ArrowType.RightArrow)
        self.prev_button.setToolTip("Previous page (PgUp)")
        self.next_button.setToolTip("Next page (PgDown)")
        self.page_spin = QSpinBox()
        self.page_spin.setMinimum(1)
        self.page_spin.setKeyboardTracking(False)
        self.page_label = QLabel()
        self.view = ImageView(min_size=320)
        self.view.setToolTip("Click an image to pick it")
        self.current: int | None = None  # outlined, so the user sees what they would replace
        self.current_box = QGraphicsRectItem()
        self.current_box.setPen(pg.mkPen(style.MARK, width=2))
        self.current_box.setVisible(False)
        self.view.view.addItem(self.current_box)

        bar = QHBoxLayout()
        bar.addWidget(self.class_box)
        bar.addStretch(1)
        bar.addWidget(self.prev_button)
        bar.addWidget(QLabel("Page"))
        bar.addWidget(self.page_spin)
        bar.addWidget(self.page_label)
        bar.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

        self.class_box.currentIndexChanged.connect(self._filter)
        self.page_spin.valueChanged.connect(self._show_page)
        self.prev_button.clicked.connect(lambda: self.page_spin.setValue(self.page_spin.value() - 1))
        self.next_button.clicked.connect(lambda: self.page_spin.setValue(self.page_spin.value() + 1))
        self.view.clicked.connect(self._on_click)
        self._filter()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.indices) / self.per_page))

    def page_indices(self) -> np.ndarray:
        start = (self.page_spin.value() - 1) * self.per_page
        return self.indices[start:start + self.per_page]

    def show_index(self, index: int) -> None:
        """Turn to the page holding ``index`` (clearing a class filter that hides it) and
        outline it."""
        self.current = index
        if index not in self.indices:
            self.class_box.setCurrentIndex(0)
        position = int(np.searchsorted(self.indices, index))
        self.page_spin.setValue(position // self.per_page + 1)
        self._outline_current()

    def tile_center(self, slot: int) -> tuple[float, float]:
        """Image coordinates of the centre of the ``slot``-th thumbnail on the page (for tests)."""
        _, h, w, _ = self.images.shape
        row, col = divmod(slot, self.columns)
        return (PADDING + col * (w + PADDING) + w / 2, PADDING + row * (h + PADDING) + h / 2)

    def _filter(self) -> None:
        wanted = self.class_box.currentData()
        if self.labels is None or wanted is None or wanted < 0:
            self.indices = np.arange(len(self.images))
        else:
            self.indices = np.flatnonzero(self.labels == wanted)
        self.page_spin.setMaximum(self.pages)
        self.page_label.setText(f"of {self.pages}  ({len(self.indices):,} images)")
        self._show_page()

    def _show_page(self) -> None:
        page = self.page_spin.value()
        self.prev_button.setEnabled(page > 1)
        self.next_button.setEnabled(page < self.pages)
        shown = self.page_indices()
        if len(shown):
            self.view.set_images(self.images[shown], self.columns)
        else:
            _, h, w, c = self.images.shape
            self.view.set_images(np.full((1, h, w, c), 255, np.uint8), self.columns)
        self._outline_current()

    def _outline_current(self) -> None:
        slots = np.flatnonzero(self.page_indices() == self.current)
        self.current_box.setVisible(len(slots) > 0)
        if len(slots):
            _, h, w, _ = self.images.shape
            x, y = self.tile_center(int(slots[0]))
            self.current_box.setRect(x - w / 2 - 1, y - h / 2 - 1, w + 2, h + 2)

    def _on_click(self, x: float, y: float) -> None:
        _, h, w, _ = self.images.shape
        col, row = int((x - PADDING) // (w + PADDING)), int((y - PADDING) // (h + PADDING))
        if not (0 <= col < self.columns and row >= 0):
            return
        slot = row * self.columns + col
        shown = self.page_indices()
        if slot < len(shown):
            self.picked.emit(int(shown[slot]))

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_PageDown:
            self.page_spin.setValue(self.page_spin.value() + 1)
        elif event.key() == Qt.Key.Key_PageUp:
            self.page_spin.setValue(self.page_spin.value() - 1)
        else:
            super().keyPressEvent(event)


class ImagePickerDialog(QDialog):
    """A modal page of thumbnails; clicking one accepts the dialog with ``chosen`` set."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None,
                 class_names: list[str] | None = None, current: int = 0, title: str = "",
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title or "Pick an image")
        self.chosen: int | None = None
        self.grid = ThumbnailGrid(images, labels, class_names, parent=self)
        self.grid.show_index(current)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.grid, 1)
        layout.addWidget(buttons)
        self.resize(760, 600)
        self.grid.picked.connect(self._pick)

    def _pick(self, index: int) -> None:
        self.chosen = index
        self.accept()
