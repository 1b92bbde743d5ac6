"""The in-memory dataset every part of the engine works on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


class DataWarning(UserWarning):
    """The data was readable but was changed to fit (resized, channels converted): see the text."""


@dataclass
class ImageSet:
    """One split: ``images`` uint8 (N, H, W, C) with C = 1 or 3; ``labels`` int64 (N,) or None."""

    images: np.ndarray
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        images = self.images
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
            raise ValueError(f"images must be uint8 (N, H, W, 1|3), got {images.dtype} {images.shape}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError("labels and images differ in length")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W), the layout models use."""
        _, h, w, c = self.images.shape
        return (c, h, w)


@dataclass
class Dataset:
    """A named dataset with a train and a test split and a content fingerprint."""

    name: str
    train: ImageSet
    test: ImageSet
    class_names: list[str] | None = None
    source: str = ""
    fingerprint: str = field(default="")
    # What the reader changed to make the data uniform (resized, converted); shown by the CLI/app.
    notes: list[str] = field(default_factory=list)
    # A text corpus (``data/text.py``): its characters in id order, the "images" being windows of
    # character ids, (N, 1, L, 1). None for images.
    vocabulary: str | None = None

    def __post_init__(self) -> None:
        if self.train.image_shape != self.test.image_shape:
            raise ValueError("train and test images differ in shape")
        if not self.fingerprint:
            # images keep the fingerprint they had before text existed (checkpoints record it)
            text = [] if self.vocabulary is None else [np.frombuffer(self.vocabulary.encode(), np.uint8)]
            self.fingerprint = fingerprint_arrays(
                self.train.images, self.train.labels, self.test.images, self.test.labels, *text
            )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.train.image_shape

    @property
    def num_classes(self) -> int:
        if self.class_names:
            return len(self.class_names)
        if self.train.labels is None:
            return 0
        return int(self.train.labels.max()) + 1

    def split(self, name: str) -> ImageSet:
        if name not in ("train", "test"):
            raise ValueError(f"unknown split {name!r}")
        return self.train if name == "train" else self.test


def fingerprint_arrays(*arrays: np.ndarray | None) -> str:
    """sha256 over shapes and bytes: identical data gives the same 16-hex-digit fingerprint."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()[:16]
