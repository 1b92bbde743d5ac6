"""Cold start: from launching the app to its first painted window, the full UI and a ready session.

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_startup.py [--runs 5] [--bundle PATH]

Each run starts a new process of the source install (the ``genai-lab`` console script beside
this Python) and, when built, of the frozen bundle (``dist/genai-lab/genai-lab``), with
``GENAI_LAB_STARTUP_PROBE`` set: the app then writes the time of its first painted frame
("shown": the loading window, before torch is imported), of the main window's first frame
with every tab built ("interactive") and of the session being ready (embedded dataset and
demo model loaded), closes and exits (hook: ``desktop/startup_probe.py``). Each run uses
fresh settings, as on a first start; one unmeasured warm-up run per target fills the OS file
cache, so the numbers are a cold process on warm disk caches (dropping the caches would
disturb the other work on the machine).
On a shared, busy machine wall time stretches with the load; ``cpu_at_shown`` (process CPU
seconds at the first frame) does not, and the load average is reported beside the numbers.
``--breakdown`` also times the imports that dominate a source start, in fresh processes.

Medians are reported; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_S = 3.0

IMPORTS = """
import json, time
t0 = time.perf_counter(); import torch
t1 = time.perf_counter(); from PySide6.QtWidgets import QApplication
t2 = time.perf_counter(); import desktop.main_window
t3 = time.perf_counter()
print(json.dumps({"torch": t1 - t0, "qt": t2 - t1, "main_window": t3 - t2}))
"""


def source_command() -> list[str] | None:
    script = Path(sys.executable).parent / ("genai-lab.exe" if os.name == "nt" else "genai-lab")
    if script.exists():
        return [str(script)]
    found = shutil.which("genai-lab")
    return [found] if found else None


def launch(command: list[str], home: Path, timeout_s: float) -> dict:
    """One start: seconds from launch to the first frame and to the session being ready."""
    probe = home / "probe.json"
    probe.unlink(missing_ok=True)
    settings = home / "settings.ini"
    settings.unlink(missing_ok=True)  # a first start: no geometry, no last files
    env = dict(os.environ, GENAI_LAB_STARTUP_PROBE=str(probe), GENAI_LAB_HOME=str(home),
               GENAI_LAB_SETTINGS=str(settings))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    start = time.time()
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout_s, text=True)
    ended = time.time()
    if proc.returncode != 0 or not probe.exists():
        raise RuntimeError(f"{command[0]} exited {proc.returncode} without a probe record:\n"
                           f"{proc.stdout[-2000:]}")
    marks = json.loads(probe.read_text())
    ready = marks.get("ready")
    return {"shown": marks["shown"] - start,
            "interactive": marks["interactive"] - start,
            "ready": None if ready is None or ready != ready else ready - start,
            "cpu_at_shown": marks.get("cpu_at_shown"),
            "exit": ended - start}


def measure(name: str, command: list[str], runs: int, timeout_s: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"bench-startup-{name}-"))
    try:
        first = launch(command, home, timeout_s)
        print(f"{name}: warm-up run shown {first['shown']:.2f} s", flush=True)
        results = []
        for i in range(runs):
            result = launch(command, home, timeout_s)
            results.append(result)
            ready = f"{result['ready']:.2f} s" if result["ready"] is not None else "n/a"
            print(f"{name}: run {i + 1}: shown {result['shown']:.2f} s (CPU {result['cpu_at_shown']:.2f} s), "
                  f"interactive {result['interactive']:.2f} s, ready {ready}", flush=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    shown = [r["shown"] for r in results]
    ready = [r["ready"] for r in results if r["ready"] is not None]
    return {
        "command": command,
        "shown_median_s": round(statistics.median(shown), 3),
        "shown_min_s": round(min(shown), 3),
        "shown_max_s": round(max(shown), 3),
        "interactive_median_s": round(statistics.median(r["interactive"] for r in results), 3),
        "ready_median_s": round(statistics.median(ready), 3) if ready else None,
        # CPU seconds the process had used when the frame was shown: what the start costs,
        # independent of how many other processes share the cores
        "cpu_at_shown_median_s": round(statistics.median(r["cpu_at_shown"] for r in results), 3),
        "first_run_shown_s": round(first["shown"], 3),
        "shown_s": [round(v, 3) for v in shown],
    }


def import_breakdown(runs: int) -> dict:
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
    return {f"import_{key}_median_s": round(statistics.median(s[key] for s in samples), 3)
            for key in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per target (>= 5)")
    parser.add_argument("--bundle", default=str(ROOT / "dist" / "genai-lab" / "genai-lab"),
                        help="the frozen executable (skipped when absent)")
    parser.add_argument("--no-source", action="store_true", help="measure only the bundle")
    parser.add_argument("--breakdown", action="store_true", help="also time the main imports")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per launch")
    args = parser.parse_args()

    targets = {}
    if not args.no_source:
        command = source_command()
        if command is None:
            sys.exit("no genai-lab console script: pip install -e . first")
        targets["source"] = command
    if Path(args.bundle).exists():
        targets["bundle"] = [str(Path(args.bundle).resolve())]
    load_before = os.getloadavg()
    summary: dict = {"benchmark": "startup", "runs": args.runs,
                     "measures": "process launch -> first painted frame (shown: the loading "
                                 "window; interactive: the main window with every tab; ready: "
                                 "embedded dataset and demo model loaded)",
                     "platform": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                     "cpus": os.cpu_count(), "target_shown_s": TARGET_S}
    for name, command in targets.items():
        summary[name] = measure(name, command, args.runs, args.timeout)
    if "bundle" not in summary:
        summary["bundle"] = None
    if args.breakdown:
        summary["source_imports"] = import_breakdown(args.runs)
    summary["load_average_1m"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
