"""Thumbnails stay sharp at 150 % and 200 % display scaling: drawn at device pixels, nearest
neighbour, tagged with the device pixel ratio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSize

from desktop.widgets.pixel_label import pixmap_from_uint8


def _pixels(pixmap) -> np.ndarray:
    """The pixmap's device pixels as uint8 (H, W) grey."""
    image = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_Grayscale8)
    row = image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=row * image.height())
    return data.reshape(image.height(), row)[:, :image.width()].copy()


IMAGE = np.random.default_rng(0).integers(0, 256, (5, 7), dtype=np.uint8)


@pytest.mark.parametrize("channels", [1, 3])
def test_a_thumbnail_made_at_dpr_2_has_twice_the_device_pixels(qtbot, channels):
    image = np.repeat(IMAGE[..., None], channels, axis=2)
    pixmap = pixmap_from_uint8(image, scale=3, dpr=2.0)
    assert pixmap.devicePixelRatio() == 2.0
    assert pixmap.size() == QSize(7 * 3 * 2, 5 * 3 * 2)
    assert pixmap.deviceIndependentSize().toSize() == QSize(7 * 3, 5 * 3)  # its layout size
    # Nearest neighbour: each image pixel is a 6x6 block of its own value, no blur.
    assert np.array_equal(_pixels(pixmap), np.kron(IMAGE, np.ones((6, 6), np.uint8)))


def test_at_150_percent_the_logical_size_stays_and_no_value_is_invented(qtbot):
    pixmap = pixmap_from_uint8(IMAGE, scale=2, dpr=1.5)
    assert pixmap.size() == QSize(21, 15) and pixmap.devicePixelRatio() == 1.5
    assert set(np.unique(_pixels(pixmap))) <= set(np.unique(IMAGE))  # no smoothing


# Run at a real display scaling: Qt fixes it when the application starts.
SCALED_GRID = """
import json, numpy as np
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.widgets.neighbour_grid import NeighbourGrid
image = np.arange(35, dtype=np.uint8).reshape(5, 7, 1) * 7
grid = NeighbourGrid()
grid.set_rows(image[None], image[None, None], [["d = 0"]], ["sample"], scale=2)
grid.show()
app.processEvents()
label = grid.rows[0][1].image_label
pixmap = label.pixmap()
grey = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_Grayscale8)
values = sorted({grey.pixelColor(x, y).red() for x in range(grey.width()) for y in range(grey.height())})
print(json.dumps({"dpr": pixmap.devicePixelRatio(), "size": [pixmap.width(), pixmap.height()],
                  "values": values, "image_values": sorted(set(image.ravel().tolist()))}))
"""


@pytest.mark.parametrize("factor", ["2", "1.5"])
def test_thumbnails_are_drawn_for_the_display_scaling(factor):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": factor}
    done = subprocess.run([sys.executable, "-c", SCALED_GRID], env=env, capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = float(factor)
    assert shown["dpr"] == ratio
    assert shown["size"] == [round(7 * 2 * ratio), round(5 * 2 * ratio)]  # device pixels
    assert shown["values"] == shown["image_values"]  # nearest neighbour: no value invented
