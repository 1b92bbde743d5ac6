"""Every file of the hostile corpus gives one clear DataError, in bounded memory, running no code."""

from __future__ import annotations

import os
import tracemalloc
import warnings

import numpy as np
import pytest
from hostile_corpus import (
    HOSTILE_DATA_CASES,
    HOSTILE_DATA_FILES,
    ODD_DATA_CASES,
    PICKLE_MARKER,
    image_bytes,
    images,
    write_corpus,
)

from genai_engine.data import DataWarning, ImageSet, load_dataset, read_image_set
from genai_engine.errors import DataError

MEMORY_BOUND = 16 * 2**20  # far below any size a hostile header claims (megabytes to terabytes)


@pytest.mark.parametrize("name", sorted(HOSTILE_DATA_CASES))
def test_hostile_file_gives_one_clear_error(tmp_path, name):
    case = HOSTILE_DATA_CASES[name]
    path = case.write(tmp_path / name)
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as caught:
            load_dataset(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    assert (case.blame or path.name) in message
    assert any(problem in message.lower() for problem in case.problem), message
    error = caught.value  # no chained low-level traceback behind it
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert peak < MEMORY_BOUND


@pytest.mark.parametrize("name", sorted(HOSTILE_DATA_CASES))
def test_read_image_set_gives_data_error_or_images(tmp_path, name):
    # One set is less demanding (no splits, no test labels), so some cases are fine here.
    path = HOSTILE_DATA_FILES[name](tmp_path / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            result = read_image_set(path)
        except DataError:
            return
    assert isinstance(result, ImageSet) and len(result) >= 1


def test_pickle_in_npz_never_runs(tmp_path):
    path = HOSTILE_DATA_FILES["npz_pickle_exploit"](tmp_path)
    with pytest.raises(DataError, match="pickle"):
        load_dataset(path)
    with pytest.raises(DataError, match="pickle"):
        read_image_set(path)
    assert not (tmp_path / PICKLE_MARKER).exists()
    # The exploit is real: numpy, when allowed to unpickle, runs it.
    with np.load(path, allow_pickle=True) as archive:
        archive["images"]
    assert (tmp_path / PICKLE_MARKER).is_dir()


@pytest.mark.parametrize("name", sorted(ODD_DATA_CASES))
def test_odd_but_valid_files_load_with_notes(tmp_path, name):
    case = ODD_DATA_CASES[name]
    path = case.write(tmp_path / name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_dataset(path)
    assert data.image_shape == case.image_shape
    notes = " ".join(data.notes).lower()
    assert case.note in notes
    assert len([w for w in caught if issubclass(w.category, DataWarning)]) == len(data.notes)
    assert len(data.test) >= 1 and data.train.images.dtype == np.uint8


@pytest.mark.filterwarnings("ignore::genai_engine.data.DataWarning")
def test_mixed_modes_are_converted_explicitly(tmp_path):
    data = load_dataset(ODD_DATA_CASES["odd_mixed_modes"].write(tmp_path))
    every = np.concatenate([data.train.images, data.test.images])
    assert every.shape == (9, 8, 8, 3)
    notes = " ".join(data.notes)
    assert "transparency composited onto black" in notes and "grey images converted to RGB" in notes


def test_corpus_writes_every_case_in_its_own_folder(tmp_path):
    paths = write_corpus(tmp_path)
    assert set(paths) == set(HOSTILE_DATA_CASES) | set(ODD_DATA_CASES)
    assert all(str(path).startswith(str(tmp_path / name)) for name, path in paths.items())
    assert sum(f.stat().st_size for f in tmp_path.rglob("*") if f.is_file()) < 2**20



@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.timeout(20)
def test_named_pipes_are_refused_not_read(tmp_path):
    # Opening a FIFO for reading blocks until a writer comes: a reader must never try.
    (tmp_path / "flat").mkdir()
    for name in ("a", "b"):
        (tmp_path / "flat" / f"{name}.png").write_bytes(image_bytes(images(1)[0]))
    os.mkfifo(tmp_path / "flat" / "pipe.png")
    assert len(read_image_set(tmp_path / "flat")) == 2  # not a regular file: skipped
    (tmp_path / "classes" / "cat").mkdir(parents=True)
    (tmp_path / "classes" / "cat" / "a.png").write_bytes(image_bytes(images(1)[0]))
    os.mkfifo(tmp_path / "classes" / "cat" / "pipe.png")
    with pytest.raises(DataError, match="pipe.png: is not a regular file"):
        load_dataset(tmp_path / "classes")
    os.mkfifo(tmp_path / "data.npz")
    with pytest.raises(DataError, match="data.npz: is not a regular file"):
        load_dataset(tmp_path / "data.npz")
