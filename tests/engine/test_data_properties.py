"""Property tests: whatever bytes or headers a file holds, a reader returns a valid Dataset or
raises DataError, and never allocates more than a small bound."""

from __future__ import annotations

import functools
import struct
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hostile_corpus import gz, idx_bytes, image_bytes, images, npy_bytes, npz_bytes, raw_npy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from genai_engine.data import Dataset, load_dataset
from genai_engine.data.limits import MAX_CLASSES
from genai_engine.data.resize import resize_images
from genai_engine.data.splits import holdout_count, holdout_indices
from genai_engine.errors import DataError

pytestmark = pytest.mark.filterwarnings("ignore::genai_engine.data.DataWarning")

MEMORY_BOUND = 8 * 2**20  # inputs here are < 64 KB; headers claim up to terabytes
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_valid(data: Dataset) -> None:
    for split in (data.train, data.test):
        assert split.images.dtype == np.uint8 and split.images.ndim == 4
        assert split.images.shape[3] in (1, 3) and len(split) >= 1
        if split.labels is not None:
            assert split.labels.dtype == np.int64
            assert split.labels.min() >= 0 and split.labels.max() < MAX_CLASSES
    assert data.train.image_shape == data.test.image_shape
    assert (data.train.labels is None) == (data.test.labels is None)


OUTCOMES: list[str] = []  # what the fuzzers produced, to check they reach the success paths too


def load_bounded(path: Path) -> Dataset | DataError:
    """Load ``path``; a result must be valid and the peak traced memory small."""
    tracemalloc.start()
    try:
        try:
            result = load_dataset(path)
        except DataError as error:
            result = error
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"{peak} bytes for {path}"
    OUTCOMES.append(type(result).__name__)
    if isinstance(result, Dataset):
        check_valid(result)
    else:
        assert "\n" not in str(result)
    return result


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def fresh(base: Path) -> Path:
    """A new empty folder per example (hypothesis runs many examples in one test call)."""
    return Path(tempfile.mkdtemp(dir=base))


FILE_NAMES = [
    "train-images-idx3-ubyte",
    "train-images-idx3-ubyte.gz",
    "data.npz",
    "unknown.bin",
    "folder/a.png",
    "folder/b.jpg",
]


@FUZZ
@given(name=st.sampled_from(FILE_NAMES), data=st.binary(max_size=4096), gzip_it=st.booleans())
def test_random_bytes_never_crash(base, name, data, gzip_it):
    folder = fresh(base)
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gz(data) if gzip_it else data)
    if name.startswith("folder/"):
        (folder / "folder" / "good.png").write_bytes(image_bytes(images(1)[0]))
        path = folder / "folder"
    result = load_bounded(path)
    if name.startswith("folder/") or not data:
        assert isinstance(result, DataError)


DIMENSION = st.one_of(st.integers(0, 12), st.integers(0, 2**32 - 1))


@FUZZ
@given(
    type_code=st.sampled_from([0x08, 0x08, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x07, 0xFF]),
    dims=st.one_of(st.lists(st.integers(1, 9), min_size=3, max_size=3), st.lists(DIMENSION, max_size=5)),
    ndim_byte=st.one_of(st.none(), st.none(), st.integers(0, 255)),
    exact=st.booleans(),
    extra=st.integers(-3, 3),
    gzip_it=st.booleans(),
    label_dims=st.one_of(st.none(), st.lists(DIMENSION, min_size=1, max_size=2)),
    label_type=st.sampled_from([0x08, 0x0C, 0x0D]),
)
@example(0x08, [5, 3, 4], None, True, 0, True, [5], 0x08)  # a valid pair, to prove success is reachable
def test_random_idx_headers(base, type_code, dims, ndim_byte, exact, extra, gzip_it, label_dims, label_type):
    folder = fresh(base)

    def idx(code: int, shape: list[int], ndim: int | None) -> bytes:
        header = bytes([0, 0, code, len(shape) if ndim is None else ndim])
        header += struct.pack(f">{len(shape)}I", *shape)
        itemsize = {0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(code, 1)
        size = int(np.prod(shape, dtype=object)) * itemsize if shape else 0
        size = size + extra if exact and size <= 20_000 else abs(extra) * 97
        payload = np.random.default_rng(len(shape)).integers(0, 10, max(size, 0), dtype=np.uint8)
        data = header + payload.tobytes()
        return gz(data) if gzip_it else data

    suffix = ".gz" if gzip_it else ""
    path = folder / f"train-images-idx3-ubyte{suffix}"
    path.write_bytes(idx(type_code, dims, ndim_byte))
    if label_dims is not None:
        (folder / f"train-labels-idx1-ubyte{suffix}").write_bytes(idx(label_type, label_dims, None))
    load_bounded(path)


DESCRS = ["|u1", "|u1", "<i8", ">i4", "<f4", "|O", "|b1", "<U3", "|V4", "<c8", "x9", "<M8[s]"]


@FUZZ
@given(
    members=st.dictionaries(
        st.sampled_from(["images", "labels", "test_images", "test_labels", "class_names", "x_train"]),
        st.tuples(
            st.sampled_from(DESCRS),
            st.lists(st.one_of(st.integers(0, 9), st.integers(0, 2**40)), max_size=5),
            st.booleans(),  # fortran order
            st.booleans(),  # payload of exactly the claimed size (when small)
        ),
        min_size=1,
    ),
)
@example({"images": ("|u1", [4, 3, 3], True, True), "labels": ("<i8", [4], False, True)})
def test_random_npy_headers_in_npz(base, members):
    archive = {}
    for key, (descr, shape, fortran, exact) in members.items():
        itemsize = np.dtype(descr).itemsize if descr not in ("x9",) and descr != "|O" else 8
        size = int(np.prod(shape, dtype=object)) * itemsize
        payload = np.random.default_rng(7).integers(0, 3, size if exact and size <= 20_000 else 50, np.uint8)
        header = f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {tuple(shape)!r}, }}"
        archive[f"{key}.npy"] = raw_npy(header, payload.tobytes())
    path = fresh(base) / "data.npz"
    path.write_bytes(npz_bytes(archive))
    load_bounded(path)


@functools.cache
def _good_bytes() -> dict[str, bytes]:
    labels = np.arange(30) % 3
    return {
        "idx/train-images-idx3-ubyte.gz": gz(idx_bytes(images(30))),
        "idx/train-labels-idx1-ubyte.gz": gz(idx_bytes(labels)),
        "data.npz": npz_bytes({"images.npy": npy_bytes(images(30)), "labels.npy": npy_bytes(labels)}),
        **{f"pngs/{i}.png": image_bytes(images(1, 8, 8, c=3, seed=i)[0]) for i in range(3)},
        "pngs/3.jpg": image_bytes(images(1, 8, 8, c=3)[0], "JPEG"),
    }


def _good_files(folder: Path) -> dict[str, Path]:
    for name, data in _good_bytes().items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)
    return {"idx": folder / "idx/train-images-idx3-ubyte.gz", "npz": folder / "data.npz",
            "png": folder / "pngs/1.png", "jpg": folder / "pngs/3.jpg",
            "labels": folder / "idx/train-labels-idx1-ubyte.gz"}


@FUZZ
@given(
    target=st.sampled_from(["idx", "npz", "png", "jpg", "labels"]),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=4),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
@example("png", [], None)
@example("png", [(0.125, 1)], None)  # a chunk length claiming 16 MB: refused before Pillow allocates it
def test_mutated_good_files(base, target, flips, cut):
    folder = fresh(base)
    paths = _good_files(folder)
    path = paths[target]
    data = bytearray(path.read_bytes())
    for where, value in flips:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    path.write_bytes(bytes(data))
    load_bounded(paths["idx"] if target in ("idx", "labels") else path.parent if target in ("png", "jpg")
                 else path)


@settings(max_examples=60, deadline=None, database=None)
@given(n=st.one_of(st.integers(2, 300), st.integers(2, 70_000)))
def test_holdout_split_partitions(n):
    train, test = holdout_indices(n)
    assert len(test) == holdout_count(n) == max(1, round(n / 10))
    assert len(train) + len(test) == n and len(np.intersect1d(train, test)) == 0
    assert train.min() >= 0 and max(train.max(), test.max()) == n - 1
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)


@settings(max_examples=80, deadline=None, database=None)
@given(
    h=st.integers(1, 40), w=st.integers(1, 40), th=st.integers(1, 40), tw=st.integers(1, 40),
    c=st.sampled_from([1, 3]), value=st.integers(0, 255),
)
def test_resize_shapes_and_constants(h, w, th, tw, c, value):
    batch = np.random.default_rng(h * w).integers(0, 256, (2, h, w, c), dtype=np.uint8)
    out = resize_images(batch, th, tw)
    assert out.shape == (2, th, tw, c) and out.dtype == np.uint8
    flat = np.full((1, h, w, c), value, np.uint8)
    assert np.all(resize_images(flat, th, tw) == value)  # a flat image stays flat (weights sum to 1)
    assert resize_images(batch, h, w) is batch


def test_fuzzers_reached_both_outcomes():
    # Runs after the fuzzers above (file order): random input must sometimes load, not only fail.
    if len(OUTCOMES) < 100:
        pytest.skip("run together with the fuzz tests")
    assert OUTCOMES.count("Dataset") >= 3 and OUTCOMES.count("DataError") >= 50


@settings(max_examples=60, deadline=None, database=None)
@given(
    pieces=st.lists(st.tuples(st.binary(min_size=1, max_size=20), st.integers(1, 2000)), max_size=4),
    members=st.integers(1, 3),
    read_size=st.integers(1, 5000),
    input_size=st.integers(16, 400),
)
def test_gunzip_matches_gzip_for_any_chunking(monkeypatch_module, pieces, members, read_size, input_size):
    """Runs of repeats make zlib hold back output between calls: nothing may be lost."""
    import gzip
    import io

    from genai_engine.data import bounded_io

    data = b"".join(piece * count for piece, count in pieces)
    cut = [len(data) * i // members for i in range(members + 1)]
    packed = b"".join(gzip.compress(data[a:b], mtime=0) for a, b in zip(cut, cut[1:], strict=False))
    monkeypatch_module.setattr(bounded_io, "_INPUT_BYTES", input_size)
    stream = bounded_io.Gunzip(io.BytesIO(packed))
    out = b""
    while chunk := stream.read(read_size):
        assert len(chunk) <= read_size
        out += chunk
    assert out == data
    truncated = bounded_io.Gunzip(io.BytesIO(packed[:-5]))
    with pytest.raises(EOFError):
        while truncated.read(read_size):
            pass
