"""Turn a sequence of uint8 images (an interpolation, a sampling run) into a PNG strip or a GIF.

Pixels are enlarged by whole-number factors with nearest-neighbour repetition, so a 28x28
decoding stays crisp instead of being smeared by a resampling filter. Files are written to a
temporary name and renamed, so a failed export never leaves half a file behind the user's name.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from genai_engine.errors import GenAIError
from genai_engine.files import atomic_write
from genai_engine.sampling import image_grid

MAX_SCALE = 32
# GIF stores delays in hundredths of a second, and most viewers slow anything under 20 ms
# down to 100 ms; refuse what would not play as asked.
MIN_FRAME_MS = 20
MAX_FRAME_MS = 60_000


def as_frames(images) -> np.ndarray:
    """Check and normalise a sequence of images to uint8 (N, H, W, C) with C = 1 or 3."""
    if isinstance(images, np.ndarray):
        frames = images
    else:
        images = list(images)
        if not images:
            raise GenAIError("there are no images to export")
        frames = np.stack([np.asarray(image) for image in images])
    if frames.ndim == 3:  # (N, H, W) grayscale
        frames = frames[..., None]
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise GenAIError(f"images must be uint8 (N, H, W, 1|3), got {frames.dtype} {frames.shape}")
    if len(frames) == 0:
        raise GenAIError("there are no images to export")
    return frames


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Enlarge (H, W, ...) by repeating each pixel ``scale`` times in both directions."""
    scale = _check_scale(scale)
    if scale == 1:
        return image
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def strip_image(images, scale: int = 1, padding: int = 2, columns: int | None = None,
                background: int = 255) -> np.ndarray:
    """All frames side by side (or wrapped after ``columns``) as one uint8 (H', W', C) image.

    Padding is added before upscaling, so the gaps grow with the pixels and the strip looks
    the same at every scale.
    """
    frames = as_frames(images)
    grid = image_grid(frames, columns or len(frames), padding=padding, background=background)
    return upscale(grid, scale)


def animation_order(count: int, pingpong: bool) -> list[int]:
    """Frame indices to play: 0..n-1, and for ping-pong back again without repeating the ends.

    The GIF loops, so a ping-pong run stops one frame short of the start (the loop supplies it).
    """
    forward = list(range(count))
    if not pingpong or count < 3:
        return forward
    return forward + forward[-2:0:-1]


def save_strip(images, path: str | os.PathLike, scale: int = 1, padding: int = 2,
               columns: int | None = None) -> Path:
    """Write the frames as one PNG strip (the format follows the extension; PNG if none)."""
    picture = _to_pil(strip_image(images, scale, padding, columns))
    path = Path(path)
    file_format = _format_for(path) if path.suffix else "PNG"
    return _atomic_save(path, lambda handle: picture.save(handle, format=file_format))


def save_gif(images, path: str | os.PathLike, frame_ms: int = 100, loop: int = 0,
             pingpong: bool = False, scale: int = 1, end_pause_ms: int = 0) -> Path:
    """Write the frames as an animated GIF.

    ``loop=0`` repeats forever (n > 0: play n extra times). ``end_pause_ms`` holds the first
    and last frame a little longer so the endpoints read clearly. Pillow merges consecutive
    frames that are identical into one frame with the summed duration, so the timing holds
    even when the frame count shrinks.
    """
    frames = as_frames(images)
    frame_ms = int(frame_ms)
    if not MIN_FRAME_MS <= frame_ms <= MAX_FRAME_MS:
        raise GenAIError(
            f"frame duration must be {MIN_FRAME_MS}..{MAX_FRAME_MS} ms, got {frame_ms}")
    if int(loop) < 0:
        raise GenAIError(f"loop count must be 0 (forever) or more, got {loop}")
    if int(end_pause_ms) < 0:
        raise GenAIError(f"end pause must be 0 ms or more, got {end_pause_ms}")
    order = animation_order(len(frames), pingpong)
    durations = [frame_ms] * len(order)
    if end_pause_ms and len(frames) > 1:
        for position, index in enumerate(order):
            if index in (0, len(frames) - 1):
                durations[position] += int(end_pause_ms)
    pictures = [_to_pil(upscale(frames[i], scale)) for i in order]

    def write(handle) -> None:
        pictures[0].save(handle, format="GIF", save_all=True, append_images=pictures[1:],
                         duration=durations if len(pictures) > 1 else durations[0],
                         loop=int(loop), optimize=False, disposal=1)

    return _atomic_save(Path(path), write)


def _check_scale(scale) -> int:
    if int(scale) != scale or not 1 <= int(scale) <= MAX_SCALE:
        raise GenAIError(f"pixel scale must be a whole number 1..{MAX_SCALE}, got {scale}")
    return int(scale)


def _to_pil(image: np.ndarray):
    from PIL import Image

    array = np.ascontiguousarray(image[..., 0] if image.shape[-1] == 1 else image)
    # Pillow copies the buffer here, so the picture outlives any array it came from.
    return Image.fromarray(array, "L" if array.ndim == 2 else "RGB")


def _format_for(path: Path) -> str:
    from PIL import Image

    Image.init()
    file_format = Image.EXTENSION.get(path.suffix.lower())
    if file_format is None:
        raise GenAIError(f"{path.name}: unknown image type {path.suffix}; use .png")
    return file_format


def _atomic_save(path: Path, write) -> Path:
    try:
        return atomic_write(path, write)
    except OSError as error:
        raise GenAIError(f"cannot write {path}: {error.strerror or error}") from None
