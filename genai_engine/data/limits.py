"""Bounds every reader checks *before* it allocates, so no header can force a giant allocation.

A file's header (IDX dimensions, an ``.npy`` shape, a PNG's width and height, a zip member's
size) is a claim. Readers compare each claim with these limits and with the bytes the file can
really hold, then read in chunks, so memory grows with the data actually present and never
beyond ``max_data_bytes()``.
"""

from __future__ import annotations

import os

from genai_engine.errors import DataError

# Decoded pixel data one dataset may occupy; GENAI_LAB_MAX_DATA_BYTES raises it for big data.
DEFAULT_MAX_DATA_BYTES = 4 * 2**30
# One source image in a folder (before resizing); lower than Pillow's own 89 M-pixel warning.
MAX_SOURCE_PIXELS = 64 * 2**20
# Labels are class indices 0 .. MAX_CLASSES-1; larger values are corrupt data, not classes.
MAX_CLASSES = 10_000
# Reading step for compressed streams: bounds the memory a single read can claim.
CHUNK_BYTES = 4 * 2**20
# Deflate cannot expand data by more than ~1032:1, so a gzip/zip member claiming more is lying.
MAX_DEFLATE_RATIO = 1100
# Longest npy header accepted (numpy's own default limit).
MAX_NPY_HEADER_BYTES = 10_000


def max_data_bytes() -> int:
    """The byte budget for one dataset's pixels (environment override, else 4 GiB)."""
    value = os.environ.get("GENAI_LAB_MAX_DATA_BYTES", "")
    try:
        parsed = int(value)
    except ValueError:
        return DEFAULT_MAX_DATA_BYTES
    return parsed if parsed > 0 else DEFAULT_MAX_DATA_BYTES


def format_bytes(count: int) -> str:
    """A short human size: 512 B, 47.0 MB, 3.2 GB."""
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def check_budget(where: str, claimed_bytes: int, what: str) -> None:
    """Refuse a claim larger than the data budget, before anything is allocated for it."""
    limit = max_data_bytes()
    if claimed_bytes > limit:
        raise DataError(
            f"{where}: {what} would need {format_bytes(claimed_bytes)}, more than the "
            f"{format_bytes(limit)} limit for one dataset (the file is corrupt, or set "
            f"GENAI_LAB_MAX_DATA_BYTES to allow more)"
        )
