"""PNG strips and animated GIFs from uint8 frames: sizes, frame counts, timing, crisp pixels."""

import numpy as np
import pytest
from PIL import Image, ImageSequence

from genai_engine.animation import (
    animation_order,
    as_frames,
    save_gif,
    save_strip,
    strip_image,
    upscale,
)
from genai_engine.errors import GenAIError


def ramp_frames(n=5, h=6, w=4, channels=1) -> np.ndarray:
    """n frames of distinct flat gray levels (every frame differs from its neighbours)."""
    levels = np.linspace(0, 255, n).astype(np.uint8)
    return np.broadcast_to(levels[:, None, None, None], (n, h, w, channels)).copy()


def gif_frames(path):
    with Image.open(path) as picture:
        frames = [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(picture)]
        durations = []
        for i in range(picture.n_frames):
            picture.seek(i)
            durations.append(picture.info["duration"])
        return frames, durations, picture.info.get("loop")


def test_upscale_repeats_pixels_exactly():
    image = np.array([[0, 255], [128, 7]], np.uint8)
    big = upscale(image, 3)
    assert big.shape == (6, 6)
    assert (big[:3, :3] == 0).all() and (big[3:, 3:] == 7).all() and (big[:3, 3:] == 255).all()
    assert upscale(image, 1) is image
    for bad in (0, 1.5, 33):
        with pytest.raises(GenAIError):
            upscale(image, bad)


def test_strip_layout_and_scale():
    frames = ramp_frames(5, 6, 4)
    strip = strip_image(frames, scale=2, padding=2)
    assert strip.shape == (2 * (6 + 4), 2 * (5 * (4 + 2) + 2), 1)
    # The third frame sits after two tiles and their padding, at its own gray level.
    x0 = 2 * (2 + 2 * 6)
    assert (strip[4:4 + 12, x0:x0 + 8] == frames[2, 0, 0, 0]).all()
    wrapped = strip_image(frames, columns=2, padding=0)
    assert wrapped.shape == (3 * 6, 2 * 4, 1)


def test_save_strip_png_roundtrip(tmp_path):
    frames = ramp_frames(4, 7, 5, channels=3)
    path = save_strip(frames, tmp_path / "sub" / "strip.png", scale=3)
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.mode == "RGB"
        assert picture.size == (3 * (4 * (5 + 2) + 2), 3 * (7 + 4))
        assert np.array_equal(np.asarray(picture), strip_image(frames, scale=3))
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_gif_frame_count_size_loop_and_duration(tmp_path):
    frames = ramp_frames(6, 8, 8)
    path = save_gif(frames, tmp_path / "anim.gif", frame_ms=70, scale=4, loop=0)
    decoded, durations, loop = gif_frames(path)
    assert len(decoded) == 6 and decoded[0].shape == (32, 32)
    assert durations == [70] * 6 and loop == 0
    # Grayscale survives the palette exactly.
    assert [int(f[0, 0]) for f in decoded] == [int(v) for v in frames[:, 0, 0, 0]]


def test_gif_pingpong_and_end_pause(tmp_path):
    frames = ramp_frames(5, 4, 4)
    assert animation_order(5, True) == [0, 1, 2, 3, 4, 3, 2, 1]
    assert animation_order(2, True) == [0, 1]
    path = save_gif(frames, tmp_path / "pp.gif", frame_ms=50, pingpong=True, end_pause_ms=200)
    decoded, durations, _ = gif_frames(path)
    assert len(decoded) == 8
    assert [int(f[0, 0]) for f in decoded] == [int(frames[i, 0, 0, 0]) for i in
                                                animation_order(5, True)]
    assert durations == [250, 50, 50, 50, 250, 50, 50, 50]


def test_single_frame_gif_and_rgb(tmp_path):
    rgb = np.zeros((1, 3, 3, 3), np.uint8)
    rgb[0, ..., 0] = 200
    path = save_gif(rgb, tmp_path / "one.gif")
    with Image.open(path) as picture:
        assert picture.n_frames == 1
        assert picture.convert("RGB").getpixel((1, 1)) == (200, 0, 0)


def test_bad_inputs_raise_user_errors(tmp_path):
    with pytest.raises(GenAIError):
        as_frames([])
    with pytest.raises(GenAIError):
        as_frames(np.zeros((2, 4, 4, 2), np.uint8))
    with pytest.raises(GenAIError):
        as_frames(np.zeros((2, 4, 4, 1), np.float32))
    with pytest.raises(GenAIError):
        save_gif(ramp_frames(), tmp_path / "a.gif", frame_ms=5)
    with pytest.raises(GenAIError):
        save_strip(ramp_frames(), tmp_path / "a.unknownext")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GenAIError, match="cannot write"):
        save_strip(ramp_frames(), blocker / "inside.png")


def test_grayscale_list_input(tmp_path):
    frames = [np.full((4, 4), v, np.uint8) for v in (0, 100, 200)]
    assert as_frames(frames).shape == (3, 4, 4, 1)
    path = save_strip(frames, tmp_path / "noext")
    with Image.open(path) as picture:
        assert picture.format == "PNG"
