"""Real-data feature statistics for one feature network: from the cache, or computed and cached.

``real_statistics`` is the real half of an evaluation as a sub-generator: it yields
``EvalProgress`` records (stage ``real features``) and *returns* the ``RealStatsEntry`` (or
``None`` when cancelled), so a caller writes ``entry = yield from real_statistics(...)``.
The cache key is the one ``evaluate`` uses (dataset fingerprint, split, network,
preprocessing, ``max_features``, the fixed reservoir seed), so both share cache entries: the
real images of one dataset are featurised once per network, whichever runs first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator

from genai_engine.metrics import cache as stats_cache
from genai_engine.metrics.evaluate import REAL_RESERVOIR_SEED, EvalProgress, _fold, _Source
from genai_engine.metrics.reservoir import FeatureReservoir
from genai_engine.metrics.statistics import FeatureStats


def real_statistics(
    source: _Source,
    net,
    *,
    batch_size: int,
    max_features: int = 10_000,
    use_cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    elapsed: Callable[[], float] = lambda: 0.0,
    cancelled: Callable[[], bool] = lambda: False,
    warnings: list[str] | None = None,
) -> Generator[EvalProgress, None, tuple[stats_cache.RealStatsEntry, bool] | None]:
    """Yield progress; return ``(entry, cache_hit)``, or ``None`` once ``cancelled()``.

    ``source`` is what ``evaluate``'s ``_real_source`` makes of a dataset, path or array;
    ``elapsed`` gives the seconds to stamp on progress records; a failed cache write is
    appended to ``warnings`` instead of failing the run.
    """
    key = stats_cache.CacheKey(
        source.fingerprint or "", source.split, net.network_id, net.preprocessing,
        max_features, REAL_RESERVOIR_SEED,
    )
    cacheable = use_cache and bool(source.fingerprint)
    entry = stats_cache.load_entry(key, cache_dir) if cacheable else None
    if entry is not None:
        yield EvalProgress("real features", entry.stats.n, entry.stats.n, elapsed(),
                           f"real statistics from the cache ({entry.stats.n} images)")
        return entry, True
    t0 = time.perf_counter()
    stats = FeatureStats(net.dim)
    reservoir = FeatureReservoir(max_features, net.dim, seed=REAL_RESERVOIR_SEED)
    done = 0
    for images in source.batches(batch_size):
        if cancelled():
            yield EvalProgress("cancelled", done, source.total, elapsed(), "cancelled")
            return None
        feats, _ = net.extract(images)
        _fold(stats, feats)
        reservoir.update(feats)
        done += len(images)
        yield EvalProgress("real features", done, source.total, elapsed(),
                           f"real images {done}/{source.total}")
    entry = stats_cache.RealStatsEntry(
        key, stats, reservoir.rows.copy(),
        {"name": source.name, "seconds": time.perf_counter() - t0},
    )
    if cacheable:
        try:
            stats_cache.save_entry(entry, cache_dir)
        except OSError as error:  # a read-only home must not fail the evaluation
            if warnings is not None:
                warnings.append(f"could not write the statistics cache: {error}")
    return entry, False
