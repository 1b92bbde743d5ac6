"""FID benchmarks; run alone: ``python tests/benchmarks/bench_fid.py [--quick] [--skip ...]``.

Prints a readable line per measurement on stderr and one JSON object as the last stdout line.
Every comparison is made side by side in the same process, interleaving the two contenders
and reporting medians, because the lab machines are shared and their speed drifts.

1. ``frechet``: our symmetric-eigh Fréchet distance vs the ``scipy.linalg.sqrtm`` formula
   (pytorch-fid's) on the same d = 2048 statistics (target: >= 6x).
2. ``inception``: Inception images/s, ours (folded batch-norm, merged 1x1 convolutions,
   channels-last, inference mode) vs a reference network with the same weights: pytorch-fid's
   ``InceptionV3`` when importable (see tests/engine/test_metrics_inception.py), and the
   published TorchScript file run as it is; same input (28x28 Fashion-MNIST images, resized
   inside), same batch size, same thread count (target: >= 1.5x).
3. ``domain_e2e``: domain-network FID of 10,000 samples from a VAE checkpoint against the
   cached Fashion-MNIST test statistics, end to end (target: <= 10 s); both the ``evaluate``
   call alone and the whole ``genai-lab fid`` process (Python start and imports included).
4. ``memory``: peak RSS of a fresh process evaluating 50,000 vs 10,000 samples (target: within
   100 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def median(values):
    return float(statistics.median(values))


# --- 1. Fréchet distance --------------------------------------------------------------------

def bench_frechet(repeats: int, dim: int = 2048) -> dict:
    """Median seconds of each method, alternating them; the speedup is the ratio of medians."""
    import scipy.linalg

    from genai_engine.metrics.frechet import frechet_distance

    rng = np.random.default_rng(0)

    def stats(shift):
        # realistic spectrum: post-ReLU-like features, more samples than dimensions
        mix = rng.standard_normal((dim, dim)) / np.sqrt(dim)
        x = np.maximum(rng.standard_normal((dim + 1000, dim)) @ mix + shift, 0)
        return x.mean(0), np.cov(x, rowvar=False)

    mu1, s1 = stats(0.0)
    mu2, s2 = stats(0.1)

    def scipy_formula():
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        diff = mu1 - mu2
        return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(np.real(covmean)))

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    ours_t, ref_t = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        ref = scipy_formula()
        ref_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        ours = frechet_distance(mu1, s1, mu2, s2)
        ours_t.append(time.perf_counter() - t)
        log(f"frechet d={dim} (OPENBLAS_NUM_THREADS={threads}): eigh form {ours_t[-1]:.2f} s, "
            f"scipy sqrtm {ref_t[-1]:.2f} s")
    return {
        "dim": dim, "repeats": repeats, "openblas_threads": threads,
        "eigh_s": median(ours_t), "sqrtm_s": median(ref_t),
        "speedup": median(ref_t) / median(ours_t), "fid_eigh": ours, "fid_sqrtm": ref,
        "relative_difference": abs(ours - ref) / abs(ref),
    }


# --- 2. Inception throughput -----------------------------------------------------------------

def bench_inception(rounds: int, batch: int) -> dict:
    import test_metrics_inception as helpers
    import torch

    from genai_engine.metrics.features import inception as inc

    weights = helpers.inception_weights_path()
    if weights is None:
        return {"skipped": "Inception weights not installed (genai-lab weights install)"}
    images = helpers.fashion_images(batch)
    contenders = {"ours": inc.load_inception(weights)}
    pfi = helpers.import_pytorch_fid()
    if pfi is not None:
        model = helpers.pytorch_fid_model(pfi, weights)
        contenders["pytorch_fid"] = lambda: helpers.pytorch_fid_features(model, images)
    if inc.identify_weights(weights) == "torchscript":
        script = torch.jit.load(str(weights), map_location="cpu").eval()

        def run_script():
            x = torch.from_numpy(np.array(images)).permute(0, 3, 1, 2).float() / 255.0
            x = torch.nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
            with torch.no_grad():
                return script((2 * x - 1).repeat(1, 3, 1, 1)).numpy()

        contenders["torchscript_file"] = run_script
    ours_net = contenders["ours"]
    contenders["ours"] = lambda: ours_net.extract(images)[0]
    for fn in contenders.values():  # warm-up (oneDNN primitive creation)
        fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name, fn in contenders.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
        log(f"inception round {r + 1}: " + ", ".join(
            f"{name} {batch / times[name][-1]:.1f} img/s" for name in contenders))
    out = {"batch": batch, "rounds": rounds, "threads": torch.get_num_threads()}
    for name, ts in times.items():
        out[f"{name}_images_per_s"] = batch / median(ts)
    for ref in ("pytorch_fid", "torchscript_file"):
        if ref in times:
            out[f"speedup_vs_{ref}"] = median(times[ref]) / median(times["ours"])
    return out


# --- 3 and 4. Domain FID end to end, memory --------------------------------------------------

def ensure_checkpoint(folder: Path) -> Path:
    from genai_engine.resources import demo_checkpoint_path

    if demo_checkpoint_path().is_file():
        return demo_checkpoint_path()
    from genai_engine.data import load_dataset
    from genai_engine.training import TrainConfig, train

    path = folder / "checkpoint.pt"
    if not path.is_file():
        log("no demo checkpoint: training a VAE for 2 epochs (not timed)")
        for _ in train(load_dataset("fashion-mnist"), train_config=TrainConfig(epochs=2, device="cpu"),
                       out_dir=folder):
            pass
    return path


CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()


def peak_rss_mb():
    # VmHWM belongs to this program's own address space; ru_maxrss can report the parent's
    # size when the child was forked from a large benchmark process before exec
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


from genai_engine.checkpoints import load_checkpoint
from genai_engine.metrics.evaluate import EvalResult, evaluate
ckpt = load_checkpoint(sys.argv[1])
n = int(sys.argv[2])
full = sys.argv[3] == "full"
extra = {} if full else dict(kid=False, precision_recall_k=None, inception_score_splits=None, bootstrap=0)
t1 = time.perf_counter()
for r in evaluate("fashion-mnist", ckpt, n=n, features="domain", device="cpu", **extra):
    pass
assert isinstance(r, EvalResult), r
t2 = time.perf_counter()
print(json.dumps({"fid": r.fid, "evaluate_s": t2 - t1, "process_s": t2 - t0, "cache_hit": r.real_cache_hit,
                  "peak_rss_mb": peak_rss_mb(),
                  "timings": r.timings}))
"""


def child(checkpoint: Path, n: int, mode: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(checkpoint), str(n), mode],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_domain(repeats: int, home: Path, checkpoint: Path) -> dict:
    env = dict(os.environ, GENAI_LAB_HOME=str(home), PYTHONPATH=str(ROOT))
    fill = child(checkpoint, 1000, "full", env)  # fills the real-statistics cache (not timed)
    log(f"real statistics computed and cached in {fill['timings'].get('real_features', 0):.2f} s")
    fid_only, full, cli = [], [], []
    for _ in range(repeats):
        fid_only.append(child(checkpoint, 10_000, "fid", env))
        full.append(child(checkpoint, 10_000, "full", env))
        assert fid_only[-1]["cache_hit"] and full[-1]["cache_hit"]
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "genai_engine", "fid", "--checkpoint", str(checkpoint), "--n", "10000",
             "--features", "domain", "--device", "cpu", "--json", "--no-kid", "--no-pr", "--no-is",
             "--bootstrap", "0"],
            capture_output=True, text=True, env=env, cwd=ROOT,
        )
        cli.append(time.perf_counter() - t)
        cli_ok = out.returncode == 0
        log(f"domain e2e 10k: evaluate (FID only) {fid_only[-1]['evaluate_s']:.2f} s, process "
            f"{fid_only[-1]['process_s']:.2f} s; all metrics {full[-1]['evaluate_s']:.2f} s; "
            f"`genai-lab fid` wall {cli[-1]:.2f} s (ok={cli_ok})")
    return {
        "n": 10_000, "repeats": repeats, "fid": fid_only[-1]["fid"],
        "fid_only_evaluate_s": median([r["evaluate_s"] for r in fid_only]),
        "fid_only_process_s": median([r["process_s"] for r in fid_only]),
        "all_metrics_evaluate_s": median([r["evaluate_s"] for r in full]),
        "all_metrics_timings": full[-1]["timings"],
        "cli_wall_s": median(cli) if cli_ok else None,
    }


def bench_memory(home: Path, checkpoint: Path) -> dict:
    env = dict(os.environ, GENAI_LAB_HOME=str(home), PYTHONPATH=str(ROOT))
    small = child(checkpoint, 10_000, "full", env)
    large = child(checkpoint, 50_000, "full", env)
    log(f"peak RSS: 10k {small['peak_rss_mb']:.0f} MB, 50k {large['peak_rss_mb']:.0f} MB")
    return {
        "peak_rss_10k_mb": small["peak_rss_mb"], "peak_rss_50k_mb": large["peak_rss_mb"],
        "difference_mb": large["peak_rss_mb"] - small["peak_rss_mb"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--skip", nargs="*", default=[], choices=["frechet", "inception", "domain", "memory"])
    parser.add_argument("--batch", type=int, default=32, help="Inception batch size")
    args = parser.parse_args()
    repeats = 2 if args.quick else 3
    result: dict = {"machine": {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}}
    if "frechet" not in args.skip:
        result["frechet"] = bench_frechet(repeats)
        # again with one BLAS thread, in a child process (the variable is read at import):
        # two OpenBLAS threads on an oversubscribed shared machine spin against other work
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
        code = f"import json, bench_fid; print(json.dumps(bench_fid.bench_frechet({repeats})))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                             cwd=Path(__file__).parent, check=True)
        sys.stderr.write(out.stderr)
        result["frechet_one_blas_thread"] = json.loads(out.stdout.strip().splitlines()[-1])
    if "inception" not in args.skip:
        result["inception"] = bench_inception(repeats, args.batch)
    with tempfile.TemporaryDirectory(prefix="bench-fid-") as tmp:
        home = Path(tmp)
        if "domain" not in args.skip or "memory" not in args.skip:
            checkpoint = ensure_checkpoint(home / "vae")
        if "domain" not in args.skip:
            result["domain_e2e"] = bench_domain(repeats, home, checkpoint)
        if "memory" not in args.skip:
            result["memory"] = bench_memory(home, checkpoint)
    result["machine"]["load_avg_end"] = os.getloadavg()
    result["machine"]["self_cpu_s"] = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
