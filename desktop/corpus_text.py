"""A text corpus as people read it: its sizes in characters (the engine's
``corpus_characters``), its vocabulary and its window length."""

from __future__ import annotations

from genai_engine.data import Dataset
from genai_engine.data.text import corpus_characters


def describe_corpus(dataset: Dataset) -> str:
    """'418,944 train · 46,464 test characters\\n103 distinct characters · windows of 128'."""
    train, test = corpus_characters(dataset)
    return (f"{train:,} train · {test:,} test characters\n"
            f"{len(dataset.vocabulary)} distinct characters · windows of {dataset.image_shape[2]}")
