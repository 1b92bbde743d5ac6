"""Run by test_distributed_fid.py under torchrun (gloo): each rank folds its uneven share of a
fixed stream into FeatureStats and a FeatureReservoir, merges them with the real collectives,
and writes what it got to OUT/rank<r>.npz. Not a test module (pytest does not collect it)."""

import sys

import numpy as np

from genai_engine.distributed import init_from_env, shutdown
from genai_engine.metrics.reservoir import FeatureReservoir
from genai_engine.metrics.statistics import FeatureStats

# rows per rank, for 3 ranks: the main rank empty, one rank with a single row, a balanced split
SHARES = ((0, 1, 300), (300, 1, 0), (100, 100, 101), (2, 0, 0))
DIM, CAPACITY, SEED = 6, 50, 5


def stream() -> np.ndarray:
    # a large mean relative to the spread: raw sums of x x^T would lose digits here
    return np.random.default_rng(0).standard_normal((301, DIM)) * 3.0 + 1000.0


def main(out: str) -> None:
    context, _ = init_from_env("cpu")
    x = stream()
    result = {}
    for case, shares in enumerate(SHARES):
        bounds = np.concatenate(([0], np.cumsum(shares)))
        lo, hi = bounds[context.rank], bounds[context.rank + 1]
        stats = FeatureStats(DIM)
        kept = FeatureReservoir(CAPACITY, DIM, seed=SEED)
        for start in range(lo, hi, 7):  # streamed in batches, at their global positions
            stats.update(x[start : min(hi, start + 7)])
            kept.update(x[start : min(hi, start + 7)], start)
        merged, gathered = stats.all_reduce(context), kept.gather(context)
        result.update({f"{case}_n": merged.n, f"{case}_mean": merged.mean,
                       f"{case}_scatter": merged.to_arrays()["scatter"],
                       f"{case}_rows": gathered.rows, f"{case}_positions": gathered.positions,
                       f"{case}_seen": gathered.seen})
    # ragged gather: rank r sends r rows; rank 0 sends none and still learns the row shape
    parts = context.all_gather_arrays(np.full((context.rank, 2, 3), context.rank, np.float32))
    result["ragged"] = np.concatenate(parts)
    result["flag"] = context.broadcast_flag(context.rank == 0)
    np.savez(f"{out}/rank{context.rank}.npz", **result)
    shutdown(context)


if __name__ == "__main__":
    main(sys.argv[1])
