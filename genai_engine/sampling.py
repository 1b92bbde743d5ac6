"""Sample images from a checkpoint and lay images out as grids (PNG or .npz output)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genai_engine.checkpoints import Checkpoint
from genai_engine.errors import GenAIError
from genai_engine.files import atomic_write


def require_images(model) -> None:
    """Refuse a snapshot that draws no images (a character model), in one sentence."""
    from genai_engine.families.base import TextGenerator

    if isinstance(model, TextGenerator):
        raise GenAIError("a character model writes text, not images; use genai-lab generate")


def sample_model(model, n: int, seed: int = 0, batch_size: int = 1000) -> np.ndarray:
    """n samples of a snapshot of any family (a ``GenerativeModel``) as uint8 (N, H, W, C);
    class labels cycle 0, 1, ... for a conditional model."""
    require_images(model)
    if n < 1:
        raise GenAIError(f"the number of samples must be at least 1, got {n}")
    labels = np.arange(n) % model.config.num_classes if model.conditional else None
    return model.sample(n, seed, labels=labels, batch_size=batch_size)


def sample_images(checkpoint: Checkpoint, n: int, seed: int = 0, device: str = "auto",
                  batch_size: int = 1000) -> np.ndarray:
    """``sample_model`` on the checkpoint's weights."""
    return sample_model(checkpoint.snapshot(device), n, seed, batch_size)


GRID_PADDING = 2  # pixels around each tile of ``image_grid``


def image_grid(images: np.ndarray, columns: int | None = None, padding: int = GRID_PADDING,
               background: int = 255) -> np.ndarray:
    """uint8 (N, H, W, C) -> one uint8 (rows*H', cols*W', C) image with padding between tiles."""
    n, h, w, c = images.shape
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / columns))
    grid = np.full((rows * (h + padding) + padding, columns * (w + padding) + padding, c),
                   background, np.uint8)
    for i in range(n):
        r, col = divmod(i, columns)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y:y + h, x:x + w] = images[i]
    return grid


def save_image(image: np.ndarray, path: str | Path, scale: int = 1) -> Path:
    """Save uint8 (H, W, C) as PNG (or any format Pillow knows by the extension)."""
    from PIL import Image

    path = Path(path)
    file_format = Image.registered_extensions().get(path.suffix.lower())
    if file_format is None:
        raise GenAIError(f"{path}: unknown image type {path.suffix or '(none)'}; use .png")
    array = image[..., 0] if image.shape[-1] == 1 else image
    picture = Image.fromarray(np.ascontiguousarray(array))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    return atomic_write(path, lambda handle: picture.save(handle, format=file_format))


def save_samples(images: np.ndarray, path: str | Path, columns: int | None = None) -> Path:
    """Write samples as a PNG grid (``.png``) or the raw array (``.npz``, key ``images``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return atomic_write(path, lambda handle: np.savez_compressed(handle, images=images))
    if suffix in (".png", ".jpg", ".jpeg", ".bmp"):
        return save_image(image_grid(images, columns), path)
    raise GenAIError(f"{path}: unknown output type {suffix or '(none)'}; use .png or .npz")
