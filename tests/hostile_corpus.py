"""A corpus of hostile and odd data files, written on demand, for every test that feeds files in.

Each writer takes an *empty* folder of its own, writes its file(s) there and returns the path to
hand to ``load_dataset`` (or ``genai-lab train --dataset``, or the app's dataset picker):

- ``HOSTILE_DATA_FILES[name](folder) -> Path``: must fail with ONE ``DataError`` (CLI: exit
  non-zero, one line) whose text names ``HOSTILE_DATA_CASES[name].blame`` and contains one of its
  ``problem`` phrases; memory stays small (nothing is sized from a header).
- ``ODD_DATA_FILES[name](folder) -> Path``: unusual but valid; must load, and ``Dataset.notes``
  must mention ``ODD_DATA_CASES[name].note`` (what was converted).
- ``write_corpus(root)`` writes every case into ``root/<name>/`` and returns {name: path}.

The ``npz_pickle_exploit`` file would create the folder ``PICKLE_MARKER`` next to itself if
anything unpickled it; a test checks it never appears. No writer needs more than a few KB.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

PICKLE_MARKER = "PICKLE-RAN-CODE"

Writer = Callable[[Path], Path]


@dataclass(frozen=True)
class HostileCase:
    name: str
    write: Writer
    problem: tuple[str, ...]  # the error text (lower-cased) contains one of these
    blame: str | None  # a file name the error must contain; None: the returned path's name


@dataclass(frozen=True)
class OddCase:
    name: str
    write: Writer
    note: str  # ``Dataset.notes`` (joined, lower-cased) contains this; "" when nothing changes
    image_shape: tuple[int, int, int]  # expected (C, H, W)


HOSTILE_DATA_CASES: dict[str, HostileCase] = {}
ODD_DATA_CASES: dict[str, OddCase] = {}


def _hostile(*problem: str, blame: str | None = None) -> Callable[[Writer], Writer]:
    def register(write: Writer) -> Writer:
        HOSTILE_DATA_CASES[write.__name__] = HostileCase(write.__name__, write, problem, blame)
        return write

    return register


def _odd(note: str, image_shape: tuple[int, int, int]) -> Callable[[Writer], Writer]:
    def register(write: Writer) -> Writer:
        ODD_DATA_CASES[write.__name__] = OddCase(write.__name__, write, note, image_shape)
        return write

    return register


# --------------------------------------------------------------------------------- helpers


def images(n: int = 20, h: int = 8, w: int = 8, c: int | None = None, seed: int = 0) -> np.ndarray:
    shape = (n, h, w) if c is None else (n, h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def idx_bytes(array: np.ndarray, type_code: int = 0x08, shape: tuple[int, ...] | None = None) -> bytes:
    """An IDX file: header for ``shape`` (default: the array's), then the array big-endian."""
    shape = array.shape if shape is None else shape
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    header = bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return header + np.asarray(array).astype(dtype).tobytes()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def raw_npy(header: str, payload: bytes) -> bytes:
    """A version-1 .npy with any header text, padded as numpy pads it."""
    text = header.encode("latin1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload


def npz_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def image_bytes(array: np.ndarray, fmt: str = "PNG", mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    if mode is not None:
        image = image.convert(mode)
    image.save(buffer, fmt)
    return buffer.getvalue()


def png_with_size(width: int, height: int) -> bytes:
    """A well-formed PNG header claiming any size, with a few bytes of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def idx_folder(folder: Path, n_train: int = 20, n_test: int = 10, gzip_it: bool = True) -> Path:
    """A good MNIST-style folder of four files (used by the hostile cases that spoil one)."""
    suffix = ".gz" if gzip_it else ""
    pack = gz if gzip_it else (lambda data: data)
    labels = np.arange(max(n_train, n_test)) % 10
    put(folder / f"train-images-idx3-ubyte{suffix}", pack(idx_bytes(images(n_train))))
    put(folder / f"train-labels-idx1-ubyte{suffix}", pack(idx_bytes(labels[:n_train])))
    put(folder / f"t10k-images-idx3-ubyte{suffix}", pack(idx_bytes(images(n_test, seed=1))))
    put(folder / f"t10k-labels-idx1-ubyte{suffix}", pack(idx_bytes(labels[:n_test])))
    return folder


# ----------------------------------------------------------------------------- IDX, hostile


@_hostile("truncated")
def idx_truncated_gzip(folder: Path) -> Path:
    data = gz(idx_bytes(images(50)))
    return put(folder / "train-images-idx3-ubyte.gz", data[: len(data) // 2])


@_hostile("corrupt")
def idx_corrupt_gzip(folder: Path) -> Path:
    data = bytearray(gz(idx_bytes(np.zeros((50, 8, 8), np.uint8))))  # compressible: real deflate
    data[20:30] = b"\xff" * 10
    return put(folder / "train-images-idx3-ubyte.gz", bytes(data))


@_hostile("corrupt")
def idx_gzip_bad_crc(folder: Path) -> Path:
    data = bytearray(gz(idx_bytes(images(20))))
    data[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    return put(folder / "train-images-idx3-ubyte.gz", bytes(data))


@_hostile("corrupt")
def idx_gzip_trailing_garbage(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte.gz", gz(idx_bytes(images(20))) + b"garbage!")


@_hostile("not gzip")
def idx_named_gz_not_gzip(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte.gz", b"\x00\x00\x08\x03" * 40)


@_hostile("not an idx file")
def idx_wrong_magic(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", b"\x12\x34\x56\x78" + bytes(400))


@_hostile("labels file")
def idx_labels_given_as_images(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", idx_bytes(np.arange(20) % 10))


@_hostile("unsigned bytes")
def idx_float_images(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", idx_bytes(images(5).astype(np.float32), 0x0D))


@_hostile("3 dimensions")
def idx_two_dimensional_images(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", idx_bytes(images(5).reshape(5, 64)))


@_hostile("limit")
def idx_billions_of_images_raw(folder: Path) -> Path:
    header = idx_bytes(np.zeros(0, np.uint8), shape=(3_000_000_000, 28, 28))
    return put(folder / "train-images-idx3-ubyte", header + bytes(100))


@_hostile("limit")
def idx_billions_of_images_gz(folder: Path) -> Path:
    header = idx_bytes(np.zeros(0, np.uint8), shape=(4_000_000_000, 28, 28))
    return put(folder / "train-images-idx3-ubyte.gz", gz(header + bytes(100)))


@_hostile("limit")
def idx_giant_image_dimensions(folder: Path) -> Path:
    header = idx_bytes(np.zeros(0, np.uint8), shape=(1, 4_000_000_000, 4_000_000_000))
    return put(folder / "train-images-idx3-ubyte", header + bytes(100))


@_hostile("cannot hold")
def idx_claim_beyond_gzip_ratio(folder: Path) -> Path:
    # 1,000,000 images of 28x28 = 784 MB: within the data budget, impossible for 100 bytes of gzip
    header = idx_bytes(np.zeros(0, np.uint8), shape=(1_000_000, 28, 28))
    return put(folder / "train-images-idx3-ubyte.gz", gz(header + bytes(10)))


@_hostile("truncated")
def idx_truncated_raw(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", idx_bytes(images(10), shape=(20, 8, 8)))


@_hostile("truncated")
def idx_truncated_inside_gzip(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte.gz", gz(idx_bytes(images(10), shape=(20, 8, 8))))


@_hostile("unexpected")
def idx_trailing_bytes_raw(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", idx_bytes(images(10)) + b"extra")


@_hostile("empty")
def idx_zero_byte_file(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", b"")


@_hostile("empty")
def idx_zero_byte_gz(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte.gz", b"")


@_hostile("no images")
def idx_zero_images(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", idx_bytes(np.zeros((0, 8, 8), np.uint8)))


@_hostile("truncated")
def idx_header_cut_short(folder: Path) -> Path:
    return put(folder / "train-images-idx3-ubyte", b"\x00\x00\x08\x03\x00\x00")


@_hostile("counts must match", blame="train-labels-idx1-ubyte.gz")
def idx_label_count_mismatch(folder: Path) -> Path:
    idx_folder(folder)
    put(folder / "train-labels-idx1-ubyte.gz", gz(idx_bytes(np.arange(19) % 10)))
    return folder


@_hostile("out of range", blame="train-labels-idx1-ubyte")
def idx_negative_labels(folder: Path) -> Path:
    put(folder / "train-images-idx3-ubyte", idx_bytes(images(20)))
    put(folder / "train-labels-idx1-ubyte", idx_bytes(np.arange(20) - 3, 0x0C))
    return folder / "train-images-idx3-ubyte"


@_hostile("out of range", blame="train-labels-idx1-ubyte")
def idx_huge_labels(folder: Path) -> Path:
    put(folder / "train-images-idx3-ubyte", idx_bytes(images(20)))
    put(folder / "train-labels-idx1-ubyte", idx_bytes(np.full(20, 10**9), 0x0C))
    return folder / "train-images-idx3-ubyte"


@_hostile("integers", blame="train-labels-idx1-ubyte")
def idx_float_labels(folder: Path) -> Path:
    put(folder / "train-images-idx3-ubyte", idx_bytes(images(20)))
    put(folder / "train-labels-idx1-ubyte", idx_bytes(np.zeros(20), 0x0D))
    return folder / "train-images-idx3-ubyte"


@_hostile("several", blame="emnist-train-images-idx3-ubyte.gz")
def idx_folder_two_datasets(folder: Path) -> Path:
    idx_folder(folder)
    put(folder / "emnist-train-images-idx3-ubyte.gz", gz(idx_bytes(images(20))))
    return folder


@_hostile("no test labels")
def idx_folder_missing_test_labels(folder: Path) -> Path:
    idx_folder(folder)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    return folder


# ----------------------------------------------------------------------------- npz, hostile


@_hostile("pickle")
def npz_object_array(folder: Path) -> Path:
    buffer = io.BytesIO()
    np.save(buffer, np.array([1, "two", None], dtype=object), allow_pickle=True)
    return put(folder / "data.npz", npz_bytes({"images.npy": buffer.getvalue()}))


class _RunsCode:
    """Unpickling this calls ``os.mkdir(target)``: proof that a reader executed a pickle."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


@_hostile("pickle")
def npz_pickle_exploit(folder: Path) -> Path:
    buffer = io.BytesIO()
    payload = np.array([_RunsCode(str(folder / PICKLE_MARKER))], dtype=object)
    np.save(buffer, payload, allow_pickle=True)
    members = {"images.npy": buffer.getvalue(), "labels.npy": buffer.getvalue()}
    return put(folder / "data.npz", npz_bytes(members))


@_hostile("no array named 'images'")
def npz_missing_images(folder: Path) -> Path:
    return put(folder / "data.npz", npz_bytes({"pixels.npy": npy_bytes(images(5))}))


@_hostile("uint8")
def npz_float_images(folder: Path) -> Path:
    return put(folder / "data.npz", npz_bytes({"images.npy": npy_bytes(images(5) / 255.0)}))


@_hostile("shape")
def npz_flat_images(folder: Path) -> Path:
    return put(folder / "data.npz", npz_bytes({"images.npy": npy_bytes(images(5).reshape(5, 64))}))


@_hostile("channel-first")
def npz_channel_first_images(folder: Path) -> Path:
    array = images(5, c=3).transpose(0, 3, 1, 2)
    return put(folder / "data.npz", npz_bytes({"images.npy": npy_bytes(np.ascontiguousarray(array))}))


@_hostile("counts must match")
def npz_label_count_mismatch(folder: Path) -> Path:
    members = {"images.npy": npy_bytes(images(10)), "labels.npy": npy_bytes(np.arange(9))}
    return put(folder / "data.npz", npz_bytes(members))


@_hostile("out of range")
def npz_negative_labels(folder: Path) -> Path:
    members = {"images.npy": npy_bytes(images(10)), "labels.npy": npy_bytes(np.arange(10) - 1)}
    return put(folder / "data.npz", npz_bytes(members))


@_hostile("out of range")
def npz_labels_beyond_class_names(folder: Path) -> Path:
    members = {
        "images.npy": npy_bytes(images(10)),
        "labels.npy": npy_bytes(np.arange(10) % 5),
        "class_names.npy": npy_bytes(np.array(["cat", "dog"])),
    }
    return put(folder / "data.npz", npz_bytes(members))


@_hostile("integers")
def npz_float_labels(folder: Path) -> Path:
    members = {"images.npy": npy_bytes(images(10)), "labels.npy": npy_bytes(np.zeros(10))}
    return put(folder / "data.npz", npz_bytes(members))


@_hostile("no images")
def npz_zero_images(folder: Path) -> Path:
    return put(folder / "data.npz", npz_bytes({"images.npy": npy_bytes(np.zeros((0, 8, 8), np.uint8))}))


@_hostile("not a readable .npz")
def npz_truncated(folder: Path) -> Path:
    data = npz_bytes({"images.npy": npy_bytes(images(20))})
    return put(folder / "data.npz", data[: len(data) * 2 // 3])


@_hostile("not a readable .npz")
def npz_random_bytes(folder: Path) -> Path:
    return put(folder / "data.npz", np.random.default_rng(3).bytes(2000))


@_hostile("empty")
def npz_zero_byte(folder: Path) -> Path:
    return put(folder / "data.npz", b"")


@_hostile("limit")
def npz_header_claims_billions(folder: Path) -> Path:
    member = raw_npy("{'descr': '|u1', 'fortran_order': False, 'shape': (10000000000, 28, 28), }", bytes(64))
    return put(folder / "data.npz", npz_bytes({"images.npy": member}))


@_hostile("truncated")
def npz_header_claims_more_than_member(folder: Path) -> Path:
    member = raw_npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1000, 28, 28), }", bytes(64))
    return put(folder / "data.npz", npz_bytes({"images.npy": member}))


@_hostile("compressed data can hold")
def npz_member_claims_gigabytes(folder: Path) -> Path:
    """A zip whose directory claims a 3 GB member (a zip bomb's signature), CRC and all."""
    data = bytearray(npz_bytes({"images.npy": npy_bytes(images(20))}))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 3_000_000_000)  # uncompressed size, central dir
    struct.pack_into("<I", data, 22, 3_000_000_000)  # and in the local header
    return put(folder / "data.npz", bytes(data))


@_hostile("structured")
def npz_structured_array(folder: Path) -> Path:
    array = np.zeros(5, dtype=[("pixels", "u1", (8, 8)), ("label", "i8")])
    return put(folder / "data.npz", npz_bytes({"images.npy": npy_bytes(array)}))


@_hostile("header")
def npz_garbage_header(folder: Path) -> Path:
    member = raw_npy("{'descr': __import__('os').system('echo hi'), }", bytes(10))
    return put(folder / "data.npz", npz_bytes({"images.npy": member}))


@_hostile("no 'test_images'")
def npz_test_labels_without_test_images(folder: Path) -> Path:
    members = {
        "images.npy": npy_bytes(images(10)),
        "labels.npy": npy_bytes(np.arange(10)),
        "test_labels.npy": npy_bytes(np.arange(5)),
    }
    return put(folder / "data.npz", npz_bytes(members))


@_hostile("no 'test_labels'")
def npz_missing_test_labels(folder: Path) -> Path:
    members = {
        "images.npy": npy_bytes(images(10)),
        "labels.npy": npy_bytes(np.arange(10)),
        "test_images.npy": npy_bytes(images(5)),
    }
    return put(folder / "data.npz", npz_bytes(members))


@_hostile("compression")
def npz_bzip2_member(folder: Path) -> Path:
    return put(folder / "data.npz", npz_bytes({"images.npy": npy_bytes(images(5))}, zipfile.ZIP_BZIP2))


# -------------------------------------------------------------------- image folders, hostile


def _pngs(folder: Path, count: int = 4, size: int = 8) -> None:
    for i in range(count):
        put(folder / f"img{i:02d}.png", image_bytes(images(1, size, size, seed=i)[0]))


@_hostile("no png or jpeg")
def folder_empty(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@_hostile("no png or jpeg")
def folder_without_images(folder: Path) -> Path:
    put(folder / "README.txt", b"not images")
    put(folder / "labels.csv", b"a,b\n")
    (folder / "empty-class").mkdir()
    return folder


@_hostile("empty", blame="zero.png")
def folder_zero_byte_png(folder: Path) -> Path:
    _pngs(folder)
    put(folder / "zero.png", b"")
    return folder


@_hostile("not a png or jpeg", blame="notes.png")
def folder_text_named_png(folder: Path) -> Path:
    _pngs(folder)
    put(folder / "notes.png", b"this is plain text, not a picture\n" * 10)
    return folder


@_hostile("not a png or jpeg", blame="photo.jpg")
def folder_random_bytes_named_jpg(folder: Path) -> Path:
    _pngs(folder)
    put(folder / "photo.jpg", np.random.default_rng(5).bytes(3000))
    return folder


@_hostile("truncated", "damaged", blame="cut.png")
def folder_truncated_png(folder: Path) -> Path:
    _pngs(folder)
    data = image_bytes(images(1, 64, 64, seed=9)[0])
    put(folder / "cut.png", data[: len(data) // 2])
    return folder


@_hostile("truncated", "damaged", blame="cut.jpg")
def folder_truncated_jpeg(folder: Path) -> Path:
    _pngs(folder)
    data = image_bytes(images(1, 64, 64, c=3, seed=9)[0], "JPEG")
    put(folder / "cut.jpg", data[: len(data) // 2])
    return folder


@_hostile("decompression-bomb", blame="huge.png")
def folder_png_decompression_bomb(folder: Path) -> Path:
    _pngs(folder)
    put(folder / "huge.png", png_with_size(100_000, 100_000))
    return folder


@_hostile("decompression-bomb", blame="big.png")
def folder_png_over_pixel_limit(folder: Path) -> Path:
    _pngs(folder)
    put(folder / "big.png", png_with_size(9000, 9000))  # 81 Mpx: under Pillow's own limit, over ours
    return folder


@_hostile("not a png or jpeg", blame="scan.png")
def folder_tiff_named_png(folder: Path) -> Path:
    _pngs(folder)
    put(folder / "scan.png", image_bytes(images(1, 8, 8)[0], "TIFF"))
    return folder


@_hostile("not a png or jpeg", blame="anim.jpg")
def folder_gif_named_jpg(folder: Path) -> Path:
    _pngs(folder)
    put(folder / "anim.jpg", image_bytes(images(1, 8, 8)[0], "GIF"))
    return folder


@_hostile("both loose images")
def folder_loose_images_and_classes(folder: Path) -> Path:
    _pngs(folder / "cats")
    _pngs(folder, 2)
    return folder


@_hostile("does not exist in train")
def folder_test_class_unknown(folder: Path) -> Path:
    _pngs(folder / "train" / "cats")
    _pngs(folder / "train" / "dogs")
    _pngs(folder / "test" / "cats")
    _pngs(folder / "test" / "birds")
    return folder


@_hostile("same layout")
def folder_train_classes_test_flat(folder: Path) -> Path:
    _pngs(folder / "train" / "cats")
    _pngs(folder / "test")
    return folder


@_hostile("at least 2")
def folder_single_image(folder: Path) -> Path:
    _pngs(folder, 1)
    return folder


@_hostile("single image")
def single_png_file(folder: Path) -> Path:
    return put(folder / "picture.png", image_bytes(images(1)[0]))


@_hostile("no such file")
def missing_path(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "does-not-exist"


@_hostile("unsupported")
def unsupported_file(folder: Path) -> Path:
    return put(folder / "data.csv", b"pixel0,pixel1\n0,255\n")


# ------------------------------------------------------------------------- odd but readable


@_odd("resized", (1, 8, 8))
def odd_mixed_sizes(folder: Path) -> Path:
    _pngs(folder, 4, 8)
    put(folder / "wide.png", image_bytes(images(1, 8, 20)[0]))
    put(folder / "tall.png", image_bytes(images(1, 30, 10)[0]))
    return folder


@_odd("16-bit", (3, 8, 8))
def odd_mixed_modes(folder: Path) -> Path:
    grey = images(1, 8, 8)[0]
    colour = images(1, 8, 8, c=3)[0]
    put(folder / "a-grey.png", image_bytes(grey))
    put(folder / "b-rgb.png", image_bytes(colour))
    put(folder / "c-rgba.png", image_bytes(images(1, 8, 8, c=4)[0]))
    put(folder / "d-palette.png", image_bytes(colour, mode="P"))
    put(folder / "e-bilevel.png", image_bytes(grey, mode="1"))
    put(folder / "f-grey-alpha.png", image_bytes(grey, mode="LA"))
    put(folder / "g-16bit.png", image_bytes((grey.astype(np.uint16) * 257), mode="I;16"))
    put(folder / "h-photo.jpg", image_bytes(colour, "JPEG"))
    put(folder / "i-cmyk.jpg", image_bytes(colour, "JPEG", mode="CMYK"))
    return folder


@_odd("transparency", (1, 8, 8))
def odd_grey_with_alpha_stays_grey(folder: Path) -> Path:
    grey = images(3, 8, 8)
    for i in range(3):
        put(folder / f"g{i}.png", image_bytes(grey[i], mode="LA"))
    put(folder / "bits.png", image_bytes(grey[0], mode="1"))
    return folder


@_odd("", (1, 8, 8))
def odd_idx_multi_member_gzip(folder: Path) -> Path:
    data = idx_bytes(images(20))
    put(folder / "train-images-idx3-ubyte.gz", gz(data[:100]) + gz(data[100:]))
    return folder / "train-images-idx3-ubyte.gz"


@_odd("", (1, 8, 8))
def odd_idx_plain_and_gz_side_by_side(folder: Path) -> Path:
    idx_folder(folder, gzip_it=True)
    idx_folder(folder, gzip_it=False)
    return folder


@_odd("alpha", (3, 8, 8))
def odd_npz_rgba(folder: Path) -> Path:
    return put(folder / "data.npz", npz_bytes({"images.npy": npy_bytes(images(10, c=4))}))


@_odd("grey images", (3, 8, 8))
def odd_npz_grey_train_rgb_test(folder: Path) -> Path:
    members = {"images.npy": npy_bytes(images(10)), "test_images.npy": npy_bytes(images(4, c=3))}
    return put(folder / "data.npz", npz_bytes(members))


@_odd("", (1, 8, 8))
def odd_npz_keras_names(folder: Path) -> Path:
    members = {
        "x_train.npy": npy_bytes(images(10)),
        "y_train.npy": npy_bytes(np.arange(10, dtype=np.uint8)),
        "x_test.npy": npy_bytes(images(4)),
        "y_test.npy": npy_bytes(np.arange(4, dtype=np.uint8)),
    }
    return put(folder / "mnist.npz", npz_bytes(members))


HOSTILE_DATA_FILES: dict[str, Writer] = {name: case.write for name, case in HOSTILE_DATA_CASES.items()}
ODD_DATA_FILES: dict[str, Writer] = {name: case.write for name, case in ODD_DATA_CASES.items()}


def write_corpus(root: Path) -> dict[str, Path]:
    """Write every hostile and odd case into ``root/<name>/``; {name: path to load}."""
    return {
        name: write(root / name)
        for name, write in {**HOSTILE_DATA_FILES, **ODD_DATA_FILES}.items()
    }
