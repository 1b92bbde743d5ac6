"""Folders of PNG/JPEG images (``.png``, ``.jpg``, ``.jpeg``, any case).

Layout
- ``root/train/`` (and optionally ``root/test/``) are the two splits; without ``test/`` a test
  split is held out (see ``splits.py``). Other entries beside them are ignored.
- Otherwise ``root`` itself is the one set of images.
- Within a set: images directly inside (no labels), or one sub-folder per class (the ImageFolder
  layout: labels index the sorted sub-folder names; images may sit deeper inside a class folder;
  sub-folders without images are skipped). A set holding both loose images and class folders is
  refused as ambiguous. Test classes must also exist in train. Hidden names (leading ``.``) and
  files with other extensions are skipped.

Size rule: every image becomes ``image_size`` x ``image_size`` when that is given, else the size
(H x W) most images have (ties: the larger). Other images are centre-cropped to that aspect ratio
and resized with Pillow's antialiased bilinear filter; a note (and a ``DataWarning``) says how
many. A JPEG much larger than the target is decoded at 1/2-1/8 scale by libjpeg (never below
twice the final size) before that resize: far less time and memory for folders of photos.

Channel rule: when every image is grey (L, 1-bit, 16-bit grey, grey palette, grey + alpha) the
data stays 1-channel; when any is colour, all become RGB. Alpha is composited onto black, 16-bit
values are scaled to 8 bits (divided by 257, rounded), palettes are expanded, CMYK/YCbCr become
RGB, and a JPEG's EXIF orientation is applied.

Safety: only Pillow's PNG and JPEG decoders run (a TIFF, EPS or anything else renamed ``.png``
is refused, never parsed); each image's size is checked from its header before it is decoded
(``MAX_SOURCE_PIXELS``); the whole output is checked against the data budget before it is
allocated. Any unreadable file stops the load with a DataError naming it.
"""

from __future__ import annotations

import math
import os
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genai_engine.data.arrays import check_image_size, common_size, composite_alpha
from genai_engine.data.limits import MAX_CLASSES, MAX_SOURCE_PIXELS, check_budget
from genai_engine.data.resize import crop_box, pillow_box
from genai_engine.errors import DataError

if TYPE_CHECKING:
    from PIL import Image

# Pillow is imported inside the functions that decode: importing genai_engine.data (every CLI
# command does) should not pay for it.

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})
_FORMATS = ("PNG", "JPEG")  # the JPEG opener also returns the multi-picture (MPO) JPEGs
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_EXIF_ORIENTATION = 0x0112
_ORIENT = {  # EXIF orientation -> the ``Image.Transpose`` that shows the image upright
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


@dataclass
class ImageFiles:
    """One set found in a folder: image paths, class indices (or None) and class names."""

    folder: Path
    paths: list[Path]
    labels: list[int] | None
    class_names: list[str] | None


def _visible(name: str) -> bool:
    return not name.startswith(".") and name != "__MACOSX"


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def list_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """Visible (files, folders) of ``folder``, sorted by name."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted((e for e in scan if _visible(e.name)), key=lambda e: e.name)
            files = [Path(e.path) for e in entries if e.is_file()]
            dirs = [Path(e.path) for e in entries if e.is_dir()]
    except OSError as error:
        raise DataError(f"{folder}: cannot be listed ({error.strerror or error})") from None
    return files, dirs


def _images_below(folder: Path) -> list[Path]:
    found = []
    # followlinks=False: a symlink loop cannot make the walk endless.
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if _visible(d))
        found += [Path(dirpath) / f for f in sorted(filenames) if _visible(f) and _is_image(f)]
    return found


def scan_set(folder: Path) -> ImageFiles:
    """The images of one set: loose files (unlabelled) or class sub-folders (labelled)."""
    files, dirs = list_folder(folder)
    loose = [f for f in files if _is_image(f.name)]
    classes = [(d.name, images) for d in dirs if (images := _images_below(d))]
    if loose and classes:
        raise DataError(
            f"{folder}: holds both loose images ({loose[0].name}, ...) and class sub-folders "
            f"({classes[0][0]}, ...); move the loose images into a class folder or elsewhere"
        )
    if len(classes) > MAX_CLASSES:
        raise DataError(f"{folder}: has {len(classes)} class folders, more than {MAX_CLASSES}")
    if classes:
        paths = [p for _, images in classes for p in images]
        labels = [i for i, (_, images) in enumerate(classes) for _ in images]
        return ImageFiles(folder, paths, labels, [name for name, _ in classes])
    if loose:
        return ImageFiles(folder, loose, None, None)
    others = [f.name for f in files]
    seen = f" (it holds {len(others)} other files, e.g. {others[0]})" if others else ""
    raise DataError(f"{folder}: no PNG or JPEG images found{seen}")


def scan_folder(root: Path) -> tuple[ImageFiles, ImageFiles | None]:
    """(train, test or None) for an image folder, by the layout in the module docstring."""
    _, dirs = list_folder(root)
    by_name = {d.name.lower(): d for d in dirs}
    if "train" not in by_name:
        return scan_set(root), None
    train = scan_set(by_name["train"])
    test = scan_set(by_name["test"]) if "test" in by_name else None
    if test is not None:
        _align_classes(train, test)
    return train, test


def _align_classes(train: ImageFiles, test: ImageFiles) -> None:
    """Re-index test labels by the train class names (the model's classes)."""
    if (train.labels is None) != (test.labels is None):
        labelled, flat = (train, test) if test.labels is None else (test, train)
        raise DataError(
            f"{flat.folder}: has no class sub-folders but {labelled.folder} has; "
            "use the same layout in train/ and test/"
        )
    if train.class_names is None or test.class_names is None or test.labels is None:
        return
    index = {name: i for i, name in enumerate(train.class_names)}
    missing = [name for name in test.class_names if name not in index]
    if missing:
        raise DataError(f"{test.folder}: class folder {missing[0]!r} does not exist in train/")
    test.labels = [index[test.class_names[label]] for label in test.labels]
    test.class_names = train.class_names


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_png_chunks(path: Path, size: int) -> None:
    """A PNG chunk whose length field claims more bytes than the file holds is damage; Pillow
    would first allocate a buffer of the claimed length (up to 2 GB) to read it."""
    with open(path, "rb") as handle:
        if handle.read(8) != PNG_SIGNATURE:
            return  # not a PNG: Pillow identifies it (or refuses it) itself
        position = 8
        while position + 8 <= size:
            handle.seek(position)
            header = handle.read(8)
            length = int.from_bytes(header[:4], "big")
            if position + 12 + length > size:
                raise DataError(f"{path}: is damaged (a PNG chunk claims {length:,} bytes, more than "
                                "the file holds)")
            if header[4:8] == b"IEND":
                return
            position += 12 + length


def _open(path: Path) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # a FIFO or device would block or never end
            raise DataError(f"{path}: is not a regular file")
        if status.st_size == 0:
            raise DataError(f"{path}: is empty (0 bytes), not an image")
        _check_png_chunks(path, status.st_size)
        return Image.open(path, formats=_FORMATS)
    except DataError:
        raise
    except UnidentifiedImageError:
        raise DataError(f"{path}: is not a PNG or JPEG image (unknown or damaged content)") from None
    except Image.DecompressionBombError:
        raise DataError(
            f"{path}: claims too many pixels to decode safely (decompression-bomb guard)"
        ) from None
    except Exception as error:  # Pillow's parsers raise many types on hostile headers
        raise DataError(f"{path}: cannot be read as an image ({error or type(error).__name__})") from None


def _orientation(image: Image.Image) -> int:
    if image.format not in ("JPEG", "MPO"):
        return 1  # a PNG's EXIF may sit after the pixels; reading it would decode the image
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # broken EXIF: show the pixels as stored rather than refuse the image
        return 1
    return value if value in _ORIENT else 1


def _is_colour(image: Image.Image) -> bool:
    if image.mode in _GREY_MODES:
        return False
    if image.mode in ("P", "PA"):
        palette = np.asarray(image.getpalette() or [], dtype=np.int16).reshape(-1, 3)
        return bool((palette != palette[:, :1]).any())
    return True


@dataclass
class _Probe:
    height: int
    width: int
    colour: bool


def _probe(path: Path) -> _Probe:
    """Size (after EXIF orientation) and colour from the header only: nothing is decoded."""
    with _open(path) as image:
        width, height = image.size
        if width * height > MAX_SOURCE_PIXELS:
            raise DataError(
                f"{path}: is {width}x{height} pixels, more than the {MAX_SOURCE_PIXELS:,}-pixel "
                "limit for one image (decompression-bomb guard)"
            )
        if width == 0 or height == 0:
            raise DataError(f"{path}: has zero size")
        if _orientation(image) in (5, 6, 7, 8):
            width, height = height, width
        return _Probe(height, width, _is_colour(image))


def _decode(path: Path, probe: _Probe, channels: int, target: tuple[int, int], counts: Counter):
    """One image as uint8 (th, tw, channels), converted and resized by the module's rules."""
    from PIL import Image

    with _open(path) as image:
        orientation = _orientation(image)
        transposed = orientation in (5, 6, 7, 8)
        height, width = (image.width, image.height) if transposed else (image.height, image.width)
        if (height, width) != (probe.height, probe.width):
            raise DataError(f"{path}: changed while it was being read")
        if image.format in ("JPEG", "MPO"):
            _draft(image, height, width, target, transposed)
        try:
            image.load()
        except Exception as error:
            raise DataError(
                f"{path}: is damaged or truncated ({error or type(error).__name__})"
            ) from None
        if orientation != 1:
            image = image.transpose(getattr(Image.Transpose, _ORIENT[orientation]))
        image = _to_8bit(image, channels, counts)
    if (height, width) != target:
        counts["resized"] += 1
    if image.size != (target[1], target[0]):
        box = pillow_box(image.height, image.width, *target)
        image = image.resize((target[1], target[0]), Image.Resampling.BILINEAR, box=box)
    return np.asarray(image).reshape(target[0], target[1], channels)


def _draft(image: Image.Image, height: int, width: int, target: tuple[int, int], transposed: bool):
    """Let libjpeg shrink a large photo by 2-8x while decoding (DCT scaling): ~10x faster and
    smaller. It stops at twice the size the resize needs, so the final antialiased resize
    still does the fine work."""
    _, _, crop_h, crop_w = crop_box(height, width, *target)
    scale = 2 * max(target[0] / crop_h, target[1] / crop_w)
    if scale >= 0.5:
        return  # less than 2x to gain
    need_h, need_w = math.ceil(height * scale), math.ceil(width * scale)
    image.draft(image.mode, (need_h, need_w) if transposed else (need_w, need_h))


def _to_8bit(image: Image.Image, channels: int, counts: Counter) -> Image.Image:
    from PIL import Image

    mode = "L" if channels == 1 else "RGB"
    if image.mode.startswith("I") or image.mode == "F":
        counts["16-bit"] += 1
        values = np.clip(np.asarray(image), 0, 65535).astype(np.uint32)
        # (v + 128) // 257 is v / 257 rounded (never a tie: 257 is odd); 65535 -> 255.
        image = Image.fromarray(((values + 128) // 257).astype(np.uint8), "L")
    elif image.mode in _ALPHA_MODES or "transparency" in image.info:
        counts["alpha"] += 1
        rgb = composite_alpha(np.asarray(image.convert("RGBA")))
        image = Image.fromarray(rgb, "RGB")
    if image.mode != mode:
        if mode == "RGB" and image.mode in ("1", "L"):
            counts["grey->rgb"] += 1
        image = image.convert(mode)
    return image


def read_image_files(
    sets: list[ImageFiles], image_size: int | None, notes: list[str]
) -> list[np.ndarray]:
    """Decode several sets to uint8 (N, H, W, C) arrays sharing one size and channel count."""
    target = check_image_size(image_size)
    probes = [[_probe(path) for path in files.paths] for files in sets]
    every = [p for group in probes for p in group]
    sizes = Counter((p.height, p.width) for p in every)
    if target is None:
        target = common_size(sizes)
    channels = 3 if any(p.colour for p in every) else 1
    where = str(sets[0].folder.parent if len(sets) > 1 else sets[0].folder)
    check_budget(where, len(every) * target[0] * target[1] * channels, f"{len(every)} images")
    counts: Counter = Counter()
    arrays = []
    for files, group in zip(sets, probes, strict=True):
        out = np.empty((len(files.paths), target[0], target[1], channels), dtype=np.uint8)
        for i, (path, probe) in enumerate(zip(files.paths, group, strict=True)):
            out[i] = _decode(path, probe, channels, target, counts)
        arrays.append(out)
    if counts["resized"]:
        found = ", ".join(f"{h}x{w} ({n})" for (h, w), n in sizes.most_common(4))
        notes.append(
            f"{counts['resized']} of {len(every)} images resized to {target[0]}x{target[1]} "
            f"(centre crop to the aspect ratio, antialiased bilinear); sizes found: {found}"
        )
    if counts["alpha"]:
        notes.append(f"images with transparency composited onto black: {counts['alpha']}")
    if counts["16-bit"]:
        notes.append(f"16-bit images scaled to 8 bits: {counts['16-bit']}")
    if counts["grey->rgb"]:
        notes.append(f"grey images converted to RGB to match the colour ones: {counts['grey->rgb']}")
    return arrays
