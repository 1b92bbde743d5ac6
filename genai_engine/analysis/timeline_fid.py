"""FID (and KID) of every per-epoch decoder snapshot: how sample quality grew during training.

Training keeps a float16 copy of the decoder after each epoch (``Checkpoint.timeline``).
``timeline_fid`` draws the same ``n`` prior samples through each snapshot in turn (one fixed
seed, so the epochs differ only by their weights) and measures them against the real images
with the feature network ``evaluate`` uses. The real statistics are computed once (or read
from the cache ``evaluate`` shares); each epoch featurises only its own samples, streaming,
so memory does not grow with ``n`` or with the number of epochs.

    for record in timeline_fid(checkpoint, "fashion-mnist", n=2000):
        ...                              # EvalProgress; the one that ends an epoch has ``row``
    result = record                      # TimelineFidResult: rows of (epoch, fid, kid, n)

Like ``evaluate`` it is a generator checked against a ``TaskControl``: once cancelled it
yields ``EvalProgress(stage="cancelled")`` and stops without a result (the rows already
finished arrived on the progress records).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from genai_engine.analysis.timeline import TimelineDecoder
from genai_engine.checkpoints import Checkpoint
from genai_engine.errors import GenAIError
from genai_engine.families.base import LatentDecoder
from genai_engine.metrics.evaluate import FEATURE_CHOICES, load_feature_network
from genai_engine.metrics.frechet import frechet_distance
from genai_engine.metrics.kid import kernel_inception_distance
from genai_engine.metrics.progress import EvalProgress
from genai_engine.metrics.real_stats import real_statistics
from genai_engine.metrics.reservoir import FeatureReservoir
from genai_engine.metrics.sources import decoded_prior_source, real_source, sampled_source
from genai_engine.metrics.statistics import FeatureStats

DEFAULT_N = 2000
KID_SUBSETS = 20  # 100 (evaluate's default) costs ~1.3 s per epoch on a 2-core CPU; 20 ~0.3 s

NO_TIMELINE = ("this checkpoint keeps no per-epoch snapshots, so there is no FID per epoch; "
               "checkpoints trained with this version of GenAI Lab record one")


@dataclass
class EpochFid:
    """One epoch's numbers. ``kid_mean``/``kid_std`` are ``None`` when KID was off."""

    epoch: int
    fid: float
    kid_mean: float | None
    kid_std: float | None
    n: int
    seconds: float


@dataclass
class TimelineFidProgress(EvalProgress):
    """An ``EvalProgress`` of stage ``epoch``: ``done``/``total`` count generated images over
    all epochs; ``row`` is set on the record that finishes ``epoch``."""

    epoch: int | None = None
    row: EpochFid | None = None


@dataclass
class TimelineFidResult:
    rows: list[EpochFid]  # one per snapshot, oldest first
    features: str  # "domain" or "inception"
    feature_label: str  # the network in words: show it beside every number
    feature_network_id: str
    feature_dim: int
    n_real: int
    n_fake: int  # generated samples per epoch
    seed: int  # the prior samples' seed: the same z for every epoch
    real_cache_hit: bool
    device: str
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def epochs(self) -> np.ndarray:
        return np.array([row.epoch for row in self.rows], np.int64)

    @property
    def fids(self) -> np.ndarray:
        return np.array([row.fid for row in self.rows], np.float64)

    def to_dict(self) -> dict:
        return asdict(self)


def has_timeline(checkpoint: Checkpoint | None) -> bool:
    """Whether ``checkpoint`` keeps per-epoch decoder snapshots."""
    return checkpoint is not None and bool(checkpoint.timeline)


def timeline_fid(
    checkpoint: Checkpoint,
    real,
    *,
    n: int = DEFAULT_N,
    features: str = "domain",
    real_split: str = "test",
    seed: int = 0,
    kid: bool = True,
    kid_subsets: int = KID_SUBSETS,
    kid_subset_size: int = 1000,
    max_features: int = 10_000,
    inception_weights: str | os.PathLike | None = None,
    domain_weights: str | os.PathLike | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    use_cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    control=None,
) -> Iterator[EvalProgress | TimelineFidResult]:
    """FID of each epoch snapshot of ``checkpoint``; yields ``EvalProgress`` records (stages
    ``loading``, ``real features``, ``epoch``, ``cancelled``), then one ``TimelineFidResult``.

    real, real_split, features, the weights, device, cache: as in ``evaluate``.
    n: prior samples per epoch, drawn with ``seed`` (the same latent points for every epoch).
    kid: also KID over ``kid_subsets`` subsets of ``kid_subset_size`` (fewer subsets than
        ``evaluate`` by default: it is per epoch). With equal settings, one epoch's numbers
        equal ``evaluate`` on that epoch's samples.

    Raises ``GenAIError`` when the checkpoint has no timeline (before any work), and as
    ``evaluate`` does for missing weights or unreadable data.
    """
    from genai_engine.devices import describe_device, resolve_device

    start = time.perf_counter()
    elapsed = lambda: time.perf_counter() - start  # noqa: E731
    warnings: list[str] = []

    def cancelled() -> bool:
        return control is not None and not control.checkpoint()

    if not has_timeline(checkpoint):
        raise GenAIError(NO_TIMELINE)
    if features not in FEATURE_CHOICES:
        raise GenAIError(f"unknown feature network {features!r}; choose domain or inception")
    if n < 2:
        raise GenAIError(f"FID needs at least two samples per epoch, got {n}")
    dev = resolve_device(device)
    yield EvalProgress("loading", 0, 1, elapsed(), f"loading the {features} network")
    net = load_feature_network(features, dev, inception_weights, domain_weights)
    timeline = TimelineDecoder(checkpoint, dev)
    num_classes = int(timeline.config.num_classes or 0)
    latent = isinstance(timeline.snapshot_at(timeline.epochs[-1]), LatentDecoder)

    def samples(epoch: int):  # the same n samples (one seed: the same latents) for every epoch
        name = f"epoch {epoch} samples"
        if latent:
            return decoded_prior_source(timeline.at(epoch), timeline.config.latent_dim, num_classes,
                                        n, seed, name)
        return sampled_source(timeline.snapshot_at(epoch), num_classes, n, seed, name)

    real_src = real_source(real, real_split, seed)
    net.check_images((0, *real_src.shape), "the real images")
    net.check_images((0, *samples(timeline.epochs[0]).shape), "the generated images")
    batch = int(batch_size or net.preferred_batch_size)
    if batch < 1:
        raise GenAIError("batch size must be at least 1")
    yield EvalProgress("loading", 1, 1, elapsed(), f"features: {net.label}")

    found = yield from real_statistics(
        real_src, net, batch_size=batch, max_features=max_features, use_cache=use_cache,
        cache_dir=cache_dir, elapsed=elapsed, cancelled=cancelled, warnings=warnings)
    if found is None:
        return
    entry, cache_hit = found
    real_stats, real_rows = entry.stats, entry.features
    for side, count in (("real", real_stats.n), ("generated", n)):
        if count < net.dim:
            warnings.append(f"only {count} {side} images for {net.dim}-d features: FID is "
                            f"biased upwards; use at least {net.dim} per epoch")
    real_mean, real_cov = real_stats.mean, real_stats.covariance

    rows: list[EpochFid] = []
    total = n * len(timeline.epochs)
    done = 0
    for epoch in timeline.epochs:
        t0 = time.perf_counter()
        stats = FeatureStats(net.dim)
        kept = FeatureReservoir(max_features, net.dim, seed=seed + 2)  # as evaluate keeps them
        for first, images in samples(epoch).shard(batch, 0, 1):
            if cancelled():
                yield EvalProgress("cancelled", done, total, elapsed(), "cancelled")
                return
            feats, _ = net.extract(images)
            stats.update_torch(feats)
            if kid:
                kept.update(feats, first)
            done += len(feats)
            yield TimelineFidProgress("epoch", done, total, elapsed(),
                                      f"epoch {epoch}: generated images", epoch=epoch)
        fid = frechet_distance(stats.mean, stats.covariance, real_mean, real_cov)
        kid_mean = kid_std = None
        if kid:
            kid_mean, kid_std = kernel_inception_distance(
                real_rows, kept.rows, kid_subsets, kid_subset_size, seed)
        row = EpochFid(int(epoch), float(fid), kid_mean, kid_std, int(stats.n),
                       time.perf_counter() - t0)
        rows.append(row)
        yield TimelineFidProgress("epoch", done, total, elapsed(),
                                  f"epoch {epoch}: FID {fid:.2f}", epoch=epoch, row=row)

    yield TimelineFidResult(
        rows=rows, features=features, feature_label=net.label,
        feature_network_id=net.network_id, feature_dim=int(net.dim), n_real=int(real_stats.n),
        n_fake=int(n), seed=int(seed), real_cache_hit=cache_hit, device=describe_device(dev),
        seconds=elapsed(), warnings=warnings)


def format_timeline(result: TimelineFidResult) -> str:
    """A small table for the terminal."""
    lines = [f"features: {result.feature_label}",
             f"{'epoch':>5}  {'FID':>9}  {'KID':>9}  {'n':>6}"]
    for row in result.rows:
        kid = "-" if row.kid_mean is None else f"{row.kid_mean:.5f}"
        lines.append(f"{row.epoch:>5}  {row.fid:>9.3f}  {kid:>9}  {row.n:>6}")
    lines.append(f"n_real {result.n_real}  seed {result.seed}  ({result.device}, "
                 f"{result.seconds:.1f} s)")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


__all__ = ["EpochFid", "TimelineFidProgress", "TimelineFidResult",
           "format_timeline", "has_timeline", "timeline_fid"]
