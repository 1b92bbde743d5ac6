"""``load_dataset`` and ``read_image_set``: one entry point for every kind of image data (and text).

A spec is a built-in name (``fashion-mnist``; names win over a same-named relative path, write
``./fashion-mnist`` for the folder) or a path to:

- a folder with MNIST-family IDX files (``train-images-idx3-ubyte[.gz]``, ``train-labels-...``,
  ``t10k-images-...``, ``t10k-labels-...``): see ``idx.py``;
- one IDX images file; its labels are found by the naming pattern (``images`` -> ``labels``,
  ``idx3`` -> ``idx1``), and are optional; a training file beside its ``t10k-``/``test-`` file
  gets that standard test split (``idx.test_files_for``), not a hold-out;
- a folder of PNG/JPEG images, flat, per class, and/or split in ``train/`` and ``test/``: see
  ``image_folder.py``;
- an ``.npz`` with ``images`` (and optional ``labels``, ``test_images``, ``test_labels``,
  ``class_names``): see ``npz.py``;
- a text corpus, a UTF-8 ``.txt`` file or the built-in ``python-docs``: windows of ``context``
  character ids and the corpus's ``vocabulary``, for a character model; see ``text.py``.

Every dataset has a test split: a source without one gets 10 % held out (``splits.py``).
Sizes and channels are made uniform by one rule (``arrays.py``): ``image_size`` square if given,
else the most common size; grey is repeated to RGB only when other images are colour. What was
changed is listed in ``Dataset.notes`` and issued as a ``DataWarning``.

Returned arrays are read-only: built-in datasets are cached in-process and shared (a second
``load_dataset('fashion-mnist')`` returns the same object at once), so nobody may edit them in
place. ``Dataset.source`` is a spec that loads the same data again.

Every failure is a single ``DataError`` naming the file and the problem.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import numpy as np

from genai_engine.data.arrays import freeze, image_array, label_array, unify
from genai_engine.data.bounded_io import open_data
from genai_engine.data.builtin import (
    BUILTIN_DATASETS,
    BuiltinCorpus,
    BuiltinDataset,
    builtin_dataset_names,
    find_builtin,
    find_corpus,
)
from genai_engine.data.dataset import Dataset, DataWarning, ImageSet
from genai_engine.data.idx import (
    find_idx_files,
    is_idx_file,
    labels_for,
    read_idx_pair,
    test_files_for,
)
from genai_engine.data.image_folder import (
    IMAGE_EXTENSIONS,
    list_folder,
    read_image_files,
    scan_folder,
)
from genai_engine.data.limits import MAX_CLASSES
from genai_engine.data.npz import read_npz
from genai_engine.data.splits import hold_out
from genai_engine.data.text import DEFAULT_CONTEXT, is_text_file, load_text, text_dataset
from genai_engine.errors import DataError

__all__ = [
    "BUILTIN_DATASETS",
    "builtin_dataset_names",
    "clear_cache",
    "load_dataset",
    "read_image_set",
]

_cache: dict[tuple[str, int | None], Dataset] = {}  # (name, image size or context)
_cache_lock = threading.Lock()  # the app may ask from several worker threads at once


def load_dataset(spec: str | os.PathLike, image_size: int | None = None,
                 context: int | None = None) -> Dataset:
    """The dataset ``spec`` names, with train and test splits, as uint8 (N, H, W, C) arrays.
    ``context`` is a text corpus's window in characters (default 64, ``text.DEFAULT_CONTEXT``;
    images ignore it)."""
    builtin = _builtin(spec)
    if isinstance(builtin, BuiltinCorpus):
        _no_image_size(builtin.name, image_size)
        return _load_corpus(builtin, context or DEFAULT_CONTEXT)
    if builtin is not None:
        return _load_builtin(builtin, image_size)
    path = _existing(spec)
    notes: list[str] = []
    if path.is_file() and is_text_file(path):
        _no_image_size(path, image_size)
        return _finish(load_text(path, context or DEFAULT_CONTEXT))
    if path.is_dir():
        found = find_idx_files(path, list_folder(path)[0])
        if found is not None:
            dataset = _idx_folder(path, found, image_size, notes)
        else:
            dataset = _image_folder(path, image_size, notes)
    else:
        kind = _file_kind(path)
        if kind == "npz":
            dataset = _npz(path, image_size, notes)
        elif (test_files := test_files_for(path)) is not None:
            train_labels = labels_for(path)
            train_files = {"images": path} | ({"labels": train_labels} if train_labels else {})
            dataset = _idx_folder(path.parent, {"train": train_files, "test": test_files}, image_size, notes)
            dataset.source = str(path.resolve())
        else:
            images, labels = read_idx_pair(path, labels_for(path), notes)
            (images,) = unify([images], str(path), image_size, notes)
            train, test = hold_out(images, labels, str(path))
            dataset = _dataset(path.parent.name or path.stem, train, test, None, path, notes)
    return _finish(dataset)


def read_image_set(spec: str | os.PathLike, image_size: int | None = None) -> ImageSet:
    """One set of images, e.g. generated samples for FID.

    An image folder (all its images; with ``train/``/``test/`` the test split), an ``.npz`` (its
    ``images``), one IDX images file, an IDX folder (its test split, else its train split), or a
    built-in name (its test split).
    """
    builtin = _builtin(spec)
    if isinstance(builtin, BuiltinCorpus):
        raise DataError(f"{builtin.name}: is a text corpus, not a set of images")
    if builtin is not None:
        return _load_builtin(builtin, image_size).test
    path = _existing(spec)
    if path.is_file() and is_text_file(path):
        raise DataError(f"{path}: is a text file, not a set of images")
    notes: list[str] = []
    if path.is_dir():
        found = find_idx_files(path, list_folder(path)[0])
        if found is not None:
            pair = found.get("test", found["train"])
            images, labels = read_idx_pair(pair["images"], pair.get("labels"), notes)
        else:
            train, test = scan_folder(path)
            files = test or train
            (images,) = read_image_files([files], image_size, notes)
            labels = None if files.labels is None else np.asarray(files.labels, dtype=np.int64)
    elif _file_kind(path) == "npz":
        arrays = read_npz(path)
        images = image_array(arrays["images"], f"{path} [images]", notes)
        labels = arrays.get("labels")
        if labels is not None:
            labels = label_array(labels, f"{path} [labels]", len(images))
    else:
        images, labels = read_idx_pair(path, labels_for(path), notes)
    (images,) = unify([images], str(path), image_size, notes)
    _warn(path, notes)
    freeze(images, labels)
    return ImageSet(images, labels)


def clear_cache() -> None:
    """Forget cached built-in datasets (tests; freeing memory)."""
    with _cache_lock:
        _cache.clear()


def _builtin(spec: str | os.PathLike) -> BuiltinDataset | BuiltinCorpus | None:
    if isinstance(spec, str) and "/" not in spec and os.sep not in spec:
        return find_builtin(spec) or find_corpus(spec)
    return None


def _no_image_size(source: object, image_size: int | None) -> None:
    if image_size is not None:
        raise DataError(f"{source}: is a text corpus, which has no image size; leave --image-size out")


def _existing(spec: str | os.PathLike) -> Path:
    try:
        path = Path(spec).expanduser()
    except TypeError:
        raise DataError(f"a dataset is a name or a path, not {spec!r}") from None
    if not str(spec).strip():
        raise DataError("no dataset given (a built-in name such as fashion-mnist, or a path)")
    if not path.exists():
        names = ", ".join(builtin_dataset_names())
        raise DataError(f"{spec}: no such file or folder, and not a built-in dataset ({names})")
    return path


def _file_kind(path: Path) -> str:
    """'npz' or 'idx' from the name, else from the first bytes; anything else is refused."""
    name = path.name.lower()
    if name.endswith(".npz"):
        return "npz"
    if is_idx_file(path):
        return "idx"
    if os.path.splitext(name)[1] in IMAGE_EXTENSIONS:
        raise DataError(f"{path}: is a single image; give the folder that holds the images")
    with open_data(path) as stream:
        head = bytes(stream.read_exact(4, "the first bytes")) if stream.size >= 4 else b""
    if head[:2] == b"PK":
        return "npz"
    if len(head) == 4 and head[:3] == b"\x00\x00\x08" and head[3] in (3, 4):
        return "idx"
    raise DataError(
        f"{path}: unsupported file; expected an .npz, an IDX images file (…-images-idx3-ubyte"
        "[.gz]), a folder of IDX files or PNG/JPEG images, or a UTF-8 .txt text"
    )


def _load_builtin(builtin: BuiltinDataset, image_size: int | None) -> Dataset:
    key = (builtin.name, image_size)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        if image_size is not None:
            # Resize the cached native-size copy rather than read and decompress the files again.
            base = _cache.get((builtin.name, None)) or _read_builtin(builtin)
            _cache[(builtin.name, None)] = base
            notes = list(base.notes)
            train, test = unify([base.train.images, base.test.images], builtin.name, image_size, notes)
            dataset = _finish(_dataset(
                builtin.name, ImageSet(train, base.train.labels), ImageSet(test, base.test.labels),
                base.class_names, builtin.name, notes,
            ))
        else:
            dataset = _read_builtin(builtin)
        _cache[key] = dataset
        return dataset


def _load_corpus(corpus: BuiltinCorpus, context: int) -> Dataset:
    key = (corpus.name, context)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _finish(text_dataset(corpus.name, corpus.text(), corpus.name, context))
        return _cache[key]


def _read_builtin(builtin: BuiltinDataset) -> Dataset:
    if not builtin.available():
        raise DataError(
            f"{builtin.path}: the built-in dataset {builtin.name!r} is missing from this "
            "installation; reinstall GenAI Lab or give a dataset path"
        )
    found = find_idx_files(builtin.path, list_folder(builtin.path)[0])
    notes: list[str] = []
    dataset = _idx_folder(builtin.path, found, None, notes, list(builtin.class_names))
    dataset.name = builtin.name
    dataset.source = builtin.name
    return _finish(dataset)


def _idx_folder(
    folder: Path,
    found: dict[str, dict[str, Path]],
    image_size: int | None,
    notes: list[str],
    class_names: list[str] | None = None,
) -> Dataset:
    classes = len(class_names) if class_names else None
    train_images, train_labels = read_idx_pair(
        found["train"]["images"], found["train"].get("labels"), notes, classes
    )
    if "test" in found:
        test_images, test_labels = read_idx_pair(
            found["test"]["images"], found["test"].get("labels"), notes, classes
        )
        train_images, test_images = unify([train_images, test_images], str(folder), image_size, notes)
        train, test = ImageSet(train_images, train_labels), ImageSet(test_images, test_labels)
    else:
        (train_images,) = unify([train_images], str(folder), image_size, notes)
        train, test = hold_out(train_images, train_labels, str(folder))
    return _dataset(folder.name, train, test, class_names, folder, notes)


def _image_folder(folder: Path, image_size: int | None, notes: list[str]) -> Dataset:
    train_files, test_files = scan_folder(folder)
    sets = [train_files] if test_files is None else [train_files, test_files]
    arrays = read_image_files(sets, image_size, notes)
    labels = [None if s.labels is None else np.asarray(s.labels, dtype=np.int64) for s in sets]
    if test_files is None:
        train, test = hold_out(arrays[0], labels[0], str(folder))
    else:
        train, test = ImageSet(arrays[0], labels[0]), ImageSet(arrays[1], labels[1])
    return _dataset(folder.name, train, test, train_files.class_names, folder, notes)


def _npz(path: Path, image_size: int | None, notes: list[str]) -> Dataset:
    arrays = read_npz(path)
    where = str(path)
    class_names = None
    if "class_names" in arrays:
        names = arrays["class_names"]
        if names.dtype.kind != "U" or names.ndim != 1 or not 1 <= len(names) <= MAX_CLASSES:
            raise DataError(f"{where} [class_names]: must be a 1-D array of 1..{MAX_CLASSES} strings")
        class_names = [str(name) for name in names]
    classes = len(class_names) if class_names else None
    for key, partner in (("test_labels", "test_images"), ("test_labels", "labels")):
        if key in arrays and partner not in arrays:
            raise DataError(f"{where}: has '{key}' but no '{partner}'")
    if "labels" in arrays and "test_images" in arrays and "test_labels" not in arrays:
        raise DataError(f"{where}: has 'labels' and 'test_images' but no 'test_labels'")

    def split(images_key: str, labels_key: str) -> tuple[np.ndarray, np.ndarray | None]:
        images = image_array(arrays[images_key], f"{where} [{images_key}]", notes, images_key)
        labels = arrays.get(labels_key)
        if labels is not None:
            labels = label_array(labels, f"{where} [{labels_key}]", len(images), classes, labels_key)
        return images, labels

    train_images, train_labels = split("images", "labels")
    if "test_images" in arrays:
        test_images, test_labels = split("test_images", "test_labels")
        train_images, test_images = unify([train_images, test_images], where, image_size, notes)
        train, test = ImageSet(train_images, train_labels), ImageSet(test_images, test_labels)
    else:
        (train_images,) = unify([train_images], where, image_size, notes)
        train, test = hold_out(train_images, train_labels, where)
    return _dataset(path.stem, train, test, class_names, path, notes)


def _dataset(
    name: str,
    train: ImageSet,
    test: ImageSet,
    class_names: list[str] | None,
    source: Path | str,
    notes: list[str],
) -> Dataset:
    if isinstance(source, Path):
        source = str(source.resolve())
    return Dataset(name, train, test, class_names, source, notes=notes)


def _finish(dataset: Dataset) -> Dataset:
    _warn(dataset.source, dataset.notes)
    freeze(dataset.train.images, dataset.train.labels, dataset.test.images, dataset.test.labels)
    return dataset


def _warn(source: object, notes: list[str]) -> None:
    for note in notes:
        warnings.warn(f"{source}: {note}", DataWarning, stacklevel=3)
