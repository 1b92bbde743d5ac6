"""Good files of every kind, read back exactly: IDX, .npz, image folders, the built-in data."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hostile_corpus import gz, idx_bytes, image_bytes, images, npy_bytes, npz_bytes, put
from PIL import Image

from genai_engine.data import (
    BUILTIN_DATASETS,
    DataWarning,
    builtin_dataset_names,
    load_dataset,
    read_image_set,
)
from genai_engine.data.resize import pillow_box, resize_images
from genai_engine.data.splits import holdout_indices
from genai_engine.errors import DataError

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


def both(dataset):
    """All images of a held-out dataset back in their original order."""
    n = len(dataset.train) + len(dataset.test)
    train_idx, test_idx = holdout_indices(n)
    out = np.empty((n, *dataset.train.images.shape[1:]), np.uint8)
    out[train_idx], out[test_idx] = dataset.train.images, dataset.test.images
    return out


def save_pngs(folder: Path, arrays: np.ndarray, prefix: str = "img", fmt: str = "PNG") -> None:
    ext = {"PNG": "png", "JPEG": "jpg"}[fmt]
    for i, array in enumerate(arrays):
        pixels = array[..., 0] if array.shape[-1] == 1 else array
        put(folder / f"{prefix}{i:03d}.{ext}", image_bytes(pixels, fmt))


# ------------------------------------------------------------------------------- built-in


def test_fashion_mnist_is_embedded_cached_and_read_only():
    data = load_dataset("fashion-mnist")
    assert data.name == "fashion-mnist" and data.source == "fashion-mnist"
    assert data.train.images.shape == (60000, 28, 28, 1) and data.test.images.shape == (10000, 28, 28, 1)
    assert data.train.images.dtype == np.uint8 and data.train.labels.dtype == np.int64
    assert data.class_names == FASHION_CLASSES and data.num_classes == 10
    assert np.bincount(data.train.labels).tolist() == [6000] * 10
    assert np.bincount(data.test.labels).tolist() == [1000] * 10
    assert data.train.labels[:5].tolist() == [9, 0, 0, 3, 0]  # the published file's first labels
    start = time.perf_counter()
    assert load_dataset("fashion-mnist") is data
    assert load_dataset("Fashion_MNIST") is data
    assert time.perf_counter() - start < 0.01  # cached in-process
    with pytest.raises(ValueError):
        data.train.images[0, 0, 0, 0] = 1  # shared by everyone: read-only
    assert read_image_set("fashion-mnist").images is data.test.images
    assert "fashion-mnist" in builtin_dataset_names() and BUILTIN_DATASETS["fashion-mnist"].available()
    assert (BUILTIN_DATASETS["fashion-mnist"].path / "LICENSE").is_file()


def test_data_package_imports_neither_torch_nor_qt():
    code = "import sys, genai_engine.data; print(any(m in sys.modules for m in ('torch', 'PySide6')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------ IDX


@pytest.mark.parametrize("compress", [True, False])
def test_idx_folder_reads_four_standard_files(tmp_path, compress):
    pack = gz if compress else (lambda data: data)
    suffix = ".gz" if compress else ""
    train, test = images(30, 6, 5), images(7, 6, 5, seed=1)
    put(tmp_path / f"train-images-idx3-ubyte{suffix}", pack(idx_bytes(train)))
    put(tmp_path / f"train-labels-idx1-ubyte{suffix}", pack(idx_bytes(np.arange(30) % 4)))
    put(tmp_path / f"t10k-images-idx3-ubyte{suffix}", pack(idx_bytes(test)))
    put(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", pack(idx_bytes(np.arange(7) % 4)))
    put(tmp_path / "README.md", b"ignored")
    data = load_dataset(tmp_path)
    assert data.name == tmp_path.name and data.source == str(tmp_path.resolve())
    np.testing.assert_array_equal(data.train.images[..., 0], train)
    np.testing.assert_array_equal(data.test.images[..., 0], test)
    assert data.train.labels.tolist() == (np.arange(30) % 4).tolist()
    assert data.test.labels.tolist() == (np.arange(7) % 4).tolist()
    assert data.image_shape == (1, 6, 5) and data.num_classes == 4 and data.class_names is None
    assert data.notes == []
    assert load_dataset(data.source).fingerprint == data.fingerprint


@pytest.mark.parametrize("labels_name", ["train-labels-idx1-ubyte", "train-labels-idx1-ubyte.gz"])
def test_idx_images_file_finds_its_labels_and_holds_out_ten_percent(tmp_path, labels_name):
    pixels = images(40, 4, 4)
    path = put(tmp_path / "train-images-idx3-ubyte.gz", gz(idx_bytes(pixels)))
    labels = np.arange(40) % 10
    data_bytes = idx_bytes(labels)
    put(tmp_path / labels_name, gz(data_bytes) if labels_name.endswith(".gz") else data_bytes)
    data = load_dataset(path)
    assert (len(data.train), len(data.test)) == (36, 4)
    np.testing.assert_array_equal(both(data)[..., 0], pixels)
    train_idx, test_idx = holdout_indices(40)
    assert data.train.labels.tolist() == labels[train_idx].tolist()
    assert data.test.labels.tolist() == labels[test_idx].tolist()


def test_idx_dotted_names_rgb_and_no_labels(tmp_path):
    pixels = images(12, 5, 6, c=3)
    path = put(tmp_path / "train-images.idx3-ubyte", idx_bytes(pixels))
    data = load_dataset(path)
    assert data.image_shape == (3, 5, 6) and data.train.labels is None
    np.testing.assert_array_equal(both(data), pixels)
    put(tmp_path / "train-labels.idx1-ubyte", idx_bytes(np.arange(12) % 3))
    assert load_dataset(path).train.labels is not None


def test_idx_file_recognised_by_content_whatever_its_name(tmp_path):
    pixels = images(10)
    data = load_dataset(put(tmp_path / "digits.bin", gz(idx_bytes(pixels))))
    np.testing.assert_array_equal(both(data)[..., 0], pixels)
    np.testing.assert_array_equal(read_image_set(tmp_path / "digits.bin").images[..., 0], pixels)


def test_idx_multibyte_labels(tmp_path):
    put(tmp_path / "train-images-idx3-ubyte", idx_bytes(images(10)))
    put(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.arange(10) * 300, 0x0B))  # int16
    data = load_dataset(tmp_path)
    assert sorted(data.train.labels.tolist() + data.test.labels.tolist()) == list(range(0, 3000, 300))


# ------------------------------------------------------------------------------------ npz


@pytest.mark.parametrize("shape", [(12, 7, 5), (12, 7, 5, 1), (12, 7, 5, 3)])
def test_npz_images_grey_and_rgb(tmp_path, shape):
    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "set.npz"
    np.savez_compressed(path, images=pixels, labels=np.arange(12) % 2, unrelated=np.zeros(3))
    data = load_dataset(path)
    assert data.name == "set" and data.image_shape == ((shape + (1,))[3], 7, 5)
    np.testing.assert_array_equal(both(data).reshape(shape), pixels)
    assert sorted(np.concatenate([data.train.labels, data.test.labels]).tolist()) == [0] * 6 + [1] * 6


def test_npz_with_test_split_class_names_and_odd_layouts(tmp_path):
    train = images(10, 4, 6)
    test = images(3, 4, 6, seed=2)
    path = tmp_path / "set.npz"
    np.savez(
        path,
        images=np.asfortranarray(train),
        labels=(np.arange(10) % 3).astype(">i8").reshape(10, 1),
        test_images=test,
        test_labels=np.array([0, 1, 2], np.uint8),
        class_names=np.array(["a", "bb", "ccc"]),
    )
    data = load_dataset(path)
    np.testing.assert_array_equal(data.train.images[..., 0], train)
    np.testing.assert_array_equal(data.test.images[..., 0], test)
    assert data.train.labels.tolist() == (np.arange(10) % 3).tolist()
    assert data.class_names == ["a", "bb", "ccc"]
    set_only = read_image_set(path)
    np.testing.assert_array_equal(set_only.images[..., 0], train)


# -------------------------------------------------------------------------- image folders


def test_flat_grey_folder_stays_one_channel_and_is_exact(tmp_path):
    pixels = images(20, 9, 7, c=1)
    save_pngs(tmp_path, pixels)
    put(tmp_path / ".hidden.png", b"skipped")
    put(tmp_path / "notes.txt", b"skipped")
    data = load_dataset(tmp_path)
    assert data.image_shape == (1, 9, 7) and data.train.labels is None and data.class_names is None
    assert (len(data.train), len(data.test)) == (18, 2)
    np.testing.assert_array_equal(both(data), pixels)
    np.testing.assert_array_equal(read_image_set(tmp_path).images, pixels)


def test_class_folders_give_labels_sorted_by_name(tmp_path):
    for name, seed in (("zebra", 1), ("ant", 2), ("moth", 3)):
        save_pngs(tmp_path / name, images(4, 6, 6, c=3, seed=seed))
    save_pngs(tmp_path / "moth" / "deeper", images(2, 6, 6, c=3, seed=4))
    (tmp_path / "empty-folder").mkdir()
    data = load_dataset(tmp_path)
    assert data.class_names == ["ant", "moth", "zebra"] and data.image_shape == (3, 6, 6)
    labels = np.concatenate([data.train.labels, data.test.labels])
    assert np.bincount(labels).tolist() == [4, 6, 4]
    got = read_image_set(tmp_path)
    np.testing.assert_array_equal(got.images[:4], images(4, 6, 6, c=3, seed=2))
    assert got.labels.tolist() == [0] * 4 + [1] * 6 + [2] * 4


def test_train_and_test_folders_are_the_splits(tmp_path):
    save_pngs(tmp_path / "train" / "cat", images(3, 5, 5, c=1))
    save_pngs(tmp_path / "train" / "dog", images(3, 5, 5, c=1, seed=1))
    save_pngs(tmp_path / "test" / "dog", images(2, 5, 5, c=1, seed=2))
    data = load_dataset(tmp_path)
    assert (len(data.train), len(data.test)) == (6, 2)
    assert data.test.labels.tolist() == [1, 1] and data.class_names == ["cat", "dog"]
    np.testing.assert_array_equal(data.test.images, images(2, 5, 5, c=1, seed=2))
    np.testing.assert_array_equal(read_image_set(tmp_path).images, data.test.images)


def test_jpeg_folder_is_rgb(tmp_path):
    pixels = np.full((3, 8, 8, 3), (200, 40, 90), np.uint8)
    save_pngs(tmp_path, pixels, fmt="JPEG")
    data = load_dataset(tmp_path)
    assert data.image_shape == (3, 8, 8)
    assert np.abs(both(data).astype(int) - pixels).max() <= 3  # JPEG is lossy


def test_jpeg_exif_orientation_is_applied(tmp_path):
    pixels = images(1, 6, 10, c=3)[0]
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    for i in range(2):
        image = Image.fromarray(pixels)
        image.save(tmp_path / f"p{i}.jpg", "JPEG", exif=exif.tobytes(), quality=95)
    assert load_dataset(tmp_path).image_shape == (3, 10, 6)


def test_size_rule_most_common_size_and_warning(tmp_path):
    save_pngs(tmp_path, images(3, 8, 8, c=1))
    save_pngs(tmp_path, images(2, 16, 12, c=1), prefix="big")
    with pytest.warns(DataWarning, match="2 of 5 images resized to 8x8"):
        data = load_dataset(tmp_path)
    assert data.image_shape == (1, 8, 8) and "resized" in data.notes[0]
    big = images(2, 16, 12, c=1)
    expected = resize_images(big, 8, 8)
    with pytest.warns(DataWarning):
        got = read_image_set(tmp_path).images[:2]  # big000, big001 sort first
    assert np.abs(got.astype(int) - expected).max() <= 2


def test_size_rule_ties_go_to_the_larger_size(tmp_path):
    save_pngs(tmp_path, images(2, 4, 4, c=1))
    save_pngs(tmp_path, images(2, 6, 6, c=1), prefix="big")
    with pytest.warns(DataWarning):
        assert load_dataset(tmp_path).image_shape == (1, 6, 6)


def test_image_size_argument_resizes_every_kind(tmp_path):
    pixels = images(10, 8, 12, c=1)
    np.savez(tmp_path / "a.npz", images=pixels)
    save_pngs(tmp_path / "folder", pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        from_npz = load_dataset(tmp_path / "a.npz", image_size=6)
        from_folder = load_dataset(tmp_path / "folder", image_size=6)
        fashion = load_dataset("fashion-mnist", image_size=14)
    assert from_npz.image_shape == from_folder.image_shape == (1, 6, 6)
    assert np.abs(both(from_npz).astype(int) - both(from_folder)).max() <= 2
    assert fashion.image_shape == (1, 14, 14) and load_dataset("fashion-mnist", 14) is fashion
    assert fashion.notes and fashion.fingerprint != load_dataset("fashion-mnist").fingerprint
    for bad in (0, -3, 5000, 2.5, "28"):
        with pytest.raises(DataError, match="image size"):
            load_dataset(tmp_path / "a.npz", image_size=bad)


def test_resize_matches_pillow():
    rng = np.random.default_rng(0)
    for h, w, th, tw, c in [(28, 28, 32, 32, 1), (28, 28, 14, 14, 1), (30, 17, 9, 9, 3), (5, 9, 20, 7, 3)]:
        batch = rng.integers(0, 256, (3, h, w, c), dtype=np.uint8)
        ours = resize_images(batch, th, tw)
        for image, mine in zip(batch, ours, strict=True):
            pil = Image.fromarray(image[..., 0] if c == 1 else image)
            theirs = pil.resize((tw, th), Image.Resampling.BILINEAR, box=pillow_box(h, w, th, tw))
            diff = np.abs(np.asarray(theirs).reshape(th, tw, c).astype(int) - mine)
            assert diff.max() <= 2 and diff.mean() < 0.35  # Pillow rounds its weights to fixed point


# ---------------------------------------------------------------------- splits, fingerprint


def test_holdout_split_is_fixed_and_proportional():
    for n in (2, 3, 9, 10, 15, 100, 60000):
        train, test = holdout_indices(n)
        assert len(test) == max(1, round(n / 10)) and len(train) + len(test) == n
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))
        assert np.all(np.diff(test) > 0)
    assert holdout_indices(100)[1].tolist() == holdout_indices(100)[1].tolist()
    # Not periodic: with classes interleaved every 10 images the test split still mixes classes.
    assert len(set((holdout_indices(1000)[1] % 10).tolist())) > 5


def test_fingerprint_follows_the_data(tmp_path):
    pixels = images(10)
    np.savez(tmp_path / "a.npz", images=pixels, labels=np.arange(10) % 2)
    np.savez(tmp_path / "same.npz", images=pixels, labels=np.arange(10) % 2)
    changed = pixels.copy()
    changed[3, 2, 1] ^= 1
    np.savez(tmp_path / "pixel.npz", images=changed, labels=np.arange(10) % 2)
    np.savez(tmp_path / "label.npz", images=pixels, labels=np.arange(10) % 3)
    names = ("a", "same", "pixel", "label")
    prints = {name: load_dataset(tmp_path / f"{name}.npz").fingerprint for name in names}
    assert prints["a"] == prints["same"]
    assert len({prints["a"], prints["pixel"], prints["label"]}) == 3


def test_data_budget_is_enforced_before_reading(tmp_path, monkeypatch):
    np.savez(tmp_path / "a.npz", images=images(100, 16, 16))
    monkeypatch.setenv("GENAI_LAB_MAX_DATA_BYTES", "10000")
    with pytest.raises(DataError, match="GENAI_LAB_MAX_DATA_BYTES"):
        load_dataset(tmp_path / "a.npz")
    monkeypatch.setenv("GENAI_LAB_MAX_DATA_BYTES", "100000")
    assert len(load_dataset(tmp_path / "a.npz").train) == 90


def test_names_beat_paths_but_dot_slash_means_the_folder(tmp_path, monkeypatch):
    save_pngs(tmp_path / "fashion-mnist", images(4, 3, 3, c=1))
    monkeypatch.chdir(tmp_path)
    assert load_dataset("./fashion-mnist").image_shape == (1, 3, 3)
    assert load_dataset("fashion-mnist").image_shape == (1, 28, 28)


def test_npz_bytes_helper_matches_numpy(tmp_path):
    # The corpus writes archives by hand; make sure its good files are what numpy writes.
    put(tmp_path / "hand.npz", npz_bytes({"images.npy": npy_bytes(images(5))}))
    np.testing.assert_array_equal(np.load(tmp_path / "hand.npz")["images"], images(5))


def test_large_jpeg_decoded_at_reduced_scale_stays_close(tmp_path):
    y, x = np.mgrid[0:600, 0:800]
    photo = np.stack([128 + 100 * np.sin(x / 50 + y / 90), 128 + 100 * np.cos(y / 60), x * 255 / 800], -1)
    put(tmp_path / "a.jpg", image_bytes(photo.clip(0, 255).astype(np.uint8), "JPEG"))
    put(tmp_path / "b.jpg", image_bytes(photo[::-1].clip(0, 255).astype(np.uint8), "JPEG"))
    with pytest.warns(DataWarning, match="2 of 2 images resized to 32x32"):
        got = read_image_set(tmp_path, image_size=32).images[0]
    with Image.open(tmp_path / "a.jpg") as full:
        box = pillow_box(600, 800, 32, 32)
        expected = np.asarray(full.resize((32, 32), Image.Resampling.BILINEAR, box=box))
    # DCT scaling averages blocks first, so the result is a touch softer than a full decode.
    assert np.abs(got.astype(int) - expected).mean() < 3


def test_sixteen_bit_png_scaled_to_eight_bits(tmp_path):
    values = ((np.arange(64).reshape(8, 8) * 1000) % 65536).astype(np.uint16)
    values[0, :3] = (0, 65535, 257 * 77)
    for i in range(2):
        put(tmp_path / f"{i}.png", image_bytes(values, mode="I;16"))
    with pytest.warns(DataWarning, match="16-bit"):
        got = read_image_set(tmp_path).images[0, ..., 0]
    assert got[0, :3].tolist() == [0, 255, 77]
    np.testing.assert_array_equal(got, np.rint(values / 257).astype(np.uint8))
