"""A conditional model's current latent "style" decoded as every class, one captioned tile each.

The grid follows the point Explore shows (through the same decoder, so a past epoch of the
training timeline too), a few times a second while a slider moves and only while visible;
clicking a tile selects that class for the main image.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from desktop.latest_wins import ThrottledLatestWins
from desktop.task_runner import TaskRunner
from desktop.widgets.image_view import ImageView
from genai_engine.families.base import decode_each_class

MAX_CLASSES = 36  # more classes would make tiles too small to read; the first ones are shown
MIN_TILE = 40  # px
REFRESH_MS = 100
SELECTED_STYLE = "border: 2px solid palette(highlight);"
TILE_STYLE = "border: 2px solid transparent;"


class ClassGrid(QWidget):
    class_clicked = Signal(int)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names: list[str] = []
        self.selected = 0
        self.images: np.ndarray | None = None  # the latest grid shown, (K, H, W, C)
        self.tiles: list[ImageView] = []
        self.captions: list[QLabel] = []
        self._point: tuple[object, np.ndarray] | None = None  # (decoder, z) of the newest request
        self.job = ThrottledLatestWins(runner, "class grid", self, REFRESH_MS, self)
        self.job.ready.connect(self._show)

        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(dark);")
        self._columns = 1
        self._grid = QGridLayout()
        self._grid.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(self._grid, 1)
        layout.addWidget(self.hint)

    def set_classes(self, names: list[str]) -> None:
        """One tile per class (the first ``MAX_CLASSES``), captioned with its name."""
        total, names = len(names), list(names[:MAX_CLASSES])
        if names == self.names:
            return
        for widget in self.tiles + self.captions:
            self._grid.removeWidget(widget)
            widget.deleteLater()
        self.names, self.tiles, self.captions, self.images = names, [], [], None
        point, self._point = self._point, None
        self._columns = 0  # placed by _fit_tiles
        for k, name in enumerate(names):
            tile = ImageView(min_size=MIN_TILE)
            tile.setToolTip(f"The current point decoded as “{name}”. Click to decode the main "
                            "image as this class.")
            tile.clicked.connect(lambda _x, _y, k=k: self.class_clicked.emit(k))
            caption = QLabel(name)
            caption.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
            self.tiles.append(tile)
            self.captions.append(caption)
        self._fit_tiles()
        more = f" (the first {len(names)} of {total} classes)" if total > len(names) else ""
        self.hint.setText(f"The current latent point (its “style”) decoded as every class{more}. "
                          "Click a tile to decode the main image as that class.")
        self.set_selected(self.selected)
        if point is not None:  # new names (e.g. another dataset): the same point, new tiles
            self.show_point(*point)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_tiles()

    def _fit_tiles(self) -> None:
        """Square tiles, in the number of columns that makes them largest in this widget."""
        if not self.tiles:
            return
        gap = self._grid.spacing()
        caption = self.captions[0].sizeHint().height()
        height = self.height() - self.hint.heightForWidth(self.width()) - 2 * gap - 6

        def side(columns: int) -> int:
            rows = math.ceil(len(self.tiles) / columns)
            return min((self.width() - (columns - 1) * gap) // columns,
                       (height - rows * (caption + 2 * gap)) // rows)

        columns = max(range(1, len(self.tiles) + 1), key=side)
        if columns != self._columns:
            self._columns = columns
            for k, (tile, label) in enumerate(zip(self.tiles, self.captions, strict=True)):
                row, col = divmod(k, columns)
                self._grid.addWidget(tile, 2 * row, col)  # no alignment: it grows to its maximum
                self._grid.addWidget(label, 2 * row + 1, col, Qt.AlignHCenter | Qt.AlignTop)
        size = max(side(columns), MIN_TILE)
        for tile in self.tiles:  # a maximum, not a fixed size: the grid never widens the window
            tile.setMaximumSize(size, size)

    def set_selected(self, k: int) -> None:
        self.selected = k
        for i, (tile, caption) in enumerate(zip(self.tiles, self.captions, strict=True)):
            tile.setStyleSheet(SELECTED_STYLE if i == k else TILE_STYLE)
            font = caption.font()
            font.setBold(i == k)
            caption.setFont(font)

    def show_point(self, decoder, z: np.ndarray) -> None:
        """Decode ``z`` as every class with ``decoder`` (a model or one timeline epoch)."""
        if not self.names:
            return
        z, count = np.array(z, np.float32, copy=True), len(self.names)
        last = self._point
        if last is not None and last[0] is decoder and np.array_equal(last[1], z):
            return  # e.g. only the class changed: the grid is the same
        self._point = (decoder, z)
        self.job.request(lambda: decode_each_class(decoder, z, count))

    def discard(self) -> None:
        """A new model: drop pending work and the old model's results."""
        self._point = None
        self.job.discard()

    @property
    def settled(self) -> bool:
        return self.job.settled

    def _show(self, images: np.ndarray, _tag) -> None:
        if len(images) != len(self.tiles):
            return
        self.images = images
        for tile, image in zip(self.tiles, images, strict=True):
            tile.set_image(image)
