"""Real-data feature statistics for one feature network: from the cache, or computed and cached.

``real_statistics`` is the real half of an evaluation as a sub-generator: it yields
``EvalProgress`` records (stage ``real features``) and *returns* ``(entry, cache_hit)`` (or
``None`` when cancelled), so a caller writes ``found = yield from real_statistics(...)``.
``evaluate`` and ``timeline_fid`` both get their real statistics here, so they share cache
entries: the real images of one dataset are featurised once per network, whichever runs
first. The cache key is (dataset fingerprint, split, network, preprocessing,
``max_features``, the fixed reservoir seed).

Under torchrun (``dist``) rank 0 alone reads and writes the cache and its hit decides for
every rank; on a miss each rank featurises its share of the batches (``ImageSource.shard``) and
the float64 moments are summed (``FeatureStats.all_reduce``) and the kept rows merged
(``FeatureReservoir.gather``), so every rank ends with the single-process entry.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator

from genai_engine.metrics import cache as stats_cache
from genai_engine.metrics.progress import EvalProgress
from genai_engine.metrics.reservoir import FeatureReservoir
from genai_engine.metrics.sources import ImageSource
from genai_engine.metrics.statistics import FeatureStats

# The kept real rows use a fixed seed: the user's sampling seed must not invalidate
# (for Inception: minutes of) cached real statistics.
REAL_RESERVOIR_SEED = 1

Found = tuple[stats_cache.RealStatsEntry | None, bool]


def real_statistics(
    source: ImageSource,
    net,
    *,
    batch_size: int,
    max_features: int = 10_000,
    use_cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    dist=None,
    elapsed: Callable[[], float] = lambda: 0.0,
    cancelled: Callable[[], bool] = lambda: False,
    warnings: list[str] | None = None,
) -> Generator[EvalProgress, None, Found | None]:
    """Yield progress; return ``(entry, cache_hit)``, or ``None`` once ``cancelled()``.

    ``source`` is what ``sources.real_source`` makes of a dataset, path or array;
    ``elapsed`` gives the seconds to stamp on progress records; a failed cache write is
    appended to ``warnings`` instead of failing the run. ``dist`` is a
    ``genai_engine.distributed.DistContext`` (default: one process); every rank must call
    this together. After a computation every rank gets the merged entry; after a cache hit
    only rank 0 has it (the other ranks get ``(None, True)``). Progress counts this rank's
    share. ``cancelled`` must not fire on one rank alone (the others would wait for it).
    """
    from genai_engine.distributed import SINGLE

    dist = dist or SINGLE
    rank, world = dist.rank, dist.world_size
    key = stats_cache.CacheKey(
        source.fingerprint or "", source.split, net.network_id, net.preprocessing,
        max_features, REAL_RESERVOIR_SEED,
    )
    cacheable = use_cache and bool(source.fingerprint)
    entry = stats_cache.load_entry(key, cache_dir) if cacheable and dist.is_main else None
    if dist.broadcast_flag(entry is not None):  # rank 0's cache decides for all ranks
        if entry is not None:
            yield EvalProgress("real features", entry.stats.n, entry.stats.n, elapsed(),
                               f"real statistics from the cache ({entry.stats.n} images)")
        return entry, True
    t0 = time.perf_counter()
    stats = FeatureStats(net.dim)
    reservoir = FeatureReservoir(max_features, net.dim, seed=REAL_RESERVOIR_SEED)
    of_ranks = f" (rank {rank}'s share of {world})" if dist.enabled else ""
    done, share = 0, source.share(batch_size, rank, world)
    for first, images in source.shard(batch_size, rank, world):
        if cancelled():
            yield EvalProgress("cancelled", done, share, elapsed(), "cancelled")
            return None
        feats, _ = net.extract(images)
        stats.update_torch(feats)
        reservoir.update(feats, first)
        done += len(images)
        yield EvalProgress("real features", done, share, elapsed(),
                           f"real images {done}/{share}{of_ranks}")
    entry = stats_cache.RealStatsEntry(
        key, stats.all_reduce(dist), reservoir.gather(dist).rows,
        {"name": source.name, "seconds": time.perf_counter() - t0},
    )
    if cacheable and dist.is_main:
        try:
            stats_cache.save_entry(entry, cache_dir)
        except OSError as error:  # a read-only home must not fail the evaluation
            if warnings is not None:
                warnings.append(f"the real-data statistics were computed but not cached ({error})")
    return entry, False
