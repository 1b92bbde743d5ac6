"""Datasets shipped inside ``resources/datasets/`` so the app works offline with nothing installed,
and text corpora that ship with Python itself (``BUILTIN_CORPORA``, see ``text.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from genai_engine.data.text import python_docs_text
from genai_engine.resources import resources_dir


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    folder: str  # under resources/datasets/, holding the four standard IDX files
    class_names: tuple[str, ...]
    description: str
    licence: str  # the licence file inside ``folder``

    @property
    def path(self) -> Path:
        return resources_dir() / "datasets" / self.folder

    def available(self) -> bool:
        """Whether the files are present (a trimmed bundle may lack them)."""
        return self.path.is_dir() and any(self.path.glob("train-images-idx3-ubyte*"))


BUILTIN_DATASETS: dict[str, BuiltinDataset] = {
    "fashion-mnist": BuiltinDataset(
        name="fashion-mnist",
        folder="fashion-mnist",
        class_names=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        description="Fashion-MNIST (Zalando, MIT licence): 60,000 train + 10,000 test "
        "28x28 grey images of clothing, 10 classes",
        licence="LICENSE",
    ),
}


@dataclass(frozen=True)
class BuiltinCorpus:
    """A text corpus that needs no file: ``text()`` gives it (``text.text_dataset`` cuts it)."""

    name: str
    text: Callable[[], str]
    description: str
    licence: str


BUILTIN_CORPORA: dict[str, BuiltinCorpus] = {
    "python-docs": BuiltinCorpus(
        name="python-docs",
        text=python_docs_text,
        description="Python's help() topics from the standard library's pydoc_data (about 465,000 "
        "characters of English and code): a text corpus for the character model",
        licence="PSF licence: ships with every Python",
    ),
}


def builtin_dataset_names() -> list[str]:
    """Every built-in name: the image datasets, then the text corpora."""
    return [*BUILTIN_DATASETS, *BUILTIN_CORPORA]


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "")


def find_builtin(spec: str) -> BuiltinDataset | None:
    """The built-in dataset ``spec`` names (case, ``-`` and ``_`` ignored), or None."""
    key = _key(spec)
    for dataset in BUILTIN_DATASETS.values():
        if _key(dataset.name) == key:
            return dataset
    return None


def find_corpus(spec: str) -> BuiltinCorpus | None:
    """The built-in text corpus ``spec`` names (as ``find_builtin``), or None."""
    key = _key(spec)
    return next((corpus for corpus in BUILTIN_CORPORA.values() if _key(corpus.name) == key), None)
