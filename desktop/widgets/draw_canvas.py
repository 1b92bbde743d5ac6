"""A small pixel canvas to draw a prompt with the mouse: left button paints white, right black."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop import style
from desktop.widgets.image_view import display_rgba


class DrawCanvas(QWidget):
    """An (H, W, C) uint8 image drawn one pixel at a time; every channel gets the same value."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.image = np.zeros((28, 28, 1), np.uint8)
        self.guide_row = 0  # rows above this line are the prompt (drawn as a line)
        self._paint_value: int | None = None
        self.setMinimumSize(140, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a prompt: drag with the left button to paint white, the right to "
                        "paint black")

    def set_shape(self, height: int, width: int, channels: int) -> None:
        if self.image.shape != (height, width, channels):
            self.image = np.zeros((height, width, channels), np.uint8)
            self.update()

    def set_image(self, image: np.ndarray) -> None:
        self.image = np.array(image, np.uint8, copy=True).reshape(self.image.shape)
        self.update()
        self.changed.emit()

    def clear(self) -> None:
        self.set_image(np.zeros_like(self.image))

    def set_guide_row(self, row: int) -> None:
        self.guide_row = row
        self.update()

    # -- geometry ----------------------------------------------------------------------------
    def _cell(self) -> tuple[float, float, float]:
        """Side of one pixel on screen and the top-left corner of the centred drawing."""
        h, w = self.image.shape[:2]
        side = min(self.width() / w, self.height() / h)
        return side, (self.width() - side * w) / 2, (self.height() - side * h) / 2

    def pixel_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, column) under widget coordinates, or None outside the drawing."""
        side, left, top = self._cell()
        row, col = int((y - top) // side), int((x - left) // side)
        h, w = self.image.shape[:2]
        return (row, col) if 0 <= row < h and 0 <= col < w else None

    def pixel_center(self, row: int, col: int) -> tuple[int, int]:
        """Widget coordinates of a pixel's centre (for tests and scripted drawing)."""
        side, left, top = self._cell()
        return int(left + (col + 0.5) * side), int(top + (row + 0.5) * side)

    # -- mouse -------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            self._paint_value = 255 if event.button() == Qt.MouseButton.LeftButton else 0
            self._paint(event.position())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._paint_value is not None:
            self._paint(event.position())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._paint_value is not None:
            self._paint_value = None
            self.changed.emit()

    def _paint(self, pos) -> None:
        cell = self.pixel_at(pos.x(), pos.y())
        if cell is not None and self.image[cell].max(initial=0) != self._paint_value:
            self.image[cell] = self._paint_value
            self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        side, left, top = self._cell()
        h, w = self.image.shape[:2]
        rgba = np.ascontiguousarray(display_rgba(self.image))
        qimage = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()  # owns its pixels
        painter = QPainter(self)
        painter.fillRect(self.rect(), style.image_background())
        painter.drawImage(QRectF(left, top, side * w, side * h), qimage)
        if 0 < self.guide_row < h:
            pen = QPen(QColor(style.GREEN), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            y = top + self.guide_row * side
            painter.drawLine(int(left), int(y), int(left + side * w), int(y))
        painter.end()
