"""Pixel art in a QLabel, sharp at any display scaling.

The pixmap is drawn at device pixels (``scale`` x the display's device pixel ratio per image
pixel, nearest neighbour) and tagged with that ratio, so Qt shows it at its logical size
without stretching it again: at 150 % or 200 % scaling an image pixel is a crisp block, not
a blur. It is copied out of the numpy array (``QImage.copy``), so no Qt image borrows a
buffer numpy may free.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel


def pixmap_from_uint8(image: np.ndarray, scale: int = 1, dpr: float = 1.0) -> QPixmap:
    """uint8 (H, W), (H, W, 1) or (H, W, 3) -> a QPixmap of ``scale`` x (W, H) logical pixels
    holding ``dpr`` times as many device pixels, crisp."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    array = np.ascontiguousarray(array, dtype=np.uint8)
    h, w = array.shape[:2]
    fmt = QImage.Format.Format_Grayscale8 if array.ndim == 2 else QImage.Format.Format_RGB888
    qimage = QImage(array.data, w, h, array.strides[0], fmt).copy()  # own the pixels
    device_w, device_h = round(w * scale * dpr), round(h * scale * dpr)
    if (device_w, device_h) != (w, h):
        qimage = qimage.scaled(device_w, device_h, Qt.AspectRatioMode.IgnoreAspectRatio,
                               Qt.TransformationMode.FastTransformation)
    pixmap = QPixmap.fromImage(qimage)
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


class PixelLabel(QLabel):
    """Shows a uint8 image ``scale`` times enlarged, drawn again for the device pixel ratio of
    the screen it ends up on (and whenever the window moves to a screen with another)."""

    def __init__(self, image: np.ndarray, scale: int = 1, parent=None) -> None:
        super().__init__(parent)
        self.image = np.array(image, dtype=np.uint8)
        self.scale = scale
        self._render()

    def _render(self) -> None:
        dpr = self.devicePixelRatioF()
        pixmap = self.pixmap()
        if pixmap.isNull() or pixmap.devicePixelRatio() != dpr:
            self.setPixmap(pixmap_from_uint8(self.image, self.scale, dpr))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._render()  # built before it had a window: the screen may differ from the first guess
        super().showEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self._render()
        return super().event(event)
