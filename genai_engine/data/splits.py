"""The held-out test split for sources that have none.

Rule: 10 % of the images (rounded, at least 1) become the test split. Which ones is decided by a
fixed integer hash of each image's position (SplitMix64), so the split is the same on every run,
machine and NumPy version for the same number of images, does not follow any periodic order in
the file (e.g. classes interleaved every 10 images), and keeps the original order within each split.
"""

from __future__ import annotations

import numpy as np

from genai_engine.data.dataset import ImageSet
from genai_engine.errors import DataError

HOLDOUT_FRACTION = 0.1


def _splitmix64(values: np.ndarray) -> np.ndarray:
    z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)  # uint64 arithmetic wraps
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def holdout_count(n: int) -> int:
    return max(1, round(n * HOLDOUT_FRACTION))


def holdout_indices(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_indices, test_indices), both sorted, partitioning range(n); n must be >= 2."""
    order = np.argsort(_splitmix64(np.arange(n)), kind="stable")
    test = np.sort(order[: holdout_count(n)])
    mask = np.ones(n, dtype=bool)
    mask[test] = False
    return np.flatnonzero(mask), test


def hold_out(images: np.ndarray, labels: np.ndarray | None, where: str) -> tuple[ImageSet, ImageSet]:
    """Split one set into train and test by the module's rule."""
    if len(images) < 2:
        raise DataError(
            f"{where}: holds {len(images)} image; at least 2 are needed to hold one out for testing"
        )
    train, test = holdout_indices(len(images))
    return (
        ImageSet(images[train], None if labels is None else labels[train]),
        ImageSet(images[test], None if labels is None else labels[test]),
    )
