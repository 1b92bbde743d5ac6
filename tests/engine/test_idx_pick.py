"""Picking one IDX training file keeps the standard split when its test file lies beside it."""

from __future__ import annotations

import numpy as np
from hostile_corpus import gz, idx_bytes, images, put

from genai_engine.data import load_dataset


def test_train_file_beside_t10k_files_gives_the_standard_split(tmp_path):
    train, test = images(30, 6, 5), images(7, 6, 5, seed=1)
    path = put(tmp_path / "train-images-idx3-ubyte.gz", gz(idx_bytes(train)))
    put(tmp_path / "train-labels-idx1-ubyte.gz", gz(idx_bytes(np.arange(30) % 4)))
    put(tmp_path / "t10k-images-idx3-ubyte.gz", gz(idx_bytes(test)))
    put(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.arange(7) % 3))  # either compression
    data = load_dataset(path)
    assert (len(data.train), len(data.test)) == (30, 7)  # not a 27 + 3 hold-out
    np.testing.assert_array_equal(data.train.images[..., 0], train)
    np.testing.assert_array_equal(data.test.images[..., 0], test)
    assert data.test.labels.tolist() == (np.arange(7) % 3).tolist()
    assert data.source == str(path.resolve())
    assert load_dataset(data.source).fingerprint == data.fingerprint


def test_test_named_partner_without_labels(tmp_path):
    train, test = images(20, 4, 4), images(5, 4, 4, seed=2)
    path = put(tmp_path / "fashion-train-images-idx3-ubyte", idx_bytes(train))
    put(tmp_path / "fashion-test-images-idx3-ubyte", idx_bytes(test))
    data = load_dataset(path)
    assert (len(data.train), len(data.test)) == (20, 5) and data.train.labels is None
    np.testing.assert_array_equal(data.test.images[..., 0], test)


def test_partner_without_the_labels_the_train_file_has_is_not_used(tmp_path):
    path = put(tmp_path / "train-images-idx3-ubyte", idx_bytes(images(40, 4, 4)))
    put(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.arange(40) % 10))
    put(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(images(8, 4, 4, seed=3)))
    data = load_dataset(path)
    assert (len(data.train), len(data.test)) == (36, 4)  # the labelled file's own hold-out
    assert data.test.labels is not None
