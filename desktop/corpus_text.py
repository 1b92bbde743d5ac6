"""A text corpus as people read it: an excerpt of its training text and its sizes in characters.

A text ``Dataset`` holds windows of character ids (``genai_engine.data.text``): training windows
of L characters starting every ``stride`` characters, test windows of L back to back. The
training text is the first window followed by the last ``stride`` characters of each next one.
"""

from __future__ import annotations

import math

from genai_engine.data import Dataset
from genai_engine.data.text import TRAIN_STRIDE_DIVISOR, decode_text


def _train_stride(dataset: Dataset) -> int:
    return max(1, dataset.image_shape[2] // TRAIN_STRIDE_DIVISOR)


def corpus_excerpt(dataset: Dataset, characters: int = 600) -> str:
    """The first ``characters`` (or so) of the corpus's training text."""
    windows = dataset.train.images[:, 0, :, 0]
    if not len(windows):
        return ""
    stride = _train_stride(dataset)
    needed = 1 + math.ceil(max(0, characters - windows.shape[1]) / stride)
    ids = [windows[0]] + [window[-stride:] for window in windows[1:needed]]
    return decode_text([i for part in ids for i in part], dataset.vocabulary)[:characters]


def corpus_characters(dataset: Dataset) -> tuple[int, int]:
    """Characters of training and of test text the windows cover."""
    length = dataset.image_shape[2]
    train = (len(dataset.train) - 1) * _train_stride(dataset) + length if len(dataset.train) else 0
    return train, len(dataset.test) * length


def describe_corpus(dataset: Dataset) -> str:
    """'418,944 train · 46,464 test characters\\n103 distinct characters · windows of 128'."""
    train, test = corpus_characters(dataset)
    return (f"{train:,} train · {test:,} test characters\n"
            f"{len(dataset.vocabulary)} distinct characters · windows of {dataset.image_shape[2]}")
