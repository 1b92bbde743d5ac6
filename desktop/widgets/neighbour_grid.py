"""Rows of thumbnails: a generated sample, then its nearest training images with captions.

Thumbnails are ``PixelLabel``s: pixels scaled by an integer factor with no smoothing, at the
display's device pixel ratio, so they stay crisp.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop import style
from desktop.widgets.pixel_label import PixelLabel


class Thumbnail(QWidget):
    """An image with a caption under it (and an optional red frame)."""

    def __init__(self, image: np.ndarray, caption: str, scale: int, tooltip: str = "",
                 flagged: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.image_label = PixelLabel(image, scale)
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setStyleSheet(f"border: 2px solid {style.MARK if flagged else 'palette(mid)'}")
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        style.set_text_colour(self.caption, style.error_colour if flagged else style.text_colour,
                              "font-size: 11px;")
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
            separator.setStyleSheet("color: palette(mid)")
            self._grid.addWidget(separator, q + row_offset, 1)
            for j, thumb in enumerate(row[1:]):
                self._grid.addWidget(thumb, q + row_offset, j + 2)
            self.rows.append(row)
