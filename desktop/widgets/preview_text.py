"""How the Train tab's preview box names what it shows, by the family's ``preview_kind``
(``Family.preview_kind``; the idle preview of an open model is reconstructions or samples)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PreviewText:
    """How the preview box names what it shows (a family's ``preview_kind``)."""

    title: str
    caption: str
    tooltip: str
    paired: bool  # a row of inputs over a row of outputs


PREVIEWS = {
    "reconstructions": PreviewText(
        "Test images and reconstructions", "top: test images · bottom: reconstructions",
        "Top row: test images. Bottom row: the model's reconstructions (decoded from the mean of "
        "each image's code)", True),
    "samples": PreviewText(
        "Samples", "fixed-noise samples",
        "Images generated from the same fixed noise after every update: watch them sharpen", False),
    "predictions": PreviewText(
        "Test images and predictions",
        "top: test images at the model's levels · bottom: each pixel predicted from the pixels before it",
        "Top row: test images rounded to the model's K levels. Bottom row: every pixel as the model "
        "predicts it from the true pixels above and to its left (the mean of its distribution: grey "
        "where it is unsure). Drawing samples takes a pass per pixel, too slow to repeat while "
        "training on a CPU; they appear here when training ends.", True),
}
