"""FID per epoch of a checkpoint's timeline; run alone:
``python tests/benchmarks/bench_timeline_fid.py [--checkpoint PATH] [--n 2000] [--repeats 3]``.

Measures ``genai_engine.analysis.timeline_fid`` end to end (network load, sampling every
epoch snapshot, features, FID and KID) on the domain network against Fashion-MNIST's test
split: once cold (real statistics computed, in a fresh cache folder) and ``--repeats`` times
warm (real statistics from that cache), reporting the median. Prints a readable line per run
on stderr and one JSON object as the last stdout line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", default=str(ROOT / "resources" / "models" / "demo_vae.pt"))
    parser.add_argument("--n", type=int, default=2000, help="samples per epoch")
    parser.add_argument("--features", default="domain")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from genai_engine.analysis.timeline_fid import format_timeline, timeline_fid
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.data import load_dataset
    from genai_engine.tasks import drain

    checkpoint = load_checkpoint(args.checkpoint)
    real = load_dataset("fashion-mnist")
    with tempfile.TemporaryDirectory() as cache:
        def run():
            t0 = time.perf_counter()
            result = drain(timeline_fid(checkpoint, real, n=args.n, features=args.features,
                                        device=args.device, cache_dir=cache))
            return time.perf_counter() - t0, result

        cold, result = run()
        print(f"cold (real statistics computed): {cold:.2f} s", file=sys.stderr)
        warm = []
        for _ in range(args.repeats):
            seconds, result = run()
            warm.append(seconds)
            print(f"warm (cached real statistics): {seconds:.2f} s", file=sys.stderr)
    print(format_timeline(result), file=sys.stderr)
    print(json.dumps({
        "checkpoint": Path(args.checkpoint).name, "epochs": len(result.rows),
        "n_per_epoch": args.n, "features": args.features, "device": result.device,
        "cold_seconds": round(cold, 2), "warm_seconds_median": round(statistics.median(warm), 2),
        "warm_seconds": [round(s, 2) for s in warm],
        "fid": {int(row.epoch): round(row.fid, 4) for row in result.rows},
    }))


if __name__ == "__main__":
    main()
