"""MNIST-family IDX files, plain or gzip-compressed (detected by content, not by name).

Format: two zero bytes, a type byte (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), a byte with the number of dimensions, one big-endian
uint32 per dimension, then the values, big-endian, row-major. Images are unsigned bytes with 3
dimensions (N, H, W) or 4 (N, H, W, C); labels are integers with 1 dimension (N,).

Both headers of an images/labels pair are checked (magic, type, counts, size against the file and
the data budget) before any pixel is read; pixels are then read in chunks and viewed with
``np.frombuffer``, no per-image work.
"""

from __future__ import annotations

import re
import struct
from contextlib import ExitStack
from math import prod
from pathlib import Path

import numpy as np

from genai_engine.data.arrays import image_array, label_array
from genai_engine.data.bounded_io import DataStream, open_data
from genai_engine.data.limits import check_budget
from genai_engine.errors import DataError

_TYPES = {
    0x08: (">u1", "unsigned byte"),
    0x09: (">i1", "signed byte"),
    0x0B: (">i2", "int16"),
    0x0C: (">i4", "int32"),
    0x0D: (">f4", "float32"),
    0x0E: (">f8", "float64"),
}
_GZ = re.compile(r"\.gz$", re.IGNORECASE)


class IdxReader:
    """One open IDX file whose header has been read and checked against its role."""

    def __init__(self, stream: DataStream, role: str) -> None:
        self.stream = stream
        self.path = stream.where
        self.role = role
        magic = stream.read_exact(4, "the IDX header")
        if magic[0] != 0 or magic[1] != 0 or magic[2] not in _TYPES or not 1 <= magic[3] <= 4:
            raise DataError(
                f"{self.path}: not an IDX file (first bytes {bytes(magic).hex()}, expected "
                "0000 08 01 for labels or 0000 08 03 for images)"
            )
        dtype, type_name = _TYPES[magic[2]]
        ndim = magic[3]
        self.shape = struct.unpack(f">{ndim}I", bytes(stream.read_exact(4 * ndim, "the IDX header")))
        self.dtype = np.dtype(dtype)
        self.offset = 4 + 4 * ndim
        if role == "images":
            if ndim == 1:
                raise DataError(f"{self.path}: is an IDX labels file (1 dimension); give the images file")
            if ndim not in (3, 4):
                raise DataError(f"{self.path}: IDX images need 3 dimensions (N, H, W), not {ndim}")
            if magic[2] != 0x08:
                raise DataError(
                    f"{self.path}: IDX images must be unsigned bytes (type 0x08), not {type_name}"
                )
        else:
            if ndim != 1:
                raise DataError(f"{self.path}: IDX labels need 1 dimension (N,), not {ndim}")
            if self.dtype.kind not in "iu":
                raise DataError(f"{self.path}: IDX labels must be integers, not {type_name}")
        if self.shape[0] == 0:
            raise DataError(f"{self.path}: holds no {role} (the header says 0)")
        self.payload = prod(self.shape) * self.dtype.itemsize
        what = f"{self.shape[0]} {role} of shape {self.shape[1:]}" if role == "images" else (
            f"{self.shape[0]} labels"
        )
        self.what = what
        check_budget(self.path, self.payload, what)
        stream.check_claim(self.offset, self.payload, what)

    @property
    def count(self) -> int:
        return self.shape[0]

    def read(self) -> np.ndarray:
        buffer = self.stream.read_exact(self.payload, self.what)
        self.stream.expect_end(self.what)
        array = np.frombuffer(buffer, dtype=self.dtype).reshape(self.shape)
        if self.dtype.itemsize > 1:
            array = array.astype(self.dtype.newbyteorder("="))
        return array


def read_idx_pair(
    images_path: Path, labels_path: Path | None, notes: list[str], num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Images (N, H, W, C) and labels (N,) or None; both headers are checked before reading."""
    with ExitStack() as stack:
        images = IdxReader(stack.enter_context(open_data(images_path)), "images")
        labels = None
        if labels_path is not None:
            labels = IdxReader(stack.enter_context(open_data(labels_path)), "labels")
            if labels.count != images.count:
                raise DataError(
                    f"{labels_path}: holds {labels.count} labels but {images_path.name} holds "
                    f"{images.count} images; the counts must match"
                )
        # Labels first: they are small, and a bad one should not cost reading all the pixels.
        classes = None
        if labels is not None:
            classes = label_array(labels.read(), str(labels_path), images.count, num_classes)
        return image_array(images.read(), str(images_path), notes), classes


def read_idx_images(path: Path, notes: list[str]) -> np.ndarray:
    with open_data(path) as stream:
        return image_array(IdxReader(stream, "images").read(), str(path), notes)


def _role(name: str) -> str | None:
    name = _GZ.sub("", name.lower())
    if "idx" not in name and not name.endswith("ubyte"):
        return None
    if "labels" in name or "idx1" in name:
        return "labels"
    if "images" in name or "idx3" in name or "idx4" in name:
        return "images"
    return None


def _split(name: str) -> str:
    name = name.lower()
    return "test" if "t10k" in name or "test" in name else "train"


def is_idx_file(path: Path) -> bool:
    return _role(path.name) is not None


def labels_for(images_path: Path) -> Path | None:
    """The labels file that goes with an images file by the MNIST naming pattern, if present.

    ``train-images-idx3-ubyte[.gz]`` pairs with ``train-labels-idx1-ubyte[.gz]`` (either
    compression); the dotted variant ``train-images.idx3-ubyte`` works the same way.
    """
    base = _GZ.sub("", images_path.name)
    candidate = re.sub("images", "labels", base, flags=re.IGNORECASE)
    candidate = re.sub("idx[34]", "idx1", candidate, flags=re.IGNORECASE)
    if candidate == base:
        return None
    for name in (candidate, candidate + ".gz"):
        path = images_path.with_name(name)
        if path.is_file():
            return path
    return None


def test_files_for(images_path: Path) -> dict[str, Path] | None:
    """{'images': path, 'labels'?: path} of the standard test split beside a training images
    file (``train-images…`` -> ``t10k-images…`` or ``test-images…``), or None.

    Only when its labels match the training file's (both present or both absent): a pick of
    ``train-images-idx3-ubyte.gz`` then gives MNIST's 60,000 + 10,000 split, not a hold-out.
    """
    base = _GZ.sub("", images_path.name)
    if _role(base) != "images" or _split(base) != "train" or "train" not in base.lower():
        return None
    for test_word in ("t10k", "test"):
        candidate = re.sub("train", test_word, base, flags=re.IGNORECASE)
        for name in (candidate, candidate + ".gz"):
            test_images = images_path.with_name(name)
            if not test_images.is_file():
                continue
            test_labels = labels_for(test_images)
            if (test_labels is None) != (labels_for(images_path) is None):
                return None
            return {"images": test_images} | ({"labels": test_labels} if test_labels else {})
    return None


def find_idx_files(folder: Path, entries: list[Path]) -> dict[str, dict[str, Path]] | None:
    """{'train'|'test': {'images'|'labels': path}} for the IDX files in a folder, or None.

    Splits come from the names (``t10k``/``test`` versus ``train``); where a file exists both
    plain and gzipped, the plain one is read (it is the same data, faster).
    """
    slots: dict[tuple[str, str], dict[str, Path]] = {}
    for path in entries:
        role = _role(path.name)
        if role is None or not path.is_file():
            continue
        stem = _GZ.sub("", path.name)
        same = slots.setdefault((_split(path.name), role), {})
        if stem not in same or not path.name.lower().endswith(".gz"):
            same[stem] = path
    if not slots:
        return None
    found: dict[str, dict[str, Path]] = {}
    for (split, role), stems in sorted(slots.items()):
        if len(stems) > 1:
            names = ", ".join(sorted(p.name for p in stems.values()))
            raise DataError(
                f"{folder}: holds several IDX {split} {role} files ({names}); keep one dataset per "
                "folder, or give the images file itself"
            )
        found.setdefault(split, {})[role] = next(iter(stems.values()))
    if "images" not in found.get("train", {}):
        raise DataError(
            f"{folder}: has IDX files but no training images file (e.g. train-images-idx3-ubyte.gz)"
        )
    if "test" in found and "images" not in found["test"]:
        raise DataError(f"{folder}: has an IDX test labels file but no test images file")
    if "test" in found and ("labels" in found["train"]) != ("labels" in found["test"]):
        have, lack = ("train", "test") if "labels" in found["train"] else ("test", "train")
        raise DataError(
            f"{folder}: has IDX {have} labels but no {lack} labels; add the missing labels file "
            "or remove the other"
        )
    return found
