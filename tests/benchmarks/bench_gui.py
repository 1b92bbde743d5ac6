"""GUI speed: slider-to-pixels latency, event-loop stalls and training speed inside the app.

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_gui.py [--repeats 3] [--torch-threads 1]

On the demo model (or, if ``resources/models/demo_vae.pt`` is absent, a default model trained
for one epoch first), the Explore tab is shown at 1280x800 with the encoded test-set map. Each
repeat trains the default model on Fashion-MNIST three times in the same process, in rotating
order: headless (the engine's ``train`` drained in a plain loop), inside the app (the same
generator through the ``TaskRunner`` while the event loop runs) and inside the app while a
simulated drag moves the most informative latent slider back and forth: one ``setValue``
every 8 ms (a 125 Hz mouse) from a timer, so the event loop runs between steps as it does
during a real drag.

What is measured:
- latency: from a slider value change to the end of ``ImageItem.paint`` for the first frame
  whose image is the decoding of that value or of a newer one (latest-wins may skip values a
  newer one supersedes; their latency is until the newer image is painted). ``paint`` is
  where pyqtgraph turns the new array into a QImage and draws it into the window's backing
  store, so this is the new pixels rendered, not merely the array handed over.
- stall: a 5 ms ``PreciseTimer`` records how late each tick fires while training runs; the
  longest lateness is the longest the event loop was blocked. A watchdog thread prints where
  the GUI thread was during stalls over 100 ms.
- training speed: ``TrainingDone.samples_per_s`` (optimisation only, evaluation excluded).

Medians over repeats are reported; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.state import AppState  # noqa: E402
from desktop.tabs.explore_tab import ExploreTab  # noqa: E402
from genai_engine.checkpoints import load_checkpoint  # noqa: E402
from genai_engine.resources import demo_checkpoint_path  # noqa: E402
from genai_engine.tasks import drain  # noqa: E402
from genai_engine.training import TrainConfig, train  # noqa: E402

DRAG_INTERVAL_MS = 8
STALL_TICK_MS = 5


def load_fashion_mnist():
    from genai_engine.data import load_dataset

    return load_dataset("fashion-mnist")


def wait(app: QApplication, condition, timeout_s: float = 60.0) -> None:
    end = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the GUI did not reach the expected state in time")
        app.processEvents(QEventLoop.AllEvents, 10)
        time.sleep(0.001)


class PaintProbe:
    """Wraps the decoded ImageItem's ``paint`` to log (time, generation shown) per frame."""

    def __init__(self, tab: ExploreTab) -> None:
        self.frames: list[tuple[float, int]] = []
        item, decoder = tab.decoded_view.item, tab.decoder
        original = item.paint

        def paint(*args, **kwargs):
            original(*args, **kwargs)
            self.frames.append((time.perf_counter(), decoder.delivered_generation))

        item.paint = paint


class StallMeter:
    """A fast timer whose lateness is the time the event loop spent blocked."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(STALL_TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.lateness_ms: list[float] = []
        self.long_stalls: list[tuple[float, float, str]] = []  # (at s, ms, what training did)
        self.context = lambda: ""

    def start(self, context=lambda: "") -> None:
        self.lateness_ms, self.long_stalls, self.context = [], [], context
        self.stacks: list[str] = []
        self.clock.start()
        self._last = 0.0
        self._beat = time.perf_counter()
        self._watching = True
        self._watchdog = threading.Thread(target=self._watch, daemon=True)
        self._watchdog.start()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._watching = False
        self._watchdog.join()

    def _watch(self) -> None:
        """While the GUI thread is silent for > 100 ms, note where it is (once per stall)."""
        main_id, noted = threading.main_thread().ident, None
        while self._watching:
            time.sleep(0.02)
            beat = self._beat
            if time.perf_counter() - beat > 0.1 and noted != beat and len(self.stacks) < 5:
                noted = beat
                frames = sys._current_frames()
                where = []
                for ident, frame in frames.items():  # the GUI thread first, then the others
                    if ident == threading.get_ident():
                        continue
                    name = "GUI" if ident == main_id else f"thread {ident}"
                    depth = -4 if ident == main_id else -2
                    where.append(f"  [{name}]\n" + "".join(traceback.format_stack(frame)[depth:]))
                where.sort(key=lambda text: not text.startswith("  [GUI]"))
                self.stacks.append("".join(where))

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        self._beat = time.perf_counter()
        late = max(0.0, now - self._last - STALL_TICK_MS)
        self.lateness_ms.append(late)
        if late > 50:
            self.long_stalls.append((round(now / 1000, 2), round(late, 1), self.context()))
        self._last = now


def drag_positions(steps: int) -> list[int]:
    """Slider ticks for a back-and-forth drag across the whole range, 6 ticks (0.06) a step."""
    sweep = list(range(-300, 301, 6))
    out = []
    while len(out) < steps:
        out.extend(sweep)
        sweep.reverse()
    return out[:steps]


def latencies(requests: list[tuple[float, int]], frames: list[tuple[float, int]]) -> list[float]:
    """For each (time, generation) request: ms until a frame shows that generation or newer."""
    out = []
    frame_times = np.array([t for t, _ in frames])
    frame_gens = np.array([g for _, g in frames])
    for t, generation in requests:
        later = np.flatnonzero((frame_times >= t) & (frame_gens >= generation))
        if len(later):
            out.append((frame_times[later[0]] - t) * 1000)
    return out


def drive_drag(app, tab, probe, *, min_steps: int, until=None) -> tuple[list[float], int]:
    """Drag from a timer until ``until()`` is true (and at least ``min_steps``); latencies."""
    slider = tab.sliders.slider(int(tab.sliders.order[0]))
    positions = drag_positions(100_000)
    requests: list[tuple[float, int]] = []
    probe.frames.clear()
    slider.setSliderDown(True)
    loop = QEventLoop()

    def step():
        done = len(requests) >= min_steps and (until is None or until())
        if done or len(requests) >= len(positions):
            timer.stop()
            loop.quit()
            return
        t = time.perf_counter()
        slider.setValue(positions[len(requests)])
        requests.append((t, tab.decoder.generation))

    timer = QTimer()
    timer.setTimerType(Qt.PreciseTimer)
    timer.setInterval(DRAG_INTERVAL_MS)
    timer.timeout.connect(step)
    timer.start()
    loop.exec()
    slider.setSliderDown(False)
    wait(app, lambda: not tab.decoder.busy)
    wait(app, lambda: probe.frames and probe.frames[-1][1] == tab.decoder.generation, 5)
    return latencies(requests, probe.frames), len(requests)


def training_work(dataset, config, threads: int | None):
    """The engine's trainer, with torch's intra-op thread count set in the thread that runs it
    (OpenMP keeps the setting per thread, so the app's worker and the main thread match)."""
    def work(control=None):
        if threads:
            torch.set_num_threads(threads)
        return train(dataset, None, config, control=control)
    return work


def train_in_app(app, state, tab, probe, stall, dataset, config, steps, threads, drag) -> dict:
    """Train through the TaskRunner, dragging or not; the run's speed, stalls (and latencies)."""
    finished, last = {}, {"record": "starting"}

    def describe(record) -> None:
        last["record"] = f"{type(record).__name__} epoch {getattr(record, 'epoch', '-')}"

    state.runner.submit("benchmark training", training_work(dataset, config, threads),
                        on_progress=describe, on_finished=lambda done: finished.update(done=done))
    stall.start(lambda: last["record"])
    result = {}
    if drag:
        lat, count = drive_drag(app, tab, probe, min_steps=steps, until=lambda: "done" in finished)
        result.update(latencies=lat, steps=count)
    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: "done" in finished and loop.quit())
    poll.start(20)
    loop.exec()  # the event loop runs as in the app while training finishes
    poll.stop()
    stall.stop()
    result.update(images_per_s=finished["done"].samples_per_s, stall_max=max(stall.lateness_ms),
                  stall_p99=percentile(stall.lateness_ms, 99), long_stalls=stall.long_stalls,
                  stacks=stall.stacks)
    return result


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summarise(runs: list[dict]) -> dict:
    """Medians over repeats of the latency, stall and training-speed figures."""
    med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    pooled = [v for r in runs for v in r["latencies"]]
    return {
        "repeats_summarised": len(runs),
        "latency_p50_ms": round(med("p50"), 2),
        "latency_p95_ms": round(med("p95"), 2),
        "latency_pooled_p50_ms": round(percentile(pooled, 50), 2),
        "latency_pooled_p95_ms": round(percentile(pooled, 95), 2),
        "longest_stall_ms": round(med("app_idle_stall_max"), 1),
        "longest_stall_while_dragging_ms": round(med("app_drag_stall_max"), 1),
        "stall_p99_ms": round(med("app_idle_stall_p99"), 2),
        "stall_p99_while_dragging_ms": round(med("app_drag_stall_p99"), 2),
        "train_images_per_s_headless": round(med("headless")),
        "train_images_per_s_app": round(med("app_idle")),
        "train_images_per_s_app_while_dragging": round(med("app_drag")),
        "train_ratio_app_over_headless": round(med("app_idle") / med("headless"), 3),
        "train_ratio_app_while_dragging_over_headless": round(med("app_drag") / med("headless"), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1, help="epochs per training run")
    parser.add_argument("--steps", type=int, default=300, help="minimum drag steps per repeat")
    parser.add_argument("--checkpoint", help="model to explore (default: the demo model)")
    parser.add_argument("--switch-interval-ms", default=None,
                        help="sys.setswitchinterval in ms (the GIL hand-over period; Python's "
                             "default is 5 ms); a comma list such as 5,1 alternates the values "
                             "repeat by repeat and reports each one's medians side by side")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch intra-op threads for both training runs (default: torch's); on "
                             "a machine busy with other work, 2 OpenMP threads on 2 cores can "
                             "train 5x slower than 1, which swamps the comparison")
    args = parser.parse_args()
    intervals = ([float(v) for v in args.switch_interval_ms.split(",")]
                 if args.switch_interval_ms else [sys.getswitchinterval() * 1000])
    sys.setswitchinterval(intervals[0] / 1000)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    dataset = load_fashion_mnist()
    state = AppState(device="cpu")
    state.set_dataset(dataset)
    path = Path(args.checkpoint) if args.checkpoint else demo_checkpoint_path()
    model_source = str(path)
    if not path.exists():
        out = tempfile.mkdtemp(prefix="bench-gui-")
        print("no demo checkpoint: training a default model for one epoch…", flush=True)
        done = drain(train(dataset, None, TrainConfig(epochs=1, device="cpu"), out_dir=out))
        path, model_source = Path(done.checkpoint), "fresh default model, 1 epoch"
    state.set_checkpoint(load_checkpoint(path))

    tab = ExploreTab(state)
    tab.resize(1280, 800)
    tab.show()
    probe = PaintProbe(tab)
    wait(app, lambda: tab.encoded is not None and not tab.decoder.busy and probe.frames)

    idle, _ = drive_drag(app, tab, probe, min_steps=args.steps)
    print(f"idle: p50 {percentile(idle, 50):.2f} ms  p95 {percentile(idle, 95):.2f} ms", flush=True)

    config = TrainConfig(epochs=args.epochs, device="cpu")
    stall = StallMeter()
    runs = []
    modes = ["headless", "app_idle", "app_drag"]
    for repeat in range(args.repeats):
        interval = intervals[repeat % len(intervals)]
        sys.setswitchinterval(interval / 1000)
        result = {"switch_interval_ms": interval}
        for mode in modes[repeat % 3:] + modes[:repeat % 3]:  # rotate so load drift evens out
            if mode == "headless":
                work = training_work(dataset, config, args.torch_threads)
                result["headless"] = drain(work()).samples_per_s
                continue
            run = train_in_app(app, state, tab, probe, stall, dataset, config, args.steps,
                               args.torch_threads, drag=mode == "app_drag")
            result[mode] = run.pop("images_per_s")
            result.update({f"{mode}_{k}" if k.startswith(("stall", "long", "stacks")) else k: v
                           for k, v in run.items()})
        result["p50"] = percentile(result["latencies"], 50)
        result["p95"] = percentile(result["latencies"], 95)
        runs.append(result)
        print(f"repeat {repeat + 1} (GIL switch interval {interval:g} ms): "
              f"{result['steps']} drag steps, latency p50 {result['p50']:.2f} ms "
              f"p95 {result['p95']:.2f} ms; longest stall {result['app_idle_stall_max']:.1f} ms "
              f"(not dragging), {result['app_drag_stall_max']:.1f} ms (dragging); training img/s "
              f"headless {result['headless']:.0f}, app {result['app_idle']:.0f}, app while "
              f"dragging {result['app_drag']:.0f}", flush=True)
        for mode in ("app_idle", "app_drag"):
            stalls = sorted(result[f"{mode}_long_stalls"], key=lambda s: -s[1])[:5]
            if stalls:
                print(f"  {mode} stalls over 50 ms (s into run, ms, last record seen): {stalls}")
            for stack in result[f"{mode}_stacks"][:2]:
                print(f"  {mode}, where the threads were during a stall:\n{stack}", flush=True)

    state.runner.shutdown()
    summary = {
        "benchmark": "gui_explore",
        "model": model_source,
        "platform": os.environ.get("QT_QPA_PLATFORM", "default"),
        "repeats": args.repeats,
        "epochs_per_training_run": args.epochs,
        "drag_steps_per_repeat": [r["steps"] for r in runs],
        "drag_interval_ms": DRAG_INTERVAL_MS,
        "latency_measures": "slider setValue -> end of ImageItem.paint of the first frame showing "
                            "that value's decoding or a newer one",
        "latency_idle_p50_ms": round(percentile(idle, 50), 2),
        "latency_idle_p95_ms": round(percentile(idle, 95), 2),
        # the first switch interval's runs; every interval's beside them when comparing
        "gil_switch_interval_ms": intervals[0],
        **summarise([r for r in runs if r["switch_interval_ms"] == intervals[0]]),
        "torch_threads": args.torch_threads or torch.get_num_threads(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "targets": {"latency_p95_ms": 16, "longest_stall_ms": 50, "train_ratio": 0.9},
    }
    if len(intervals) > 1:
        summary["by_switch_interval_ms"] = {
            f"{value:g}": summarise([r for r in runs if r["switch_interval_ms"] == value])
            for value in intervals}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
