"""``.npz`` archives (``np.savez`` / ``np.savez_compressed``), read without pickle and without
trusting their headers.

Arrays read (other members are ignored, never decompressed):
``images`` uint8 (N, H, W) or (N, H, W, C); optional ``labels`` (N,) integers; optional
``test_images`` / ``test_labels``; optional ``class_names`` (strings). The Keras names
``x_train``, ``y_train``, ``x_test``, ``y_test`` are accepted as aliases.

``np.load`` is not used: it allocates the full shape an ``.npy`` header claims before reading a
byte. Here each member's header is parsed by hand (``ast.literal_eval``, length-capped), object
and structured dtypes are refused outright (so nothing is ever unpickled), the claimed size is
checked against the member's real size and the data budget, and the bytes are read in chunks.
"""

from __future__ import annotations

import ast
import struct
import zipfile
from math import prod
from pathlib import Path

import numpy as np

from genai_engine.data.bounded_io import STREAM_ERRORS, DataStream, file_size
from genai_engine.data.limits import MAX_DEFLATE_RATIO, MAX_NPY_HEADER_BYTES, check_budget
from genai_engine.errors import DataError

ALIASES = {
    "images": ("images", "x_train"),
    "labels": ("labels", "y_train"),
    "test_images": ("test_images", "x_test"),
    "test_labels": ("test_labels", "y_test"),
    "class_names": ("class_names",),
}
_NPY_MAGIC = b"\x93NUMPY"
_ACCEPTED_KINDS = "biufcU"  # numbers and strings; never objects, records or raw bytes
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
               struct.error, *STREAM_ERRORS)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of ``ALIASES`` present in ``path`` (at least ``images``), under their main names."""
    file_size(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            arrays = {}
            for key, names in ALIASES.items():
                info = _member(members, names)
                if info is not None:
                    arrays[key] = _read_member(path, archive, info)
    except DataError:
        raise
    except _ZIP_ERRORS as error:
        raise DataError(
            f"{path}: not a readable .npz archive ({error or type(error).__name__})"
        ) from None
    if "images" not in arrays:
        found = ", ".join(sorted(name.removesuffix(".npy") for name in members)) or "nothing"
        raise DataError(f"{path}: has no array named 'images' (it holds: {found})")
    return arrays


def _member(members: dict[str, zipfile.ZipInfo], names: tuple[str, ...]) -> zipfile.ZipInfo | None:
    for name in names:
        for member in (f"{name}.npy", name):
            if member in members:
                return members[member]
    return None


def _read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    where = f"{path} [{info.filename}]"
    if info.flag_bits & 0x1:
        raise DataError(f"{where}: is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise DataError(f"{where}: uses a compression numpy never writes ({info.compress_type})")
    if info.file_size > max(info.compress_size, 1) * MAX_DEFLATE_RATIO:
        raise DataError(f"{where}: claims {info.file_size} bytes, more than its compressed data can hold")
    check_budget(where, info.file_size, "the array")
    with archive.open(info) as member:
        stream = DataStream(where, member, compressed=False, size=info.file_size)
        dtype, shape, fortran, header_bytes = _read_header(stream)
        claimed = prod(shape) * dtype.itemsize
        what = f"an array of shape {shape}"
        check_budget(where, claimed, what)
        stream.check_claim(header_bytes, claimed, what)
        if claimed == 0:
            return np.empty(shape, dtype=dtype)
        buffer = stream.read_exact(claimed, what)
        stream.expect_end(what)
    array = np.frombuffer(buffer, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return np.ascontiguousarray(array)


def _read_header(stream: DataStream) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """Parse an .npy header: (dtype, shape, fortran_order, bytes before the data)."""
    where = stream.where
    prefix = bytes(stream.read_exact(8, "the .npy header"))
    if prefix[:6] != _NPY_MAGIC:
        raise DataError(f"{where}: is not a .npy array (bad magic bytes)")
    major = prefix[6]
    if major not in (1, 2, 3):
        raise DataError(f"{where}: unknown .npy format version {major}")
    size_bytes = 2 if major == 1 else 4
    length_bytes = bytes(stream.read_exact(size_bytes, "the .npy header"))
    (length,) = struct.unpack("<H" if major == 1 else "<I", length_bytes)
    if length > MAX_NPY_HEADER_BYTES:
        raise DataError(f"{where}: .npy header of {length} bytes is too long to be genuine")
    raw = bytes(stream.read_exact(length, "the .npy header"))
    try:
        text = raw.decode("utf-8" if major == 3 else "latin1")
        header = ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError, UnicodeDecodeError):
        raise DataError(f"{where}: the .npy header is not readable") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise DataError(f"{where}: the .npy header lacks descr/fortran_order/shape")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(descr, str):
        raise DataError(f"{where}: holds a structured (record) array; save plain arrays instead")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise DataError(f"{where}: unknown dtype {descr[:40]!r}") from None
    if dtype.hasobject:
        raise DataError(
            f"{where}: holds Python objects, which only pickle can read; refused for safety "
            "(save plain numeric arrays)"
        )
    if dtype.kind not in _ACCEPTED_KINDS or dtype.itemsize == 0:
        raise DataError(f"{where}: unsupported dtype {dtype}")
    if not isinstance(fortran, bool) or not isinstance(shape, tuple) or len(shape) > 8 or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise DataError(f"{where}: the .npy header has an invalid shape or order")
    return dtype, shape, fortran, 8 + size_bytes + length
