"""Latent-space maths on numpy arrays: interpolation, projections, attribute vectors, and
``encode_split``, the generator that encodes a dataset split for maps and class means."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from genai_engine.tasks import TaskControl

if TYPE_CHECKING:
    from genai_engine.families.base import Encoder

ENCODE_BATCH = 500


def lerp(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """(steps, D) points on the straight line from z0 to z1, both ends included."""
    t = np.linspace(0.0, 1.0, max(int(steps), 2))[:, None]
    return ((1 - t) * z0[None] + t * z1[None]).astype(np.float32)


def slerp(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """Spherical interpolation: follows the great circle, keeping norms typical of the prior.

    Falls back to lerp when the two vectors are (anti)parallel, where the arc is undefined.
    """
    t = np.linspace(0.0, 1.0, max(int(steps), 2))[:, None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-12 or n1 < 1e-12:
        return lerp(z0, z1, steps)
    cos = float(np.clip(np.dot(z0 / n0, z1 / n1), -1.0, 1.0))
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(z0, z1, steps)
    w0 = np.sin((1 - t) * omega) / np.sin(omega)
    w1 = np.sin(t * omega) / np.sin(omega)
    return (w0 * z0[None] + w1 * z1[None]).astype(np.float32)


INTERPOLATIONS = {"lerp": lerp, "slerp": slerp}


class PCAProjection:
    """Project latent codes to 2-D (identity for 2-D codes) and map 2-D points back.

    ``inverse`` puts a 2-D point on the plane through the data mean spanned by the two
    principal axes, so moving over the map decodes plausible codes.
    """

    def __init__(self, codes: np.ndarray) -> None:
        codes = np.asarray(codes, dtype=np.float64)
        self.mean = codes.mean(0)
        if codes.shape[1] == 2:
            self.mean = np.zeros(2)
            self.axes = np.eye(2)
        else:
            _, _, vt = np.linalg.svd(codes - self.mean, full_matrices=False)
            self.axes = vt[:2]

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        return ((np.asarray(codes, np.float64) - self.mean) @ self.axes.T).astype(np.float32)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        return (self.mean + np.asarray(points, np.float64) @ self.axes).astype(np.float32)


def class_means(codes: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, D) mean code of each class (zeros for a class with no member), one matrix product."""
    one_hot = np.eye(num_classes)[labels]  # (N, K)
    counts = one_hot.sum(0)[:, None]
    return (one_hot.T @ codes / np.maximum(counts, 1)).astype(np.float32)


def attribute_vector(means: np.ndarray, towards: int, away_from: int) -> np.ndarray:
    """mean(class A) - mean(class B): adding it moves a code from looking like B to like A."""
    return (means[towards] - means[away_from]).astype(np.float32)


def sort_dims_by_kl(kl_per_dim: np.ndarray, active_threshold: float = 0.01):
    """Dimension order (most informative first) and a mask of 'active' units (KL > threshold)."""
    kl = np.asarray(kl_per_dim, dtype=np.float64)
    return np.argsort(-kl, kind="stable"), kl > active_threshold


@dataclass
class EncodeProgress:
    done: int
    total: int


@dataclass
class EncodedSplit:
    """An encoded split: what a latent map, its clicks and the class means are computed from."""

    model: Encoder
    codes: np.ndarray  # (N, D) posterior means
    labels: np.ndarray | None
    projection: PCAProjection
    xy: np.ndarray  # (N, 2)
    means: np.ndarray | None  # (K, D) class means


def encode_split(model: Encoder, images: np.ndarray, labels: np.ndarray | None,
                 num_classes: int, control: TaskControl | None = None,
                 batch_size: int = ENCODE_BATCH) -> Iterator[EncodeProgress | EncodedSplit]:
    """Encode ``images`` in batches (an ``EncodeProgress`` and a cancel point after each), then
    yield one ``EncodedSplit``: posterior means, their 2-D projection and the class means.

    A conditional model encodes each image with its label. Cancelled, it ends without the
    ``EncodedSplit``.
    """
    control = control or TaskControl()
    total = len(images)
    codes = []
    for start in range(0, total, batch_size):
        if not control.checkpoint():
            return
        stop = start + batch_size
        chunk_labels = None if labels is None or not model.conditional else labels[start:stop]
        mu, _ = model.encode(images[start:stop], chunk_labels)
        codes.append(mu)
        yield EncodeProgress(start + len(mu), total)
    codes = np.concatenate(codes) if codes else np.zeros((0, model.latent_dim), np.float32)
    projection = PCAProjection(codes)
    means = class_means(codes, labels, num_classes) if labels is not None and num_classes else None
    yield EncodedSplit(model, codes, labels, projection, projection(codes), means)
