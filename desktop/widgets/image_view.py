"""A crisp, fast image display: pyqtgraph ImageItem with uint8, row-major, fixed levels.

Fixed levels skip pyqtgraph's per-frame min/max scan, and ``setImage`` copies the array into
the item, so no QImage ever borrows a numpy buffer that could be freed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from genai_engine.sampling import image_grid

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


class ImageView(pg.GraphicsLayoutWidget):
    """Shows one uint8 image (H, W) or (H, W, 1|3), scaled to fit with square pixels."""

    clicked = Signal(float, float)  # image coordinates (x, y) of a left click

    def __init__(self, parent=None, min_size: int = 96) -> None:
        super().__init__(parent)
        self.setMinimumSize(min_size, min_size)
        self.setBackground("w")
        self.ci.setContentsMargins(0, 0, 0, 0)
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.item)
        self.image: np.ndarray | None = None
        self.item.mouseClickEvent = self._on_click

    def set_image(self, image: np.ndarray) -> None:
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[..., 0]
        first = self.image is None or self.image.shape != image.shape
        self.image = image
        self.item.setImage(image, levels=(0, 255), autoLevels=False)
        if first:
            self.view.autoRange(padding=0)

    def set_images(self, images: np.ndarray, columns: int | None = None) -> None:
        """A batch (N, H, W, C) shown as one grid."""
        self.set_image(image_grid(images, columns))

    def _on_click(self, event) -> None:
        pos = event.pos()
        self.clicked.emit(float(pos.x()), float(pos.y()))
