"""ImageView keeps the image it was given and paints its RGBA conversion."""

import numpy as np
import pytest

from desktop.widgets.image_view import ImageView, display_rgba, tile_at, tile_rect


def test_display_rgba_repeats_gray_and_keeps_colour():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgba = display_rgba(gray[..., None])
    assert rgba.shape == (3, 4, 4) and rgba.dtype == np.uint8
    assert all(np.array_equal(rgba[..., c], gray) for c in range(3))
    assert (rgba[..., 3] == 255).all()
    assert np.array_equal(display_rgba(gray), rgba)
    colour = np.random.default_rng(0).integers(0, 256, (3, 4, 3), dtype=np.uint8)
    assert np.array_equal(display_rgba(colour)[..., :3], colour)


@pytest.mark.parametrize("channels", [1, 3])
def test_image_view_paints_rgba_and_keeps_the_image(qtbot, channels):
    view = ImageView()
    qtbot.addWidget(view)
    image = np.random.default_rng(1).integers(0, 256, (5, 7, channels), dtype=np.uint8)
    view.set_image(image)
    assert np.array_equal(view.image, image[..., 0] if channels == 1 else image)
    assert view.item.image.shape == (5, 7, 4)
    assert np.array_equal(view.item.image, display_rgba(image))
    view.clear_image()
    assert view.image is None and view.item.image is None


def test_tile_at_maps_grid_coordinates_to_tiles():
    # image_grid: 2 px padding, 28 px tiles, 3 columns.
    assert tile_at(2 + 14, 2 + 14, 28, 28, 3) == 0
    assert tile_at(2 + 30 + 14, 2 + 30 + 14, 28, 28, 3) == 4
    assert tile_at(2 + 3 * 30 + 5, 10, 28, 28, 3) == -1


def test_tile_rect_frames_a_tile_and_contains_only_its_pixels():
    # tiles of 28 px with 2 px padding: tile 4 of a 3-column grid starts at (32, 32)
    x, y, w, h = tile_rect(4, 28, 28, 3)
    assert (x, y, w, h) == (31, 31, 30, 30)
    assert tile_at(x + 1, y + 1, 28, 28, 3) == 4 == tile_at(x + w - 1.01, y + h - 1.01, 28, 28, 3)
