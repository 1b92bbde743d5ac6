"""Checks and conversions shared by every reader once pixels are in memory.

- Images are uint8 (N, H, W, C) with C = 1 (grey) or 3 (RGB). An alpha channel (C = 2 or 4) is
  composited onto black, so transparent pixels become the dark background MNIST-style data has.
- When the sets of one dataset differ in channels, grey sets are repeated to RGB.
- When they differ in size, or ``image_size`` is given, everything is resized to one size: the
  requested ``image_size`` square, else the size most images already have (ties: the larger).
  See ``genai_engine.data.resize`` for the resampling (centre crop + antialiased bilinear).
- Labels are integer class indices in 0 .. MAX_CLASSES-1 (or below the number of class names).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from genai_engine.data.limits import MAX_CLASSES, check_budget
from genai_engine.data.resize import resize_images
from genai_engine.errors import DataError

MAX_IMAGE_SIZE = 2048  # largest ``image_size`` accepted: far beyond what these models train on


def image_array(array: np.ndarray, where: str, notes: list[str], what: str = "images"):
    """Validate ``array`` as images and return it as uint8 (N, H, W, 1|3)."""
    if array.dtype != np.uint8:
        hint = ""
        if array.dtype.kind == "f":
            hint = " (scale floats in [0, 1] by 255 and convert them with .astype(np.uint8))"
        raise DataError(f"{where}: {what} must be uint8 pixel values 0-255, not {array.dtype}{hint}")
    shape = array.shape
    if array.ndim == 3:
        array = array[..., None]
    elif array.ndim == 4:
        channels = shape[3]
        if channels in (2, 4):
            array = composite_alpha(array)
            notes.append(f"{what}: alpha channel composited onto black")
        elif channels not in (1, 3):
            hint = ""
            if shape[1] in (1, 3, 4):
                hint = "; it looks channel-first: use array.transpose(0, 2, 3, 1)"
            raise DataError(
                f"{where}: {what} have {channels} channels; expected 1 (grey) or 3 (RGB) in the "
                f"last axis, shape (N, H, W, C){hint}"
            )
    else:
        raise DataError(
            f"{where}: {what} must have shape (N, H, W) or (N, H, W, C), not {tuple(shape)}"
        )
    n, height, width, _ = array.shape
    if n == 0:
        raise DataError(f"{where}: holds no images ({what} has shape {tuple(shape)})")
    if height == 0 or width == 0:
        raise DataError(f"{where}: {what} have zero size ({tuple(shape)})")
    return array


def composite_alpha(array: np.ndarray) -> np.ndarray:
    """(…, C+1) uint8 with a last alpha channel -> (…, C) composited onto black, rounded.

    Works in blocks along the first axis so the uint16 temporaries stay small for big inputs.
    """
    out = np.empty(array.shape[:-1] + (array.shape[-1] - 1,), dtype=np.uint8)
    per_row = max(1, array[:1].size * 2)
    step = max(1, (16 * 2**20) // per_row)
    for start in range(0, len(array), step):
        block = array[start:start + step]
        colour = block[..., :-1].astype(np.uint16)
        colour *= block[..., -1:]
        colour += 127
        colour //= 255
        out[start:start + step] = colour
    return out


def label_array(
    array: np.ndarray, where: str, count: int, num_classes: int | None = None, what: str = "labels"
) -> np.ndarray:
    """Validate class labels for ``count`` images; return them as int64 (N,)."""
    if array.dtype.kind not in "iu":
        raise DataError(f"{where}: {what} must be integers, not {array.dtype}")
    if array.ndim == 2 and array.shape[1] == 1:  # (N, 1) columns, as Keras and MATLAB write them
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(f"{where}: {what} must have shape (N,), not {tuple(array.shape)}")
    if len(array) != count:
        raise DataError(f"{where}: {len(array)} {what} for {count} images; the counts must match")
    limit = num_classes if num_classes else MAX_CLASSES
    if count:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= limit:
            raise DataError(
                f"{where}: {what} out of range: found {low}..{high}, expected class indices "
                f"0..{limit - 1}"
            )
    return array.astype(np.int64, copy=False)


def check_image_size(image_size: int | None) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)):
        raise DataError(f"image size must be a whole number of pixels, not {image_size!r}")
    if not 1 <= image_size <= MAX_IMAGE_SIZE:
        raise DataError(f"image size must be between 1 and {MAX_IMAGE_SIZE} pixels, not {image_size}")
    return int(image_size), int(image_size)


def common_size(sizes: Counter[tuple[int, int]]) -> tuple[int, int]:
    """The (H, W) most images have; ties go to the larger area, then the taller."""
    return max(sizes, key=lambda hw: (sizes[hw], hw[0] * hw[1], hw[0]))


def unify(
    sets: list[np.ndarray], where: str, image_size: int | None, notes: list[str]
) -> list[np.ndarray]:
    """Give all image arrays one channel count and one size, by the rule in the module docstring."""
    target = check_image_size(image_size)
    if target is None:
        sizes: Counter[tuple[int, int]] = Counter()
        for images in sets:
            sizes[images.shape[1:3]] += len(images)
        target = common_size(sizes)
    channels = max(images.shape[3] for images in sets)
    total = sum(len(images) for images in sets)
    check_budget(where, total * target[0] * target[1] * channels, f"{total} images")
    out = []
    resized = expanded = 0
    old_sizes: list[str] = []
    for images in sets:
        if images.shape[1:3] != target:
            resized += len(images)
            old_sizes.append("{}x{}".format(*images.shape[1:3]))
            images = resize_images(images, *target)
        if images.shape[3] != channels:
            expanded += len(images)
            images = np.repeat(images, channels, axis=3)
        out.append(images)
    if resized:
        notes.append(
            f"{resized} images resized from {', '.join(sorted(set(old_sizes)))} to "
            f"{target[0]}x{target[1]} "
            "(centre crop to the aspect ratio, antialiased bilinear)"
        )
    if expanded:
        notes.append(f"grey images repeated to 3 channels to match the RGB images: {expanded}")
    return out


def freeze(*arrays: np.ndarray | None) -> None:
    """Make arrays read-only: datasets are shared (and cached) between users, never edited."""
    for array in arrays:
        if array is not None:
            array.flags.writeable = False
