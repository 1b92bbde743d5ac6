"""FID and the other metrics under torchrun (gloo ranks on the CPU, real processes, real rendezvous
on localhost) against one process on the same samples."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dist_merge_worker import CAPACITY, DIM, SEED, SHARES, stream

from genai_engine.metrics.reservoir import FeatureReservoir
from genai_engine.metrics.statistics import FeatureStats

HERE = Path(__file__).resolve().parent
N = 700  # with batch 256: batches of 256, 256, 188, so rank 0 featurises 444 images and rank 1 256


def torchrun(target: list[str], ranks: int, cwd: Path, home: Path | None = None) -> str:
    """Run ``target`` (a script and its arguments, or ``-m module ...``) on ``ranks`` processes
    (one process without torchrun when ``ranks`` is 1); returns stdout."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if home is not None:
        env["GENAI_LAB_HOME"] = str(home)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launcher = [] if ranks == 1 else [
        "-m", "torch.distributed.run", f"--nproc_per_node={ranks}", "--rdzv-backend=c10d",
        f"--rdzv-endpoint=127.0.0.1:{port}",
    ]
    result = subprocess.run([sys.executable, *launcher, *target], capture_output=True, text=True,
                            timeout=120, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-300))


# --- the merge itself: 3 gloo ranks, uneven shares ----------------------------------------------

def test_all_reduce_of_uneven_shares_equals_one_stream(tmp_path):
    torchrun([str(HERE / "dist_merge_worker.py"), str(tmp_path)], 3, tmp_path)
    x = stream()
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(3)]
    for case, shares in enumerate(SHARES):
        whole = x[: sum(shares)]
        one = FeatureStats(DIM)
        kept = FeatureReservoir(CAPACITY, DIM, seed=SEED)
        for start in range(0, len(whole), 7):
            one.update(whole[start : start + 7])
            kept.update(whole[start : start + 7])
        for got in ranks:  # every rank holds the merged result
            assert int(got[f"{case}_n"]) == one.n
            assert relative(got[f"{case}_mean"], one.mean) < 1e-14
            assert relative(got[f"{case}_scatter"], one.to_arrays()["scatter"]) < 1e-11
            # the reservoir of the union is the one-stream reservoir, row for row
            np.testing.assert_array_equal(got[f"{case}_rows"], kept.rows)
            np.testing.assert_array_equal(got[f"{case}_positions"], kept.positions)
            assert int(got[f"{case}_seen"]) == kept.seen
    expected = np.concatenate([np.full((r, 2, 3), r, np.float32) for r in range(3)])
    for got in ranks:
        np.testing.assert_array_equal(got["ragged"], expected)
        assert bool(got["flag"])


def test_reservoir_merge_is_independent_of_the_split():
    x = np.random.default_rng(1).standard_normal((5000, 3)).astype(np.float32)
    one = FeatureReservoir(400, 3, seed=9)
    one.update(x)
    parts = [FeatureReservoir(400, 3, seed=9) for _ in range(3)]
    for k, start in enumerate(range(0, 5000, 333)):  # round robin, like the ranks' batches
        parts[k % 3].update(x[start : start + 333], start)
    merged = parts[2].merge(parts[0]).merge(parts[1])
    np.testing.assert_array_equal(merged.rows, one.rows)
    assert merged.seen == 5000 and len(np.unique(merged.positions)) == 400
    with pytest.raises(ValueError):
        one.merge(FeatureReservoir(400, 3, seed=10))


# --- every rank's share of a source: the single-process batches, split round robin ----------------

def test_rank_shares_are_the_single_process_batches(tmp_path):
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.metrics.sources import fake_source
    from genai_engine.resources import demo_checkpoint_path

    images = np.random.default_rng(2).integers(0, 256, (1500, 28, 28, 1), dtype=np.uint8)
    chunks = [images[:700], images[700:1100], images[1100:]]
    sources = [lambda: fake_source(images, 1234, 3, "cpu"),  # a seeded subset of an array
               lambda: fake_source(iter(chunks), 1500, 0, "cpu")]  # caller's chunks
    if demo_checkpoint_path().is_file():  # prior samples decoded in chunks of 1000
        checkpoint = load_checkpoint(demo_checkpoint_path())
        sources.append(lambda: fake_source(checkpoint, 2300, 4, "cpu"))
    for make in sources:
        one = list(make().shard(96, 0, 1))
        for world in (2, 3):
            shares = [list(make().shard(96, rank, world)) for rank in range(world)]
            assert [len(s) for s in shares] == [len(one[r::world]) for r in range(world)]
            if make().chunk is not None:
                assert [make().share(96, r, world) for r in range(world)] == [
                    sum(len(b) for _, b in s) for s in shares]
            merged = sorted((first, batch) for s in shares for first, batch in s)
            assert [first for first, _ in merged] == [first for first, _ in one]
            for (_, a), (_, b) in zip(merged, one, strict=True):
                np.testing.assert_array_equal(a, b)


# --- genai-lab fid: 2 ranks against 1 process ------------------------------------------------

@pytest.fixture(scope="module")
def fid_setup(tmp_path_factory):
    from genai_engine.data import load_dataset
    from genai_engine.metrics.features.domain import default_weights_path
    from genai_engine.resources import demo_checkpoint_path

    if not (demo_checkpoint_path().is_file() and default_weights_path().is_file()):
        pytest.skip("needs resources/models/demo_vae.pt and domain_fashion_mnist.pt")
    root = tmp_path_factory.mktemp("fid")
    np.savez(root / "real.npz", images=load_dataset("fashion-mnist").test.images[:N])
    args = ["-m", "genai_engine", "fid", "--real", "real.npz", "--checkpoint",
            str(demo_checkpoint_path()), "--num-images", str(N), "--features", "domain",
            "--device", "cpu", "--batch-size", "256", "--bootstrap", "20", "--json"]
    stdout = torchrun([*args, "--save-stats", "single.npz"], 1, root, root / "home-single")
    return root, args, json.loads(stdout.strip().splitlines()[-1])


def cache_files(home: Path) -> list[Path]:
    return sorted((home / "stats_cache").iterdir())


def check_same_result(two: dict, one: dict) -> float:
    assert two["world_size"] == 2 and one["world_size"] == 1
    assert two["n_real"] == one["n_real"] == N and two["n_fake"] == one["n_fake"] == N
    fid_gap = abs(two["fid"] - one["fid"]) / one["fid"]
    assert fid_gap <= 1e-9, (two["fid"], one["fid"])
    # the kept rows and the logits are the single-process ones, so the rest agrees as closely
    for name in ("kid_mean", "inception_score", "inception_score_std", "precision", "recall"):
        assert two[name] == pytest.approx(one[name], rel=1e-12, abs=1e-15), name
    assert two["fid_ci"] == pytest.approx(one["fid_ci"], rel=1e-9)
    return fid_gap


def test_torchrun_fid_equals_one_process(fid_setup):
    root, args, one = fid_setup
    stdout = torchrun([*args, "--save-stats", "ddp.npz"], 2, root, root / "home-ddp")
    assert sum(line.startswith("{") for line in stdout.splitlines()) == 1  # rank 0 alone prints
    two = json.loads(stdout.strip().splitlines()[-1])
    gap = check_same_result(two, one)
    print(f"relative FID difference, 2 gloo ranks vs 1 process: {gap:.2e}")
    assert not one["real_cache_hit"] and not two["real_cache_hit"]

    # generated-side moments, written by rank 0 only
    a, b = np.load(root / "single.npz"), np.load(root / "ddp.npz")
    assert int(a["n"]) == int(b["n"]) == N
    for name in ("mean", "scatter", "mu", "sigma"):
        assert relative(b[name], a[name]) < 1e-12, name
    # the real-statistics cache: one entry (no temp files) with the single-process content
    (entry,), (single_entry,) = cache_files(root / "home-ddp"), cache_files(root / "home-single")
    assert entry.name == single_entry.name
    c, d = np.load(entry), np.load(single_entry)
    assert int(c["stats_n"]) == N
    assert relative(c["stats_mean"], d["stats_mean"]) < 1e-12
    assert relative(c["stats_scatter"], d["stats_scatter"]) < 1e-12
    np.testing.assert_array_equal(c["features"], d["features"])
    np.testing.assert_array_equal(c["radii_k3"], d["radii_k3"])


def test_torchrun_fid_reads_the_cache_on_rank_0(fid_setup):
    root, args, one = fid_setup
    home = root / "home-hit"
    shutil.copytree(root / "home-single", home)
    before = {p.name: p.stat().st_mtime_ns for p in cache_files(home)}
    two = json.loads(torchrun(args, 2, root, home).strip().splitlines()[-1])
    assert two["real_cache_hit"]
    check_same_result(two, one)
    assert {p.name: p.stat().st_mtime_ns for p in cache_files(home)} == before
