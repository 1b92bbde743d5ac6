"""Text corpora as datasets: the vocabulary, the contiguous split, windows, bad files, the loader."""

import math

import numpy as np
import pytest
from toy_data import make_toy_dataset, make_toy_text

from genai_engine.data import load_dataset, read_image_set
from genai_engine.data.text import (
    corpus_characters,
    corpus_excerpt,
    decode_text,
    encode_text,
    load_text,
    split_point,
    text_dataset,
)
from genai_engine.errors import DataError, GenAIError
from genai_engine.training import TrainConfig, train


def test_split_is_contiguous_without_overlap_and_windows_round_trip():
    text = make_toy_text()
    dataset = text_dataset("toy", text, "toy", context=16)
    assert dataset.vocabulary == "".join(sorted(set(text)))
    assert dataset.image_shape == (1, 1, 16) and dataset.train.labels is None and dataset.num_classes == 0
    cut = len(text) - math.ceil(0.1 * len(text))  # the last tenth is the test part
    train = [decode_text(w.ravel(), dataset.vocabulary) for w in dataset.train.images]
    test = [decode_text(w.ravel(), dataset.vocabulary) for w in dataset.test.images]
    # a window every context // 8 characters, all before the cut
    assert train == [text[i:i + 16] for i in range(0, cut - 15, 2)]
    assert "".join(test) == text[cut:cut + 16 * len(test)] and len(test) == (len(text) - cut) // 16
    ids = encode_text(text, dataset.vocabulary)
    assert ids.dtype == np.uint8 and decode_text(ids, dataset.vocabulary) == text


def test_the_fingerprint_covers_the_vocabulary():
    a = text_dataset("a", "ab" * 100, "a", context=4)
    b = text_dataset("b", "cd" * 100, "b", context=4)  # the same ids, other characters
    assert np.array_equal(a.train.images, b.train.images) and a.fingerprint != b.fingerprint
    images = make_toy_dataset()
    assert images.vocabulary is None
    assert images.fingerprint == type(images)(images.name, images.train, images.test).fingerprint


def test_characters_outside_the_vocabulary_are_named():
    with pytest.raises(GenAIError, match=r"the prompt holds characters .*'Z' \(U\+005A\), 'é' \(U\+00E9\)"):
        encode_text("Zé abc", "abc ", "the prompt")


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"text\x00with a NUL", "binary file"),
    ("caf\u00e9 au lait ".encode("latin-1") * 50, r"not UTF-8 text \(byte 0xe9 at offset 3\)"),
    (b"aaaa" * 100, "a single distinct character"),
    (b"ab" * 20, "too few for windows of 64"),
])
def test_bad_text_files_give_one_sentence(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_text(path)


def test_utf8_bom_and_windows_line_ends_are_read_as_plain_text(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"\xef\xbb\xbf" + b"one line\r\nand another\r\n" * 20)
    vocabulary = load_text(path, context=8).vocabulary
    assert "\r" not in vocabulary and "\ufeff" not in vocabulary and "\n" in vocabulary


def test_more_than_256_characters_keep_the_frequent_ones_or_are_refused():
    common = "".join(chr(0x100 + i) for i in range(255)) * 40  # 255 frequent characters
    rare = "".join(chr(0x1000 + i) for i in range(20))  # 20 rare ones, 0.2 % of the text
    dataset = text_dataset("many", common + rare, "many", context=16)
    assert len(dataset.vocabulary) == 256 and "\ufffd" in dataset.vocabulary
    assert "rare characters" in dataset.notes[0]
    with pytest.raises(DataError, match="a character model takes at most 256"):
        text_dataset("too many", "".join(chr(0x100 + i) for i in range(400)) * 5, "too many", context=16)


def test_the_loader_reads_txt_files_and_the_builtin_corpus(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(make_toy_text(), encoding="utf-8")
    dataset = load_dataset(path, context=32)
    assert dataset.name == "story" and dataset.image_shape == (1, 1, 32) and dataset.vocabulary
    with pytest.raises(DataError, match="leave --image-size out"):
        load_dataset(path, image_size=28)
    with pytest.raises(DataError, match="a text file, not a set of images"):
        read_image_set(path)
    docs = load_dataset("python-docs")  # from the standard library's pydoc_data
    assert docs.image_shape == (1, 1, 64) and len(docs.vocabulary) > 80
    assert load_dataset("Python_Docs") is docs  # cached, and named as loosely as fashion-mnist
    assert "if_stmt" in decode_text(docs.train.images[..., 0].ravel(), docs.vocabulary)


def test_an_image_family_refuses_a_text_corpus():
    dataset = text_dataset("toy", make_toy_text(), "toy", context=16)
    with pytest.raises(GenAIError, match="a text corpus trains only with --family autoregressive"):
        next(train(dataset, None, TrainConfig(epochs=1, device="cpu"), family="vae"))


def test_the_training_text_reads_back_from_its_windows():
    text = make_toy_text()
    dataset = text_dataset("toy", text, "toy", context=32)
    assert corpus_excerpt(dataset, 500) == text[:500]
    train, test = corpus_characters(dataset)
    cut = split_point(len(text))
    assert cut - 32 < train <= cut  # the last partial stride is left out
    assert test == (len(text) - cut) // 32 * 32
