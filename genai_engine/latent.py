"""Latent-space maths on numpy arrays: interpolation paths between endpoints, projections,
attribute vectors, dimension order, and ``encode_split``, the generator that encodes a dataset
split for maps and class means.

A model here is a snapshot used by capability (``families.base``): paths need a
``LatentDecoder``; a dataset image as an endpoint needs an ``Encoder``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from genai_engine.errors import GenAIError
from genai_engine.families.base import Encoder, prior_samples
from genai_engine.tasks import TaskControl

if TYPE_CHECKING:
    from genai_engine.data import Dataset
    from genai_engine.families.base import LatentDecoder

ENCODE_BATCH = 500
DATASET, PRIOR = "dataset", "prior"  # the two sources of an ``Endpoint``


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


@dataclass(frozen=True)
class Endpoint:
    """Where a path starts or ends: image ``index`` of a dataset ``split`` (its encoder mean),
    or the prior sample drawn with ``seed``."""

    source: str = PRIOR
    split: str = "test"
    index: int = 0
    seed: int = 0

    def describe(self, dataset: Dataset | None = None) -> str:
        if self.source == PRIOR:
            return f"prior sample, seed {self.seed}"
        text = f"{self.split} image #{self.index}"
        if dataset is not None:
            part = dataset.split(self.split)
            names = dataset.class_names or []
            if part.labels is not None and self.index < len(part):
                label = int(part.labels[self.index])
                text += f" · {names[label] if label < len(names) else f'class {label}'}"
        return text


def image_code(model: Encoder, images: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """The posterior mean of one image (a batch of one, uint8 (1, H, W, C)): (D,) float32. A
    conditional model encodes with the label; another ignores it."""
    if not isinstance(model, Encoder):
        raise GenAIError("this model has no encoder, so a dataset image has no latent code; "
                         "start from a prior sample instead")
    mu, _ = model.encode(images, labels if model.conditional else None)
    return np.asarray(mu[0], np.float32)


def endpoint_code(model: LatentDecoder, dataset: Dataset | None, endpoint: Endpoint) -> np.ndarray:
    """The latent code (D,) of ``endpoint``: an encoded dataset image or a prior sample."""
    if endpoint.source != DATASET:
        return prior_samples(1, model.latent_dim, endpoint.seed)[0]
    if dataset is None:
        raise GenAIError("no dataset is open to take the endpoint image from; open one or start "
                         "from a prior sample")
    part = dataset.split(endpoint.split)
    if not 0 <= endpoint.index < len(part):
        raise GenAIError(f"{endpoint.split} image #{endpoint.index} does not exist: the split has "
                         f"{len(part):,} images")
    one = slice(endpoint.index, endpoint.index + 1)
    return image_code(model, part.images[one], None if part.labels is None else part.labels[one])


@dataclass(frozen=True)
class PathRequest:
    """A path to decode: between two endpoints, ``steps`` images, by ``method`` (a key of
    ``INTERPOLATIONS``), as class ``label`` for a conditional model."""

    start: Endpoint
    end: Endpoint
    steps: int
    method: str
    label: int = 0


@dataclass
class Interpolation:
    """One decoded path: plain arrays only, safe to hand from a worker to a view."""

    request: PathRequest
    frames: np.ndarray  # uint8 (steps, H, W, C)
    norms: dict[str, np.ndarray]  # |z| along the path, for every interpolation method
    seconds: float


def interpolate(model: LatentDecoder, dataset: Dataset | None, request: PathRequest) -> Interpolation:
    """Find the endpoints' codes, build every method's path, decode the requested one."""
    if request.method not in INTERPOLATIONS:
        raise GenAIError(f"unknown interpolation {request.method!r}; choose one of "
                         f"{', '.join(INTERPOLATIONS)}")
    began = time.perf_counter()
    z0 = endpoint_code(model, dataset, request.start)
    z1 = endpoint_code(model, dataset, request.end)
    paths = {name: fn(z0, z1, request.steps) for name, fn in INTERPOLATIONS.items()}
    labels = np.full(len(paths[request.method]), request.label, np.int64) if model.conditional else None
    frames = model.decode(paths[request.method], labels)
    norms = {name: np.linalg.norm(path, axis=1) for name, path in paths.items()}
    return Interpolation(request, frames, norms, time.perf_counter() - began)


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


# A measured sensitivity has no natural unit: a dimension counts as unused below this share
# of the most sensitive one.
SENSITIVITY_ACTIVE_SHARE = 0.01


def sort_dims_by_importance(importance: np.ndarray, measured_by: str):
    """``sort_dims_by_kl`` for any family's latent importance: ``measured_by`` is ``"KL"``
    (nats, an absolute threshold) or ``"sensitivity"`` (a decoder's measured response, judged
    relative to the largest)."""
    values = np.asarray(importance, dtype=np.float64)
    if measured_by == "KL":
        return sort_dims_by_kl(values)
    top = float(values.max()) if len(values) else 0.0
    return sort_dims_by_kl(values, SENSITIVITY_ACTIVE_SHARE * top)


def importance_measure(model) -> str:
    """What a snapshot's latent importance measures: KL from the prior for a model with an
    encoder, the decoder's measured sensitivity otherwise."""
    return "KL" if isinstance(model, Encoder) else "sensitivity"


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
