"""Text corpora as datasets of character windows, for the autoregressive family's character model.

A corpus is UTF-8 text. Its distinct characters, sorted by code point, are the vocabulary
(``Dataset.vocabulary``): at most 256, so a character's id fits a uint8. The text is split once,
contiguously: the last ``test_fraction`` (10 %) is the test split, so no test character is ever
trained on. Each split is then cut into windows of ``context`` characters, stored as one-row
grey "images", ``ImageSet.images`` uint8 (N, 1, L, 1) of character ids, so the generic trainer,
checkpoints and exact resume work unchanged. Training windows start every ``context // 8``
characters (they overlap: the model meets each character at several positions); test windows
start every ``context`` characters (no overlap; a tail shorter than a window is left out).

A ``.txt`` file is read as UTF-8 (a byte-order mark is skipped) with line endings made "\\n".
An empty file, a binary one (it holds NUL bytes) or one that is not UTF-8 is refused with one
``DataError`` sentence. A text with more than 256 distinct characters keeps its 255 most
frequent ones and writes every other as U+FFFD (the replacement character "\ufffd"), said in
``Dataset.notes``; when those are more than 1 % of the text it is refused instead, since such a
script (Chinese, say) needs far more symbols than a character model of 256 has.

The built-in corpus ``python-docs`` is the standard library's ``pydoc_data.topics.topics``: the
language-reference topics ``help()`` shows (79 topics, about 465,000 characters of English and
code, 103 distinct characters on Python 3.11). It ships with Python under the PSF licence, so
it is licence-clean and needs no file of ours; it follows the running Python's version (its
fingerprint may change with it).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from genai_engine.data.bounded_io import file_size
from genai_engine.data.dataset import Dataset, ImageSet
from genai_engine.data.limits import check_budget
from genai_engine.errors import DataError, GenAIError

TEXT_EXTENSIONS = (".txt",)
DEFAULT_CONTEXT = 64  # characters per window, the model's context: why, in the family's config.py
MAX_VOCABULARY = 256  # character ids are stored as uint8
UNKNOWN = "\ufffd"  # stands for the rarest characters of a text with more than 256
MAX_UNKNOWN_SHARE = 0.01
TRAIN_STRIDE_DIVISOR = 8  # training windows start every context // 8 characters


def is_text_file(path: Path) -> bool:
    return path.suffix.lower() in TEXT_EXTENSIONS


def load_text(path: str | os.PathLike, context: int = DEFAULT_CONTEXT, test_fraction: float = 0.1) -> Dataset:
    """A UTF-8 ``.txt`` file as a dataset of character windows (see the module docstring)."""
    path = Path(path)
    check_budget(str(path), file_size(path), "the text")  # file_size: missing, not a file, or empty
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise DataError(f"{path}: is a binary file (it holds NUL bytes), not text; give a UTF-8 .txt file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
                        f"{error.start}); save it as UTF-8 and open it again") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text_dataset(path.stem, text, str(path.resolve()), context, test_fraction)


def python_docs_text() -> str:
    """The ``python-docs`` corpus: Python's ``help()`` topics (PSF licence), in name order."""
    from pydoc_data.topics import topics  # a plain import, so PyInstaller bundles it

    return "\n".join(topics[name] for name in sorted(topics))


def text_dataset(name: str, text: str, source: str, context: int = DEFAULT_CONTEXT,
                 test_fraction: float = 0.1) -> Dataset:
    """``text`` as a dataset: the vocabulary, the contiguous split and the windows."""
    if isinstance(context, bool) or int(context) != context or context < 2:
        raise GenAIError(f"the context must be a whole number of characters, 2 or more, got {context}")
    if not 0 < test_fraction <= 0.5:
        raise GenAIError(f"the test fraction must be above 0 and at most 0.5, got {test_fraction}")
    context = int(context)
    if not text:
        raise DataError(f"{source}: holds no text")
    notes: list[str] = []
    codes = _code_points(text)
    vocabulary_codes, ids = np.unique(_fold_rare(codes, source, notes), return_inverse=True)
    if len(vocabulary_codes) < 2:
        raise DataError(f"{source}: holds a single distinct character; a character model needs text")
    cut = split_point(len(ids), test_fraction)
    if len(ids) - cut < context:
        least = math.ceil(context / test_fraction)
        raise DataError(f"{source}: {len(ids):,} characters are too few for windows of {context}: the "
                        f"test part needs at least one window, so give at least {least:,} characters "
                        "or a smaller --context")
    stride = train_stride(context)
    check_budget(source, (len(ids) // stride + 1) * context, "the character windows")
    ids = ids.astype(np.uint8)
    train = ImageSet(_windows(ids[:cut], context, stride))
    test = ImageSet(_windows(ids[cut:], context, context))
    vocabulary = "".join(map(chr, vocabulary_codes))
    return Dataset(name, train, test, source=source, notes=notes, vocabulary=vocabulary)


def train_stride(context: int) -> int:
    """Characters between the starts of consecutive training windows of ``context``."""
    return max(1, context // TRAIN_STRIDE_DIVISOR)


def corpus_excerpt(dataset: Dataset, characters: int = 600) -> str:
    """The first ``characters`` (or so) of a text dataset's training text, read back from its
    windows: the first window, then the last ``train_stride`` characters of each next one."""
    if dataset.vocabulary is None:
        raise GenAIError(f"{dataset.name} is a set of images, not a text corpus")
    windows = dataset.train.images[:, 0, :, 0]
    if not len(windows):
        return ""
    stride = train_stride(windows.shape[1])
    needed = 1 + math.ceil(max(0, characters - windows.shape[1]) / stride)
    ids = [windows[0]] + [window[-stride:] for window in windows[1:needed]]
    return decode_text(np.concatenate(ids), dataset.vocabulary)[:characters]


def corpus_characters(dataset: Dataset) -> tuple[int, int]:
    """Characters of training and of test text a text dataset's windows cover."""
    length = dataset.image_shape[2]
    train = (len(dataset.train) - 1) * train_stride(length) + length if len(dataset.train) else 0
    return train, len(dataset.test) * length


def split_point(n: int, test_fraction: float = 0.1) -> int:
    """Where the test part of ``n`` characters begins: the last ``test_fraction``, rounded up."""
    return n - math.ceil(n * test_fraction)


def encode_text(text: str, vocabulary: str, what: str = "the text") -> np.ndarray:
    """Characters -> their ids in ``vocabulary``, uint8 (len(text),); a character outside it is a
    ``GenAIError`` that names it (``what`` says whose: "the prompt")."""
    codes = _code_points(text)
    known_codes = _code_points(vocabulary)
    order = np.argsort(known_codes, kind="stable")
    at = np.minimum(np.searchsorted(known_codes[order], codes), len(order) - 1)
    known = known_codes[order][at] == codes
    if not known.all():
        unknown = sorted({chr(c) for c in codes[~known]})
        shown = ", ".join(_show(c) for c in unknown[:8]) + (f" and {len(unknown) - 8} more"
                                                            if len(unknown) > 8 else "")
        raise GenAIError(f"{what} holds characters this model never learned: {shown}; leave them out "
                         f"(it knows the {len(vocabulary)} characters of its corpus)")
    return order[at].astype(np.uint8)


def decode_text(ids, vocabulary: str) -> str:
    """Character ids (any integer array or sequence) -> the text they spell."""
    ids = np.asarray(ids, dtype=np.int64).ravel()
    if ids.size and not (0 <= ids.min() and ids.max() < len(vocabulary)):
        raise GenAIError(f"character ids must be 0..{len(vocabulary) - 1}, got {ids.min()}..{ids.max()}")
    return "".join(np.asarray(list(vocabulary), dtype=object)[ids]) if ids.size else ""


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _fold_rare(codes: np.ndarray, source: str, notes: list[str]) -> np.ndarray:
    """``codes`` with all but the 255 most frequent characters made U+FFFD, when there are more
    than 256 distinct ones (see the module docstring)."""
    values, counts = np.unique(codes, return_counts=True)
    if len(values) <= MAX_VOCABULARY:
        return codes
    keep = values[np.argsort(-counts, kind="stable")[:MAX_VOCABULARY - 1]]
    rare = ~np.isin(codes, keep)
    share = rare.mean()
    if share > MAX_UNKNOWN_SHARE:
        raise DataError(f"{source}: has {len(values):,} distinct characters, and those beyond the "
                        f"{MAX_VOCABULARY - 1} most frequent make {share:.1%} of it; a character model "
                        f"takes at most {MAX_VOCABULARY}: give a text in a smaller alphabet")
    notes.append(f"{len(values) - (MAX_VOCABULARY - 1):,} rare characters ({int(rare.sum()):,} "
                 f"occurrences) written as {UNKNOWN!r}: a character model takes at most {MAX_VOCABULARY}")
    return np.where(rare, np.uint32(ord(UNKNOWN)), codes)


def _windows(ids: np.ndarray, length: int, stride: int) -> np.ndarray:
    """Windows of ``length`` ids starting every ``stride``, as uint8 (N, 1, length, 1)."""
    windows = np.lib.stride_tricks.sliding_window_view(ids, length)[::stride]
    return np.ascontiguousarray(windows).reshape(len(windows), 1, length, 1)


def _show(character: str) -> str:
    return f"{character!r} (U+{ord(character):04X})"
