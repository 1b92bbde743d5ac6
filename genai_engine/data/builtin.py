"""Datasets shipped inside ``resources/datasets/`` so the app works offline with nothing installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def builtin_dataset_names() -> list[str]:
    return list(BUILTIN_DATASETS)


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "")


def find_builtin(spec: str) -> BuiltinDataset | None:
    """The built-in dataset ``spec`` names (case, ``-`` and ``_`` ignored), or None."""
    key = _key(spec)
    for dataset in BUILTIN_DATASETS.values():
        if _key(dataset.name) == key:
            return dataset
    return None
