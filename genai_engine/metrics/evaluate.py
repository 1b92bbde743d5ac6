"""``evaluate``: FID, KID, IS, precision/recall and a FID confidence interval, as a generator.

The same generator runs under the CLI (``genai-lab fid``) and the desktop Evaluate tab: it
yields small ``EvalProgress`` records while it works and one ``EvalResult`` at the end; a
``TaskControl`` cancels it between batches. Memory stays flat in the number of generated
samples: features are folded into float64 streaming statistics batch by batch, and only a
seeded uniform sample of at most ``max_features`` rows per side is kept for KID,
precision/recall and the bootstrap.

Under torchrun (``dist``) the ranks split the batches and merge what they found: FID needs
only the summed float64 moments; KID, precision/recall and the bootstrap need feature rows,
and the kept rows (a bottom-k sample, ``reservoir.py``) merge into exactly the rows one
process keeps; the Inception Score's logits are gathered in sample order. So every metric is
the single-process one on the same samples, up to float64 rounding in the moments.
"""

from __future__ import annotations

import os
import time
import warnings as _warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from genai_engine.errors import DataError, GenAIError
from genai_engine.files import atomic_write
from genai_engine.metrics import cache as stats_cache
from genai_engine.metrics.bootstrap import fid_bootstrap
from genai_engine.metrics.frechet import frechet_distance
from genai_engine.metrics.inception_score import inception_score
from genai_engine.metrics.kid import kernel_inception_distance
from genai_engine.metrics.precision_recall import knn_radii, precision_recall
from genai_engine.metrics.progress import EvalProgress
from genai_engine.metrics.real_stats import real_statistics
from genai_engine.metrics.reservoir import FeatureReservoir
from genai_engine.metrics.sources import fake_source, real_source
from genai_engine.metrics.statistics import FeatureStats
from genai_engine.metrics.stats_file import (
    NetworkIdentity,
    inception_identity,
    is_statistics_file,
    read_statistics,
)

FEATURE_CHOICES = ("domain", "inception")


@dataclass
class EvalResult:
    """The final record. Metrics that were switched off or could not be computed are ``None``.

    ``features`` is ``"domain"`` or ``"inception"``; ``feature_label`` says which network in
    words (show it beside every number: domain FIDs do not compare with Inception FIDs).
    ``inception_score`` always comes from the domain network's logits (``None`` when its
    classifier does not fit the images). ``fid_ci`` is a bootstrap interval at
    ``fid_ci_confidence`` over the generated side (``bootstrap.py`` says how it is placed).
    ``warnings`` are sentences for the user (e.g. fewer samples than feature dimensions).
    ``n_real``/``n_fake`` are 0 for a statistics file that does not record its count (pytorch-fid's).
    """

    fid: float
    kid_mean: float | None
    kid_std: float | None
    inception_score: float | None
    inception_score_std: float | None
    precision: float | None
    recall: float | None
    fid_ci: tuple[float, float] | None
    fid_ci_confidence: float
    fid_ci_replicates: int
    n_real: int
    n_fake: int
    features: str
    feature_label: str
    feature_network_id: str
    feature_dim: int
    real_cache_hit: bool
    device: str
    seconds: float
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    world_size: int = 1  # torchrun ranks that featurised the images

    def to_dict(self) -> dict:
        out = asdict(self)
        out["fid_ci"] = list(self.fid_ci) if self.fid_ci else None
        return out


# --- networks ------------------------------------------------------------------------------

def load_feature_network(features: str, device, inception_weights=None, domain_weights=None):
    """The extractor for ``features`` (``domain`` or ``inception``); raises ``WeightsError``."""
    if features == "inception":
        from genai_engine.metrics.features.inception import load_inception

        return load_inception(inception_weights, device)
    if features == "domain":
        from genai_engine.metrics.features.domain import load_domain_network

        return load_domain_network(domain_weights, device)
    raise GenAIError(f"unknown feature network {features!r}; choose domain or inception")


# --- the generator -------------------------------------------------------------------------

def evaluate(
    real,
    fake,
    *,
    n: int | None = None,
    features: str = "domain",
    real_split: str = "test",
    inception_weights: str | os.PathLike | None = None,
    domain_weights: str | os.PathLike | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    seed: int = 0,
    kid: bool = True,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    precision_recall_k: int | None = 3,
    inception_score_splits: int | None = 10,
    bootstrap: int | None = None,
    confidence: float = 0.95,
    max_features: int = 10_000,
    use_cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    control=None,
    dist=None,
    save_stats: str | os.PathLike | None = None,
) -> Iterator[EvalProgress | EvalResult]:
    """Evaluate generated images against real ones; yields ``EvalProgress`` then one ``EvalResult``.

    real: a built-in dataset name (``"fashion-mnist"``: its ``real_split``, default test), a
        path (image folder, ``.npz`` with ``images``, IDX file: read with ``read_image_set``),
        a ``Dataset`` (its ``real_split``), an ``ImageSet`` or a uint8 array (N, H, W, C).
    fake: a ``Checkpoint`` (``n`` prior samples, default 10,000, drawn as
        ``sample_images(checkpoint, n, seed)`` would), a path, an ``ImageSet``, a uint8 array
        (``n`` caps it: a seeded random subset), or an iterable of uint8 batches (``n`` = total).
    Either side may be the path of a feature-statistics ``.npz`` (``save_stats``'s, or
        pytorch-fid's ``mu``/``sigma``; ``stats_file.py``): it must come from the network of
        ``features``; FID alone is computed (KID, precision/recall and the interval need
        feature rows; the Inception Score needs generated images), and ``n`` does not apply.
    features: ``"domain"`` (small Fashion-MNIST CNN, fast; labelled as domain numbers) or
        ``"inception"`` (standard FID: pool3 of the TF Inception, pytorch-fid compatible).
    batch_size: images per forward pass (default: the network's preferred size).
    device: ``auto`` | ``cpu`` | ``cuda`` | ``mps``; statistics are always float64 on the CPU.
    kid, precision_recall_k (None: skip), inception_score_splits (None: skip): which extras.
    bootstrap: replicates for the FID interval (None: 100 for features up to 512-d, none for
        Inception's 2048-d, where each replicate (a 2048x2048 covariance from 10,000 rows and
        its eigenvalues) takes seconds on a CPU; 0: no interval).
    max_features: rows kept per side for KID, precision/recall and the bootstrap.
    use_cache / cache_dir: real-data statistics are cached on disk per (dataset fingerprint,
        split, network, preprocessing); a cache entry for other data is never used.
    control: a ``TaskControl``; when cancelled the generator yields
        ``EvalProgress(stage="cancelled")`` and stops without a result.
    dist: a ``DistContext`` (``distributed.init_from_env``) under torchrun: rank r featurises
        batches r, r + world, ... of both sides (the very batches one process makes, so the
        same images and features); the float64 statistics are summed across ranks
        (``FeatureStats.all_reduce``), the kept rows merged (``FeatureReservoir.gather``: the
        same rows as one process), the classifier logits gathered in sample order. Rank 0
        alone reads and writes the real-statistics cache, computes the metrics and yields
        the ``EvalResult``; the other ranks stop after the last collective, without a result.
        Progress counts this rank's share. ``control`` must not be used with several ranks
        (a rank that stops alone leaves the others waiting).
    save_stats: write the generated images' statistics here (``FeatureStats.save``: ``n``,
        ``mean``, ``scatter``, pytorch-fid's ``mu``/``sigma`` and the feature network in
        ``meta``; rank 0, atomically).

    Raises ``GenAIError`` subclasses for what the user can fix (missing weights:
    ``WeightsError`` naming the command to run; unreadable data: ``DataError``).
    """
    from genai_engine.devices import describe_device, resolve_device
    from genai_engine.distributed import SINGLE

    dist = dist or SINGLE
    rank, world = dist.rank, dist.world_size
    start = time.perf_counter()
    timings: dict[str, float] = {}
    warnings: list[str] = []
    elapsed = lambda: time.perf_counter() - start  # noqa: E731

    def cancelled() -> bool:
        return control is not None and not control.checkpoint()

    if features not in FEATURE_CHOICES:
        raise GenAIError(f"unknown feature network {features!r}; choose domain or inception")
    dev = resolve_device(device)
    real_saved = read_statistics(real) if is_statistics_file(real) else None
    fake_saved = read_statistics(fake) if is_statistics_file(fake) else None
    if fake_saved is not None and save_stats is not None:
        raise GenAIError(f"{fake} already holds statistics: there are none to save")
    yield EvalProgress("loading", 0, 1, elapsed(), f"loading the {features} network")
    net: Any  # a feature extractor (``metrics.features``: duck-typed), or None with nothing to featurise
    if real_saved is not None and fake_saved is not None and features == "inception":
        net = None  # the Inception weights need not even be installed
        network = inception_identity()
    else:
        net = load_feature_network(features, dev, inception_weights, domain_weights)
        network = NetworkIdentity.of(net)
    for saved in (real_saved, fake_saved):
        note = saved.check_network(network) if saved is not None else None
        warnings += [note] if note else []
    real_src = fake_src = classifier = None
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        if real_saved is None:
            real_src = real_source(real, real_split, seed)
        if fake_saved is None:
            fake_src = fake_source(fake, n, seed, str(dev))
    warnings += [str(w.message) for w in caught]
    if real_src is not None:
        net.check_images((0, *real_src.shape), "the real images")
    if fake_src is not None:
        net.check_images((0, *fake_src.shape), "the generated images")
        classifier = net if getattr(net, "has_logits", False) else None
        if inception_score_splits and classifier is None:
            classifier = _classifier_for(fake_src.shape, dev, domain_weights, warnings)
    if real_src is not None and fake_src is not None and (
            real_src.shape[2] != fake_src.shape[2] or real_src.shape[:2] != fake_src.shape[:2]):
        warnings.append(
            f"real images are {_shape_text(real_src.shape)} but generated ones are "
            f"{_shape_text(fake_src.shape)}; the feature network resizes/expands them, "
            "which itself changes the score"
        )
    timings["load"] = elapsed()
    batch = int(batch_size or (net.preferred_batch_size if net is not None else 1))
    if batch < 1:
        raise GenAIError("batch size must be at least 1")
    of_ranks = f" (rank {rank}'s share of {world})" if dist.enabled else ""
    yield EvalProgress("loading", 1, 1, elapsed(), f"features: {network.label}")

    # --- real statistics: from the file, cached or computed (real_stats.py) ----------------
    entry, cache_hit = None, False
    if real_src is not None:
        t0 = time.perf_counter()
        found = yield from real_statistics(
            real_src, net, batch_size=batch, max_features=max_features, use_cache=use_cache,
            cache_dir=cache_dir, dist=dist, elapsed=elapsed, cancelled=cancelled, warnings=warnings,
        )
        if found is None:
            return
        entry, cache_hit = found  # entry is None on ranks other than 0 after a cache hit
        if not cache_hit:
            timings["real_features"] = time.perf_counter() - t0

    # --- generated features ----------------------------------------------------------------
    t0 = time.perf_counter()
    fake_stats = FeatureStats(network.dim)
    fake_rows = FeatureReservoir(max_features, network.dim, seed=seed + 2)
    logits: list[np.ndarray] = []
    logit_positions: list[np.ndarray] = []
    if fake_src is not None:
        done, share = 0, fake_src.share(batch, rank, world)
        for first, images in fake_src.shard(batch, rank, world):
            if cancelled():
                yield EvalProgress("cancelled", done, share, elapsed(), "cancelled")
                return
            images = np.asarray(images)
            if images.shape[1:] != fake_src.shape:
                raise DataError(f"generated images change shape: {images.shape[1:]} after {fake_src.shape}")
            feats, batch_logits = net.extract(images)
            if classifier is not None and classifier is not net:
                _, batch_logits = classifier.extract(images)
            fake_stats.update_torch(feats)
            fake_rows.update(feats, first)
            if batch_logits is not None and inception_score_splits:
                logits.append(batch_logits.astype(np.float32))
                logit_positions.append(np.arange(first, first + len(images)))
            done += len(images)
            yield EvalProgress(
                "generated features", done, share, elapsed(),
                f"generated images {done}/{share}{of_ranks}",
            )
        if dist.enabled:
            fake_stats, fake_rows = fake_stats.all_reduce(dist), fake_rows.gather(dist)
            if inception_score_splits and classifier is not None:
                logits = [_gather_in_order(dist, logits, logit_positions, classifier.num_classes)]
        if fake_stats.n < 2:
            raise DataError("need at least two generated images")
        timings["fake_features"] = time.perf_counter() - t0
    if not dist.is_main:
        return  # rank 0 computes the metrics from the summed statistics
    if save_stats is not None and fake_src is not None:
        meta = {"feature_network_id": network.network_id, "preprocessing": network.preprocessing,
                "feature_label": network.label, "source": fake_src.name, "seed": seed}
        atomic_write(save_stats, lambda handle: fake_stats.save(handle, meta))

    # --- metrics ---------------------------------------------------------------------------
    if real_saved is not None:
        real_mean, real_cov, n_real, real_rows = (real_saved.mean, real_saved.covariance,
                                                  real_saved.n or 0, None)
    else:
        assert entry is not None  # rank 0 has it, cached or computed
        real_mean, real_cov = entry.stats.mean, entry.stats.covariance
        n_real, real_rows = entry.stats.n, entry.features
    if fake_saved is not None:
        fake_mean, fake_cov, n_fake, fake_feats = (fake_saved.mean, fake_saved.covariance,
                                                   fake_saved.n or 0, None)
    else:
        fake_mean, fake_cov = fake_stats.mean, fake_stats.covariance
        n_fake, fake_feats = fake_stats.n, fake_rows.rows
    for side, count in (("real", n_real), ("generated", n_fake)):
        if 0 < count < network.dim:
            warnings.append(
                f"only {count} {side} images for {network.dim}-d features: the covariance is "
                "singular and FID is strongly biased upwards; use at least "
                f"{network.dim} (ideally 10,000) images"
            )
    replicates = bootstrap if bootstrap is not None else (100 if network.dim <= 512 else 0)
    rows = None if real_rows is None or fake_feats is None else (real_rows, fake_feats)
    if rows is None:  # a statistics file: FID alone
        skipped = [name for name, wanted in (
            ("KID", kid), ("precision/recall", precision_recall_k), ("the FID interval", replicates >= 2),
            ("the Inception Score", fake_saved is not None and inception_score_splits)) if wanted]
        if skipped:
            warnings.append(f"{', '.join(skipped)}: not computed, as they need the features (or "
                            "images) themselves and a statistics file holds only their mean and "
                            "covariance")
        kid, precision_recall_k, replicates = False, None, 0
    steps = ["fid"]
    steps += ["kid"] if kid else []
    steps += ["is"] if logits else []
    steps += ["pr"] if precision_recall_k else []
    steps += ["bootstrap"] if replicates >= 2 else []
    step = 0

    def metric_progress(message: str) -> EvalProgress:
        return EvalProgress("metrics", step, len(steps), elapsed(), message)

    t0 = time.perf_counter()
    fid = frechet_distance(fake_mean, fake_cov, real_mean, real_cov)
    timings["fid"] = time.perf_counter() - t0
    step += 1
    yield metric_progress(f"FID {fid:.3f}")

    kid_mean = kid_std = None
    if kid and rows is not None:
        if cancelled():
            yield EvalProgress("cancelled", step, len(steps), elapsed(), "cancelled")
            return
        t0 = time.perf_counter()
        kid_mean, kid_std = kernel_inception_distance(*rows, kid_subsets, kid_subset_size, seed)
        timings["kid"] = time.perf_counter() - t0
        step += 1
        yield metric_progress(f"KID {kid_mean:.5f}")

    is_mean = is_std = None
    if logits and inception_score_splits:
        t0 = time.perf_counter()
        is_mean, is_std = inception_score(np.concatenate(logits), inception_score_splits)
        timings["inception_score"] = time.perf_counter() - t0
        step += 1
        yield metric_progress(f"IS {is_mean:.3f}")

    precision = recall = None
    if precision_recall_k and rows is not None and entry is not None:  # real rows: the entry's
        if cancelled():
            yield EvalProgress("cancelled", step, len(steps), elapsed(), "cancelled")
            return
        t0 = time.perf_counter()
        real_rows, fake_feats = rows
        if min(len(real_rows), len(fake_feats)) > precision_recall_k:
            radii = entry.radii.get(precision_recall_k)
            if radii is None:  # computed once per cache entry
                radii = entry.radii[precision_recall_k] = knn_radii(real_rows, precision_recall_k)
                if use_cache and real_src is not None and real_src.fingerprint:
                    try:
                        stats_cache.save_entry(entry, cache_dir)
                    except OSError as error:  # the radii are computed again next time
                        warnings.append(f"the precision/recall radii were not cached ({error})")
            precision, recall = precision_recall(
                real_rows, fake_feats, precision_recall_k, real_radii=radii
            )
        else:
            warnings.append("too few images for precision/recall")
        timings["precision_recall"] = time.perf_counter() - t0
        step += 1
        yield metric_progress("precision/recall")

    ci = None
    if replicates >= 2 and rows is not None:
        t0 = time.perf_counter()
        fake_feats = rows[1]
        if n_fake > len(fake_feats):
            warnings.append(
                f"the FID interval resamples {len(fake_feats)} kept generated features, fewer "
                f"than the {n_fake} evaluated, so it is wider than the true sampling spread"
            )
        # The real statistics are the fixed reference every model is compared against, so
        # only the generated side is resampled: "how much would FID move with another draw
        # of generated images?"
        boot = fid_bootstrap(
            fake_feats, real_mean=real_mean, real_cov=real_cov,
            replicates=replicates, confidence=confidence, seed=seed,
            should_continue=(lambda: not cancelled()), estimate=fid,
        )
        if boot is None and control is not None and control.cancelled:
            yield EvalProgress("cancelled", step, len(steps), elapsed(), "cancelled")
            return
        if boot is not None:
            ci = (boot.low, boot.high)
        timings["bootstrap"] = time.perf_counter() - t0
        step += 1
        yield metric_progress("FID interval")

    yield EvalResult(
        fid=fid,
        kid_mean=kid_mean,
        kid_std=kid_std,
        inception_score=is_mean,
        inception_score_std=is_std,
        precision=precision,
        recall=recall,
        fid_ci=ci,
        fid_ci_confidence=confidence,
        fid_ci_replicates=replicates if ci else 0,
        n_real=int(n_real),
        n_fake=int(n_fake),
        features=features,
        feature_label=network.label,
        feature_network_id=network.network_id,
        feature_dim=int(network.dim),
        real_cache_hit=cache_hit,
        device=describe_device(dev),
        seconds=elapsed(),
        warnings=warnings,
        timings={k: round(v, 4) for k, v in timings.items()},
        world_size=world,
    )


def _shape_text(shape: tuple[int, int, int]) -> str:
    h, w, c = shape
    return f"{h}x{w}x{c}"


def _classifier_for(shape, device, domain_weights, warnings: list[str]):
    """The domain network for the Inception Score, if it fits these images; else None."""
    from genai_engine.metrics.features.domain import load_domain_network

    try:
        domain = load_domain_network(domain_weights, device)
        domain.check_images((0, *shape))
    except GenAIError:
        warnings.append("no domain classifier fits these images, so there is no Inception Score")
        return None
    return domain


def _gather_in_order(dist, parts: list[np.ndarray], positions: list[np.ndarray], classes: int) -> np.ndarray:
    """Every rank's logits, gathered and put back in sample order (the Inception Score
    splits the samples into consecutive parts)."""
    mine = np.concatenate(parts) if parts else np.empty((0, classes), np.float32)
    where = np.concatenate(positions) if positions else np.empty(0, np.int64)
    every = np.concatenate(dist.all_gather_arrays(mine))
    order = np.argsort(np.concatenate(dist.all_gather_arrays(where.astype(np.int64))), kind="stable")
    return every[order]


def run_to_result(generator: Iterator) -> EvalResult | None:
    """Drain an ``evaluate`` generator; the ``EvalResult``, or None when it was cancelled."""
    result = None
    for record in generator:
        if isinstance(record, EvalResult):
            result = record
    return result


def format_result(result: EvalResult) -> str:
    """A few human lines for the terminal."""
    lines = [f"features: {result.feature_label}"]
    fid = f"FID {result.fid:.3f}"
    if result.fid_ci:
        lo, hi = result.fid_ci
        fid += (
            f"  ({result.fid_ci_confidence:.0%} CI {lo:.3f} .. {hi:.3f}, "
            f"{result.fid_ci_replicates} bootstrap replicates)"
        )
    lines.append(fid)
    if result.kid_mean is not None:
        lines.append(f"KID {result.kid_mean:.5f} +- {result.kid_std:.5f}")
    if result.inception_score is not None:
        lines.append(
            f"IS (domain classifier) {result.inception_score:.3f} "
            f"+- {result.inception_score_std:.3f}"
        )
    if result.precision is not None:
        lines.append(f"precision {result.precision:.4f}  recall {result.recall:.4f}")
    lines.append(
        f"n_real {result.n_real or 'not recorded'}  n_fake {result.n_fake or 'not recorded'}  "
        f"({'cached real statistics, ' if result.real_cache_hit else ''}"
        f"{result.device}, {result.seconds:.1f} s)"
    )
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


__all__ = [
    "EvalProgress",
    "EvalResult",
    "evaluate",
    "format_result",
    "load_feature_network",
    "run_to_result",
]
