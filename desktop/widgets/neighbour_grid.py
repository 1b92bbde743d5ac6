"""Rows of thumbnails: a generated sample, then its nearest training images with captions.

Thumbnails are QLabels holding pixmaps copied out of the numpy arrays (``QImage.copy``), so no
Qt image ever borrows a buffer that numpy may free; pixels are scaled by an integer factor with
no smoothing, so they stay crisp.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

FLAG_COLOR = "#c0392b"


def pixmap_from_uint8(image: np.ndarray, scale: int = 1) -> QPixmap:
    """uint8 (H, W), (H, W, 1) or (H, W, 3) -> a QPixmap ``scale`` times larger, crisp."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    array = np.ascontiguousarray(array, dtype=np.uint8)
    h, w = array.shape[:2]
    if array.ndim == 2:
        qimage = QImage(array.data, w, h, array.strides[0], QImage.Format.Format_Grayscale8)
    else:
        qimage = QImage(array.data, w, h, array.strides[0], QImage.Format.Format_RGB888)
    qimage = qimage.copy()  # own the pixels before ``array`` can go away
    if scale > 1:
        qimage = qimage.scaled(w * scale, h * scale, Qt.AspectRatioMode.IgnoreAspectRatio,
                               Qt.TransformationMode.FastTransformation)
    return QPixmap.fromImage(qimage)


class Thumbnail(QWidget):
    """An image with a caption under it (and an optional red frame)."""

    def __init__(self, image: np.ndarray, caption: str, scale: int, tooltip: str = "",
                 flagged: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.image_label = QLabel()
        self.image_label.setPixmap(pixmap_from_uint8(image, scale))
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        border = FLAG_COLOR if flagged else "#d0d0d0"
        self.image_label.setStyleSheet(f"border: 2px solid {border}; background: white")
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet(f"font-size: 11px; color: {FLAG_COLOR if flagged else '#333'}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addWidget(self.image_label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
        self.setToolTip(tooltip)


class NeighbourGrid(QScrollArea):
    """One row per query: the query image, a separator, then its neighbours left to right."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.rows: list[list[Thumbnail]] = []
        self._container = QWidget()
        self._grid = QGridLayout(self._container)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setWidget(self._container)

    def clear(self) -> None:
        self.rows = []
        container = QWidget()
        self._grid = QGridLayout(container)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setWidget(container)  # the old container and its labels are deleted with it
        self._container = container

    def set_rows(self, queries: np.ndarray, neighbours: np.ndarray, captions: list[list[str]],
                 query_captions: list[str], *, flags: np.ndarray | None = None,
                 tooltips: list[list[str]] | None = None, scale: int = 2,
                 headers: list[str] | None = None) -> None:
        """``queries`` (Q, H, W, C), ``neighbours`` (Q, k, H, W, C), ``captions`` (Q, k)."""
        self.clear()
        k = neighbours.shape[1] if len(neighbours) else 0
        row_offset = 0
        if headers:
            for column, text in enumerate(headers):
                label = QLabel(f"<b>{text}</b>")
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                self._grid.addWidget(label, 0, column if column == 0 else column + 1)
            row_offset = 1
        for q in range(len(queries)):
            flagged = bool(flags[q]) if flags is not None else False
            row = [Thumbnail(queries[q], query_captions[q], scale, flagged=flagged,
                             tooltip="A generated sample")]
            for j in range(k):
                tip = tooltips[q][j] if tooltips else ""
                row.append(Thumbnail(neighbours[q, j], captions[q][j], scale, tooltip=tip))
            self._grid.addWidget(row[0], q + row_offset, 0)
            separator = QFrame()
            separator.setFrameShape(QFrame.Shape.VLine)
            separator.setStyleSheet("color: #bbb")
            self._grid.addWidget(separator, q + row_offset, 1)
            for j, thumb in enumerate(row[1:]):
                self._grid.addWidget(thumb, q + row_offset, j + 2)
            self.rows.append(row)
