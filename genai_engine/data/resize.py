"""The one resizing rule of the data readers: centre-crop to the target's aspect ratio, then
antialiased bilinear resampling (Pillow's ``Image.resize(..., BILINEAR, box=crop)``).

Image folders resize each file with Pillow as it is decoded. Arrays already in memory (IDX,
``.npz``, the built-in data) are resized here in whole batches with the same filter written as two
small matrices (columns, then rows), so no per-image Python work runs; the result matches Pillow
exactly for most pixels and otherwise by one grey level (rarely two: Pillow rounds its weights to
fixed point).
"""

from __future__ import annotations

import numpy as np

# Float32 working memory per resize step; bounds the temporary arrays, not the result.
_STEP_BYTES = 8 * 2**20


def crop_box(height: int, width: int, target_h: int, target_w: int) -> tuple[int, int, int, int]:
    """(top, left, crop_h, crop_w): the centred region of the source with the target's aspect."""
    if height * target_w > width * target_h:  # source is taller: trim top and bottom
        crop_h = max(1, min(height, round(width * target_h / target_w)))
        crop_w = width
    else:  # source is wider (or the same): trim the sides
        crop_h = height
        crop_w = max(1, min(width, round(height * target_w / target_h)))
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def pillow_box(height: int, width: int, target_h: int, target_w: int) -> tuple[int, int, int, int]:
    """The same crop as ``crop_box`` in Pillow's (left, upper, right, lower) form."""
    top, left, crop_h, crop_w = crop_box(height, width, target_h, target_w)
    return left, top, left + crop_w, top + crop_h


def bilinear_matrix(in_size: int, out_size: int, start: int = 0, length: int | None = None):
    """(out_size, in_size) weights of Pillow's bilinear filter, widened when shrinking (antialias).

    The output spans source pixels ``start .. start+length``; like Pillow, the filter may also
    reach just outside that span (but never outside the image).
    """
    length = in_size if length is None else length
    scale = length / out_size
    support = max(scale, 1.0)
    centres = start + (np.arange(out_size, dtype=np.float64) + 0.5) * scale
    offsets = (np.arange(in_size, dtype=np.float64) + 0.5)[None, :] - centres[:, None]
    weights = np.clip(1.0 - np.abs(offsets) / support, 0.0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.astype(np.float32)


def resize_images(images: np.ndarray, target_h: int, target_w: int) -> np.ndarray:
    """Resize uint8 (N, H, W, C) images to (N, target_h, target_w, C) by the module's rule."""
    n, height, width, channels = images.shape
    if (height, width) == (target_h, target_w):
        return images
    top, left, crop_h, crop_w = crop_box(height, width, target_h, target_w)
    rows = bilinear_matrix(height, target_h, top, crop_h)  # (th, H)
    cols_t = bilinear_matrix(width, target_w, left, crop_w).T  # (W, tw)
    out = np.empty((n, target_h, target_w, channels), dtype=np.uint8)
    per_image = 4 * channels * height * max(width, target_w)
    step = max(1, _STEP_BYTES // per_image)
    for start in range(0, n, step):
        block = images[start:start + step]
        m = len(block)
        # Two plain 2-D matrix products (one BLAS call each) rather than many tiny batched ones.
        # Pillow works horizontally first and rounds to 8 bits in between; so do we.
        x = block.transpose(0, 1, 3, 2).reshape(-1, width).astype(np.float32)  # (m*H*C, W)
        x = _round_to_bytes(x @ cols_t)  # (m*H*C, tw)
        x = x.reshape(m, height, channels, target_w).transpose(0, 2, 3, 1).reshape(-1, height)
        x = _round_to_bytes(x @ rows.T)  # (m*C*tw, th)
        out[start:start + m] = x.reshape(m, channels, target_w, target_h).transpose(0, 3, 2, 1)
    return out


def _round_to_bytes(x: np.ndarray) -> np.ndarray:
    # Halves round up, as Pillow's fixed-point code does (np.rint would round them to even).
    x += 0.5
    np.floor(x, out=x)
    return np.clip(x, 0, 255, out=x)
