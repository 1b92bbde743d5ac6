"""Does the model copy its training data? The nearest training images of generated samples.

Distances are Euclidean, found with batched matrix products (‖a‖² + ‖b‖² − 2 a·b) over chunks
of the training set, keeping a running top-k; the few best candidates are then re-ranked with
exact float64 differences, so float32 cancellation cannot misorder near-ties and an image's
distance to itself is exactly 0.

Spaces: ``pixel`` (pixels scaled to [0, 1]), ``encoder`` (the VAE encoder's posterior means)
and, when its weights are installed and fit the images, ``domain`` (the domain CNN's features).
A baseline puts the numbers in context: how far real held-out test images lie from their
nearest training image. Samples much closer than that look like copies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from genai_engine.errors import GenAIError
from genai_engine.tasks import StageProgress, TaskControl

SPACES = ("pixel", "encoder", "domain")
SPACE_LABELS = {
    "pixel": "pixels (L2, values in [0, 1])",
    "encoder": "VAE encoder means (L2 in latent units)",
    "domain": "domain CNN features (L2)",
}
REFINE = 16  # extra float32 candidates re-ranked exactly
QUERY_BLOCK = 512
REFERENCE_CHUNK = 8192


def as_vectors(array: np.ndarray) -> np.ndarray:
    """(N, ...) -> (N, D): uint8 images scaled to [0, 1] float32, other arrays as float32."""
    flat = np.asarray(array).reshape(len(array), -1)
    if flat.dtype == np.uint8:
        vectors = flat.astype(np.float32)
        vectors *= np.float32(1 / 255)  # in place: no second 60,000-image temporary
        return vectors
    return flat.astype(np.float32, copy=False)


def nearest_neighbours(queries: np.ndarray, references: np.ndarray, k: int = 5, *,
                       reference_chunk: int = REFERENCE_CHUNK,
                       device: str | torch.device = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest ``references`` of each query: (indices (Q, k) int64, distances (Q, k)).

    Rows are images (uint8, scaled to [0, 1]) or feature vectors; both arrays flatten to the
    same width. Distances are exact float64 Euclidean, sorted ascending (ties by index).
    """
    q_all = as_vectors(queries)
    n_ref = len(references)
    if q_all.shape[1] != int(np.prod(references.shape[1:])):
        raise GenAIError(f"queries ({q_all.shape[1]} values each) and references "
                         f"({int(np.prod(references.shape[1:]))} each) differ in size")
    if n_ref == 0 or len(q_all) == 0:
        raise GenAIError("nearest neighbours need at least one query and one reference")
    k = max(1, min(int(k), n_ref))
    keep = min(n_ref, k + REFINE)
    device = torch.device(device)
    out_idx = np.empty((len(q_all), k), np.int64)
    out_dist = np.empty((len(q_all), k), np.float64)
    n_q = len(q_all)
    with torch.inference_mode():
        # References in the outer loop: each chunk is converted to float once for all queries.
        queries_t = [torch.from_numpy(q_all[q0:q0 + QUERY_BLOCK]).to(device)
                     for q0 in range(0, n_q, QUERY_BLOCK)]
        norms = [q.pow(2).sum(1, keepdim=True) for q in queries_t]
        best_d = [torch.zeros((len(q), 0), device=device) for q in queries_t]
        best_i = [torch.zeros((len(q), 0), dtype=torch.long, device=device) for q in queries_t]
        for r0 in range(0, n_ref, reference_chunk):
            r = torch.from_numpy(as_vectors(references[r0:r0 + reference_chunk])).to(device)
            r_sq = r.pow(2).sum(1)[None, :]
            for b, (q, q_sq) in enumerate(zip(queries_t, norms, strict=True)):
                d2 = q_sq + r_sq - 2.0 * (q @ r.T)
                d2, idx = torch.topk(d2, min(keep, d2.shape[1]), dim=1, largest=False)
                merged_d = torch.cat([best_d[b], d2], 1)
                merged_i = torch.cat([best_i[b], idx + r0], 1)
                if merged_d.shape[1] > keep:
                    merged_d, pick = torch.topk(merged_d, keep, dim=1, largest=False)
                    merged_i = torch.gather(merged_i, 1, pick)
                best_d[b], best_i[b] = merged_d, merged_i
    for b, q0 in enumerate(range(0, n_q, QUERY_BLOCK)):
        candidates = best_i[b].cpu().numpy()
        exact = _exact_distances(q_all[q0:q0 + QUERY_BLOCK], references, candidates)
        # Sort by exact distance, then by index so equal distances order the same every time.
        order = np.lexsort((candidates, exact), axis=1)[:, :k]
        out_idx[q0:q0 + len(candidates)] = np.take_along_axis(candidates, order, 1)
        out_dist[q0:q0 + len(candidates)] = np.take_along_axis(exact, order, 1)
    return out_idx, out_dist


def _exact_distances(queries: np.ndarray, references: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """float64 ‖q − r‖ for each query and its candidate rows (Q, C)."""
    gathered = as_vectors(references[candidates.ravel()]).astype(np.float64)
    gathered = gathered.reshape(*candidates.shape, -1)
    diff = gathered - queries.astype(np.float64)[:, None, :]
    return np.sqrt(np.einsum("qcd,qcd->qc", diff, diff))


# --- the whole check ---------------------------------------------------------------------

class MemorisationProgress(StageProgress):
    """``stage`` is ``sampling`` or the space searched; ``done``/``total`` count stages."""


@dataclass
class NeighbourSearch:
    """The neighbours of every sample in one space, plus the test-set baseline there."""

    space: str
    label: str
    indices: np.ndarray  # (Q, k) indices into the training images
    distances: np.ndarray  # (Q, k) ascending
    baseline: np.ndarray  # (B,) nearest-training distance of held-out test images
    seconds: float  # time of the search itself (features excluded)

    def percentile(self) -> np.ndarray:
        """(Q,) share of test images whose nearest training image is closer than each sample's:
        near 0 means the sample sits closer to the training set than real unseen images do."""
        if len(self.baseline) == 0:
            return np.full(len(self.distances), np.nan)
        ordered = np.sort(self.baseline)
        return np.searchsorted(ordered, self.distances[:, 0], side="left") / len(ordered)


@dataclass
class MemorisationResult:
    samples: np.ndarray  # uint8 (Q, H, W, C)
    sample_labels: np.ndarray | None  # classes a conditional model was asked for
    k: int
    seed: int
    spaces: dict[str, NeighbourSearch] = field(default_factory=dict)
    seconds: float = 0.0


FeatureFn = Callable[[np.ndarray, np.ndarray | None], np.ndarray]


def encoder_features(model) -> FeatureFn:
    """Posterior means of a ``VAEInference`` as features (labels for a conditional model)."""
    def features(images: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        return model.encode(images, labels if model.conditional else None)[0]
    return features


def domain_features(image_shape: tuple[int, int, int] | None = None, device: str = "cpu"):
    """The shipped domain CNN as a ``FeatureFn``, or None when it is not installed or does not
    fit images of ``image_shape`` (C, H, W)."""
    try:
        from genai_engine.metrics.features.domain import default_weights_path, load_domain_network
    except ImportError:
        return None
    if not default_weights_path().is_file():
        return None
    try:
        network = load_domain_network(device=device)
        if image_shape is not None:
            c, h, w = image_shape
            network.check_images((1, h, w, c))
    except GenAIError:
        return None

    def features(images: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        parts = [network.extract(images[s:s + 1000])[0] for s in range(0, len(images), 1000)]
        return np.concatenate(parts)
    features.label = network.label  # type: ignore[attr-defined]
    return features


def memorisation_check(
    model,
    train_images: np.ndarray,
    *,
    train_labels: np.ndarray | None = None,
    test_images: np.ndarray | None = None,
    test_labels: np.ndarray | None = None,
    n_samples: int = 64,
    k: int = 5,
    seed: int = 0,
    spaces: Sequence[str] = ("pixel", "encoder"),
    baseline_n: int = 300,
    domain: FeatureFn | None = None,
    feature_cache: dict | None = None,
    control: TaskControl | None = None,
) -> Iterator[MemorisationProgress | MemorisationResult]:
    """Sample ``n_samples`` images from ``model`` (a ``VAEInference``) and find each one's ``k``
    nearest training images in every space of ``spaces``.

    ``test_images`` (first ``baseline_n``) give the baseline. ``feature_cache`` (a dict the
    caller keeps per model and dataset) holds the training set's features between runs, since
    encoding 60,000 images costs more than the search. ``domain`` is a ``FeatureFn`` such as
    ``domain_features()``; the ``domain`` space is skipped without one.
    """
    control = control or TaskControl()
    began = time.perf_counter()
    unknown = set(spaces) - set(SPACES)
    if unknown:
        raise GenAIError(f"unknown space {sorted(unknown)}; choose from {', '.join(SPACES)}")
    spaces = [s for s in spaces if s != "domain" or domain is not None]
    if n_samples < 1:
        raise GenAIError("draw at least one sample")
    total = 1 + len(spaces)
    cache = feature_cache if feature_cache is not None else {}

    yield MemorisationProgress("sampling", 0, total, 0.0, f"Sampling {n_samples} images…")
    labels = None
    if model.conditional:
        labels = np.arange(n_samples) % model.config.num_classes
    samples = model.sample(n_samples, seed, labels=labels)
    baseline = None if test_images is None else test_images[:baseline_n]
    baseline_labels = None if test_labels is None else test_labels[:baseline_n]
    result = MemorisationResult(samples, labels, int(k), int(seed))

    functions: dict[str, FeatureFn | None] = {"pixel": None, "encoder": encoder_features(model),
                                              "domain": domain}
    for done, space in enumerate(spaces, start=1):
        if not control.checkpoint():
            return
        fn = functions[space]
        if fn is None:
            references, queries, base_q = train_images, samples, baseline
        else:
            if space not in cache:
                yield MemorisationProgress(space, done, total, time.perf_counter() - began,
                                           f"Computing {space} features of {len(train_images):,} "
                                           "training images…")
                cache[space] = _chunked_features(fn, train_images, train_labels, control)
                if cache[space] is None:
                    cache.pop(space)
                    return
            references = cache[space]
            queries = fn(samples, labels)
            base_q = None if baseline is None else fn(baseline, baseline_labels)
        yield MemorisationProgress(space, done, total, time.perf_counter() - began,
                                   f"Searching {len(references):,} training images ({space})…")
        # Samples and baseline images in one pass over the training set.
        both = queries if base_q is None else np.concatenate([as_vectors(queries), as_vectors(base_q)])
        tick = time.perf_counter()
        indices, distances = nearest_neighbours(both, references, k)
        seconds = time.perf_counter() - tick
        base = distances[n_samples:, 0]
        indices, distances = indices[:n_samples], distances[:n_samples]
        label = getattr(fn, "label", None) or SPACE_LABELS[space]
        result.spaces[space] = NeighbourSearch(space, label, indices, distances, base, seconds)
    result.seconds = time.perf_counter() - began
    yield result


def _chunked_features(fn: FeatureFn, images: np.ndarray, labels: np.ndarray | None,
                      control: TaskControl, chunk: int = 5000) -> np.ndarray | None:
    parts = []
    for start in range(0, len(images), chunk):
        if not control.checkpoint():
            return None
        part_labels = None if labels is None else labels[start:start + chunk]
        parts.append(np.asarray(fn(images[start:start + chunk], part_labels), np.float32))
    return np.concatenate(parts)
