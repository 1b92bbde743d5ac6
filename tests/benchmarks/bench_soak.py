"""Soak: does memory keep growing over many slider drags, trainings and evaluations?

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_soak.py [--cycles 5] [--drags 2000]

One process, the app's own pieces: an ``AppState`` with its ``TaskRunner`` and the Explore tab
at 1280x800 on a small Fashion-MNIST subset. One warm-up cycle fills caches and allocator pools,
then RSS (from /proc/self/statm) is sampled; each cycle drags the most informative latent slider
``drags / cycles`` times (the event loop runs between moves, as in a real drag), trains a small
model through the runner, evaluates it through the runner, then collects garbage and samples RSS.
The last line printed is one JSON object: growth in MB overall and per cycle. ``--no-trim``
turns off the runner's ``malloc_trim`` after each task, the fix this soak measures.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.state import AppState  # noqa: E402
from desktop.tabs.explore_tab import ExploreTab  # noqa: E402
from genai_engine.checkpoints import load_checkpoint  # noqa: E402
from genai_engine.data import Dataset, ImageSet, load_dataset  # noqa: E402
from genai_engine.families.vae.nets import ModelConfig  # noqa: E402
from genai_engine.tasks import drain  # noqa: E402
from genai_engine.training import TrainConfig, train  # noqa: E402

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE_MB


def wait(app: QApplication, condition, timeout_s: float = 120.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("condition not met in time")
        app.processEvents()
        time.sleep(0.002)


def subset(dataset: Dataset, n_train: int, n_test: int) -> Dataset:
    def head(part: ImageSet, n: int) -> ImageSet:
        return ImageSet(part.images[:n].copy(), None if part.labels is None else part.labels[:n].copy())
    return Dataset("fashion-mnist-soak", head(dataset.train, n_train), head(dataset.test, n_test),
                   list(dataset.class_names or []), source="bench")


def run_task(app, state: AppState, name: str, work) -> str:
    outcome = []
    state.runner.submit(name, work, on_finished=lambda _r: outcome.append("finished"),
                        on_error=lambda m: outcome.append(f"error: {m}"),
                        on_cancelled=lambda: outcome.append("cancelled"))
    wait(app, lambda: outcome and not state.runner.active)
    return outcome[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=5, help="measured cycles after warm-up")
    parser.add_argument("--drags", type=int, default=2000, help="slider moves in all cycles")
    parser.add_argument("--train-images", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--no-trim", action="store_true",
                        help="skip the TaskRunner's malloc_trim after tasks, to see what it saves")
    args = parser.parse_args()
    if args.no_trim:
        import desktop.task_runner

        desktop.task_runner.release_free_memory = lambda: False
    torch.set_num_threads(1)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from genai_engine.metrics.evaluate import evaluate

    dataset = subset(load_dataset("fashion-mnist"), args.train_images, 500)
    config = ModelConfig(hidden=(64,), latent_dim=8, image_shape=dataset.image_shape)
    train_config = TrainConfig(epochs=args.epochs, batch_size=100, device="cpu")
    out = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    done = drain(train(dataset, config, train_config, out_dir=out / "start"))
    state = AppState(device="cpu")
    state.set_dataset(dataset)
    state.set_checkpoint(load_checkpoint(done.checkpoint))
    tab = ExploreTab(state)
    tab.resize(1280, 800)
    tab.show()
    wait(app, lambda: tab.encoded is not None and not tab.decoder.busy)
    slider = tab.sliders.slider(int(tab.sliders.order[0]))
    low, high = slider.minimum(), slider.maximum()
    drags_per_cycle = max(1, args.drags // args.cycles)
    outcomes: list[str] = []

    def cycle(index: int) -> None:
        slider.setSliderDown(True)
        for step in range(drags_per_cycle):
            slider.setValue(low + (step * 7) % (high - low + 1))
            app.processEvents()
        slider.setSliderDown(False)
        wait(app, lambda: not tab.decoder.busy)
        run_dir = out / f"run-{index}"
        outcomes.append(run_task(app, state, "Training", lambda control: train(
            dataset, config, train_config, out_dir=run_dir, control=control)))
        checkpoint = load_checkpoint(run_dir / "checkpoint.pt") if (
            run_dir / "checkpoint.pt").exists() else state.checkpoint
        outcomes.append(run_task(app, state, "Evaluation", lambda control: evaluate(
            dataset.test.images, checkpoint, n=500, device="cpu", kid=False,
            precision_recall_k=None, inception_score_splits=None, use_cache=False,
            control=control)))
        gc.collect()
        app.processEvents()

    started = time.monotonic()
    cycle(-1)  # warm-up
    baseline = rss_mb()
    samples = [round(baseline, 1)]
    for index in range(args.cycles):
        cycle(index)
        samples.append(round(rss_mb(), 1))
        print(f"cycle {index + 1}/{args.cycles}: RSS {samples[-1]:.1f} MB", flush=True)
    end = rss_mb()
    state.runner.shutdown(30_000)
    result = {
        "benchmark": "soak",
        "cycles": args.cycles,
        "malloc_trim_after_tasks": not args.no_trim,
        "slider_moves": drags_per_cycle * args.cycles,
        "trainings": args.cycles,
        "evaluations": args.cycles,
        "epochs_per_training": args.epochs,
        "train_images": args.train_images,
        "task_outcomes": sorted(set(outcomes)),
        "rss_after_warmup_mb": round(baseline, 1),
        "rss_end_mb": round(end, 1),
        "rss_samples_mb": samples,
        "growth_mb": round(end - baseline, 1),
        "growth_per_cycle_mb": round((end - baseline) / args.cycles, 2),
        "growth_last_half_mb": round(samples[-1] - samples[len(samples) // 2], 1),
        "wall_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
