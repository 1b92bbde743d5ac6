"""The VAE as an anomaly detector: score images, compare classes, separate two datasets.

A score is high when the model explains an image badly: the reconstruction error through the
posterior mean, or the negative ELBO (which adds the KL cost of the code). Per-class histograms
show which classes the model finds hard; ``roc_auc`` says how well the scores separate a
second dataset from the first (0.5: not at all, 1.0: perfectly). Beware the known failure of
likelihood models: simpler images (fewer, darker pixels) can score *lower* than the training
data even when they are foreign (Nalisnick et al., 2019) — an AUC below 0.5 shows exactly that.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from genai_engine.analysis.likelihood import importance_weighted, sample_log_weights, unwrap_model
from genai_engine.errors import GenAIError
from genai_engine.tasks import TaskControl
from genai_engine.tensors import images_to_tensor, to_unit

SCORE_METHODS = {
    "recon": "reconstruction error (nats)",
    "elbo": "negative ELBO (nats)",
}
OUTLIER_KINDS = {
    "inverted": "colours inverted (255 − x)",
    "flipped": "upside down",
    "noise": "uniform noise",
}


@dataclass
class ScoreProgress:
    done: int
    total: int
    seconds: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass
class AnomalyScores:
    scores: np.ndarray  # float64 (N,), higher = more anomalous; NaN where cancelled before
    method: str
    seconds: float
    cancelled: bool = False


def can_score(model) -> bool:
    """Whether ``score_images`` takes ``model``: it needs a VAE's encoder, decoder likelihood and
    KL, as the importance-weighted likelihood does (a diffusion model has an encoder and a
    likelihood bound, but not these)."""
    return importance_weighted(model)


def score_images(model, images: np.ndarray, labels: np.ndarray | None = None, method: str = "recon",
                 *, batch_size: int = 1000, seed: int = 0, elbo_samples: int = 4,
                 control: TaskControl | None = None,
                 report_interval_s: float = 0.2) -> Iterator[ScoreProgress | AnomalyScores]:
    """Score uint8 ``images`` (N, H, W, C) with ``model`` (a ``VAE`` or ``VAEInference``).

    ``recon``: -log p(x | z = posterior mean). ``elbo``: the negative ELBO with the analytic KL
    and the reconstruction averaged over ``elbo_samples`` posterior draws (repeatable for a
    seed). A conditional model uses ``labels``; without them an image gets the lowest score over
    all classes (the class that explains it best).
    """
    if method not in SCORE_METHODS:
        raise GenAIError(f"unknown score {method!r}; choose {' or '.join(SCORE_METHODS)}")
    vae, device = unwrap_model(model)
    c, h, w = vae.config.image_shape
    if tuple(images.shape[1:]) != (h, w, c):
        raise GenAIError(f"the model takes {h}x{w}x{c} images, these are "
                         f"{'x'.join(map(str, images.shape[1:]))}")
    control = control or TaskControl()
    n = len(images)
    scores = np.full(n, np.nan)
    generator = torch.Generator(device=device).manual_seed(int(seed))
    began = last = time.perf_counter()
    classes = vae.config.num_classes
    done = 0
    cancelled = False
    while done < n:
        if not control.checkpoint():
            cancelled = True
            break
        stop = min(n, done + batch_size)
        x = to_unit(images_to_tensor(images[done:stop], device))
        if not classes:
            scores[done:stop] = _score_batch(vae, x, None, method, generator, elbo_samples)
        elif labels is not None:
            y = torch.as_tensor(np.asarray(labels[done:stop], np.int64), device=device)
            scores[done:stop] = _score_batch(vae, x, y, method, generator, elbo_samples)
        else:
            per_class = [_score_batch(vae, x, torch.full((len(x),), cls, device=device), method,
                                      generator, elbo_samples) for cls in range(classes)]
            scores[done:stop] = np.min(per_class, axis=0)
        done = stop
        now = time.perf_counter()
        if now - last >= report_interval_s and done < n:
            last = now
            yield ScoreProgress(done, n, now - began)
    yield ScoreProgress(done, n, time.perf_counter() - began)
    yield AnomalyScores(scores, method, time.perf_counter() - began, cancelled)


@torch.inference_mode()
def _score_batch(vae, x, y, method, generator, elbo_samples) -> np.ndarray:
    from genai_engine.families.vae.losses import reconstruction_nll

    if method == "recon":
        mu, _ = vae.encode(x, y)
        nll = reconstruction_nll(vae.decode(mu, y), x, vae.config.likelihood,
                                 getattr(vae, "log_sigma", None))
        return nll.double().cpu().numpy()
    _, recon, kl = sample_log_weights(vae, x, y, elbo_samples, generator)
    return (recon.mean(1) + kl).numpy()


# --- summaries ---------------------------------------------------------------------------

@dataclass
class ClassHistograms:
    edges: np.ndarray  # (bins + 1,)
    counts: np.ndarray  # int64 (classes, bins); the last bin also counts scores above the range
    total: np.ndarray  # int64 (bins,)
    class_names: list[str]
    overflow: int  # scores above edges[-1], counted in the last bin


def class_histograms(scores: np.ndarray, labels: np.ndarray | None, class_names: list[str] | None = None,
                     bins: int = 40, upper_quantile: float = 0.995,
                     edges: np.ndarray | None = None) -> ClassHistograms:
    """Histograms of ``scores`` per class on shared edges from the minimum to the
    ``upper_quantile`` (long right tails would squash the rest; the few scores above fall in the
    last bin). Pass ``edges`` to bin a second set on the same scale."""
    scores = np.asarray(scores, np.float64)
    finite = np.isfinite(scores)
    if not finite.any():
        raise GenAIError("no finite scores to histogram")
    values = scores[finite]
    if edges is None:
        low, high = float(values.min()), float(np.quantile(values, upper_quantile))
        if high <= low:
            high = low + 1.0
        edges = np.linspace(low, high, int(bins) + 1)
    edges = np.asarray(edges, np.float64)
    clipped = np.clip(values, edges[0], edges[-1])
    overflow = int((values > edges[-1]).sum())
    if labels is None:
        groups = np.zeros(len(values), np.int64)
        names = ["all"]
    else:
        groups = np.asarray(labels)[finite].astype(np.int64)
        count = max(int(groups.max()) + 1 if len(groups) else 1, len(class_names or []))
        names = list(class_names or [])[:count] + [str(i) for i in range(len(class_names or []), count)]
    counts = np.stack([np.histogram(clipped[groups == g], edges)[0] for g in range(len(names))])
    return ClassHistograms(edges, counts.astype(np.int64), counts.sum(0).astype(np.int64), names, overflow)


def typical(scores: np.ndarray, n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``n`` most typical images (lowest scores, ascending) and the ``n`` least
    typical (highest, descending); NaN scores are never picked."""
    scores = np.asarray(scores, np.float64)
    valid = np.flatnonzero(np.isfinite(scores))
    order = valid[np.argsort(scores[valid], kind="stable")]
    n = min(int(n), len(order))
    return order[:n], order[::-1][:n]


def midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given the mean of the ranks they span."""
    values = np.asarray(values, np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # Start of each run of equal values, and the mean rank of that run.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    run_rank = (starts + 1 + ends) / 2.0
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


def roc_auc(normal: np.ndarray, anomalous: np.ndarray) -> float:
    """P(score of an anomalous image > score of a normal one) + ½ P(equal): the area under the
    ROC curve, from ranks (Mann–Whitney U), O(n log n)."""
    normal = np.asarray(normal, np.float64).ravel()
    anomalous = np.asarray(anomalous, np.float64).ravel()
    normal, anomalous = normal[np.isfinite(normal)], anomalous[np.isfinite(anomalous)]
    if len(normal) == 0 or len(anomalous) == 0:
        raise GenAIError("ROC AUC needs at least one score in each set")
    ranks = midranks(np.concatenate([normal, anomalous]))
    n_pos = len(anomalous)
    u = ranks[len(normal):].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * len(normal)))


def separation(auc: float) -> str:
    """How well a ROC AUC separates the second set from the first, in words."""
    if auc >= 0.9:
        return "well separated"
    if auc >= 0.7:
        return "partly separated"
    return "hardly separated" if auc >= 0.5 else "the second set looks MORE typical"


def roc_curve(normal: np.ndarray, anomalous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) as the threshold falls through every distinct
    score, from (0, 0) to (1, 1); ties move both rates at once (a diagonal step)."""
    normal = np.asarray(normal, np.float64)
    anomalous = np.asarray(anomalous, np.float64)
    normal, anomalous = normal[np.isfinite(normal)], anomalous[np.isfinite(anomalous)]
    scores = np.concatenate([normal, anomalous])
    is_pos = np.r_[np.zeros(len(normal)), np.ones(len(anomalous))]
    order = np.argsort(-scores, kind="mergesort")
    scores, is_pos = scores[order], is_pos[order]
    last_of_run = np.r_[scores[1:] != scores[:-1], True]
    tp = np.cumsum(is_pos)[last_of_run]
    fp = np.cumsum(1 - is_pos)[last_of_run]
    tpr = np.r_[0.0, tp / max(len(anomalous), 1)]
    fpr = np.r_[0.0, fp / max(len(normal), 1)]
    return fpr, tpr


def synthetic_outliers(images: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """A foreign set made from ``images`` for trying the detector without a second dataset."""
    if kind == "inverted":
        return (255 - images).astype(np.uint8)
    if kind == "flipped":
        return np.ascontiguousarray(images[:, ::-1])
    if kind == "noise":
        return np.random.default_rng(seed).integers(0, 256, images.shape, dtype=np.uint8)
    raise GenAIError(f"unknown outlier kind {kind!r}; choose from {', '.join(OUTLIER_KINDS)}")
