"""``genai-lab --self-test``: prove that an install (or a frozen bundle) works, headless and offline.

It drives the real main window through its widgets: open it (the embedded Fashion-MNIST and the
demo model load), train a few steps and stop (a checkpoint is saved), move a latent slider and
see the decoded image change, compute a small domain FID, close the window. Every stage is timed
and written to a JSON report (``--self-test-report PATH``, default
``user_data_dir()/self-test-report.json``); the exit status is 0 when all passed, 1 when a
stage failed, 3 when the overall timeout (``--self-test-timeout``, default 300 s) fired. A
watchdog thread enforces that timeout even if the event loop hangs.

The run works in a temporary home (runs, caches, settings), so it never changes the user's
last dataset, last checkpoint or evaluation history; only the report and the log land in the
real user data folder.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import math
import os
import platform
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from desktop.log_file import setup_logging
from genai_engine.files import atomic_write_text

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 300.0
TRAIN_STEPS = 20  # optimisation steps before Stop
FID_SAMPLES = 300
EXIT_OK, EXIT_FAILED, EXIT_CRASHED, EXIT_TIMEOUT = 0, 1, 2, 3


class StageFailed(Exception):
    """A check did not hold; the message is the report's reason."""


def _say(text: str) -> None:
    log.info("self-test: %s", text)
    if sys.stdout is not None:  # None in a windowed build on Windows
        print(f"self-test: {text}", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="genai-lab --self-test", add_help=False)
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--self-test-report", metavar="PATH", default=None)
    parser.add_argument("--self-test-timeout", metavar="SECONDS", type=float,
                        default=DEFAULT_TIMEOUT_S)
    parser.add_argument("--self-test-keep", action="store_true",
                        help="keep the temporary home (runs, settings) for inspection")
    parser.add_argument("--self-test-screenshots", metavar="DIR", default=None,
                        help="save a PNG of the window after each stage (how the build renders)")
    args, _unknown = parser.parse_known_args(argv)
    return args


class Report:
    """The JSON report, rewritten atomically after every stage so a kill leaves the latest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = time.perf_counter()
        self.stage = "starting"
        self.data: dict = {
            "ok": False,
            "reason": None,
            "exit_code": None,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": None,
            "frozen": bool(getattr(sys, "frozen", False)),
            "executable": sys.executable,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
            "network_interfaces": _network_interfaces(),
            "stages": [],
        }
        self._lock = threading.Lock()

    def add_stage(self, name: str, ok: bool, seconds: float, details: dict | None = None,
                  error: str | None = None) -> None:
        entry = {"name": name, "ok": ok, "seconds": round(seconds, 3)}
        if details:
            entry["details"] = details
        if error:
            entry["error"] = error
        self.data["stages"].append(entry)
        self.write()

    def finish(self, ok: bool, code: int, reason: str | None) -> None:
        with self._lock:
            if self.data["exit_code"] is not None:  # the watchdog or the main path got here first
                return
            self.data.update(ok=ok, exit_code=code, reason=reason,
                             seconds=round(time.perf_counter() - self.start, 3))
        self.write()

    def write(self) -> None:
        try:
            atomic_write_text(self.path, json.dumps(self.data, indent=2, default=str))
        except OSError as error:
            log.error("self-test: cannot write the report %s: %s", self.path, error)


def _network_interfaces() -> list[str]:
    """Interface names: only ``lo`` when run under ``unshare -n`` (the offline proof)."""
    try:
        return sorted(name for _index, name in socket.if_nameindex())
    except (OSError, AttributeError):
        return []


class Watchdog:
    """Ends the process when the self-test overruns, whatever the GUI thread is doing."""

    def __init__(self, timeout_s: float, report: Report, log_file) -> None:
        self.timeout_s = timeout_s
        self.report = report
        self.log_file = log_file
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="self-test watchdog", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()

    def _watch(self) -> None:
        if self.done.wait(self.timeout_s):
            return
        reason = f"timed out after {self.timeout_s:g} s during stage '{self.report.stage}'"
        _say(f"FAILED: {reason}")
        if self.log_file is not None:
            faulthandler.dump_traceback(file=self.log_file, all_threads=True)
        self.report.finish(False, EXIT_TIMEOUT, reason)
        logging.shutdown()
        os._exit(EXIT_TIMEOUT)


# --- waiting on the event loop ----------------------------------------------------------------

def wait_until(condition, timeout_s: float, what: str) -> float:
    """Process events until ``condition()``; seconds taken, or ``StageFailed`` naming ``what``."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout_s:
            raise StageFailed(f"{what} did not happen within {timeout_s:.0f} s")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)
    return time.perf_counter() - start


# --- the stages -------------------------------------------------------------------------------

class SelfTest:
    def __init__(self, report: Report, screenshots: str | None = None) -> None:
        self.report = report
        self.screenshots = Path(screenshots) if screenshots else None
        self.window = None
        self.errors: list[tuple[str, str]] = []

    def screenshot(self, name: str) -> None:
        if self.screenshots is None or self.window is None or not self.window.isVisible():
            return
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self.window.grab().save(str(self.screenshots / f"{name}.png"))

    def run_stage(self, name: str, fn) -> None:
        self.report.stage = name
        _say(f"{name}…")
        start = time.perf_counter()
        seen_errors = len(self.errors)
        try:
            details = fn() or {}
            if len(self.errors) > seen_errors:
                title, message = self.errors[seen_errors]
                raise StageFailed(f"the app reported an error: {title}: {message}")
        except StageFailed as error:
            self.report.add_stage(name, False, time.perf_counter() - start, error=str(error))
            raise StageFailed(f"{name}: {error}") from None
        except Exception as error:
            log.exception("self-test stage %s crashed", name)
            text = f"{type(error).__name__}: {error}"
            self.report.add_stage(name, False, time.perf_counter() - start, error=text,
                                  details={"traceback": traceback.format_exc(limit=8)})
            raise StageFailed(f"{name}: {text}") from error
        seconds = time.perf_counter() - start
        self.screenshot(name)
        self.report.add_stage(name, True, seconds, details)
        _say(f"{name} ok ({seconds:.1f} s)")

    # 1 ------------------------------------------------------------------------------------
    def check_resources(self) -> dict:
        from genai_engine.resources import demo_checkpoint_path, resources_dir

        root = resources_dir()
        missing = []
        dataset_dir = root / "datasets" / "fashion-mnist"
        if not dataset_dir.is_dir() or not any(dataset_dir.glob("*.gz")):
            missing.append(str(dataset_dir))
        if not demo_checkpoint_path().is_file():
            missing.append(str(demo_checkpoint_path()))
        if not any((root / "models").glob("domain_*.pt")):
            missing.append(str(root / "models" / "domain_*.pt"))
        if missing:  # said before torch is imported: a broken bundle fails in a second
            raise StageFailed("missing shipped files: " + ", ".join(missing))
        from genai_engine.metrics.features import domain

        if not domain.default_weights_path().is_file():
            raise StageFailed(f"missing shipped file: {domain.default_weights_path()}")
        details = {"resources_dir": str(root),
                   "demo_checkpoint": str(demo_checkpoint_path()),
                   "domain_network": str(domain.default_weights_path())}
        try:
            from genai_engine.metrics.features.inception import find_inception_weights

            details["inception_weights"] = str(find_inception_weights()[0])
        except Exception as error:  # optional: FID with Inception needs them, the app does not
            details["inception_weights"] = None
            details["inception_note"] = str(error)[:200]
        return details

    # 2 ------------------------------------------------------------------------------------
    def open_window(self) -> dict:
        import torch
        from PySide6.QtCore import QCoreApplication, Qt
        from PySide6.QtWidgets import QApplication

        from desktop.settings import APPLICATION, ORGANIZATION

        QCoreApplication.setOrganizationName(ORGANIZATION)
        QCoreApplication.setApplicationName(APPLICATION)
        QApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "genai-lab"])
        app.setStyle("Fusion")

        from desktop.main_window import TAB_NAMES, MainWindow

        start = time.perf_counter()
        window = self.window = MainWindow()
        window.confirm_close = False  # no question box when closing with tasks running
        window.state.error.connect(lambda title, message: self.errors.append((title, message)))
        window.resize(1280, 800)
        window.show()
        shown = wait_until(lambda: window.windowHandle() is not None
                           and window.windowHandle().isExposed(), 30, "the window being shown")
        state = window.state
        wait_until(lambda: state.dataset is not None and state.model is not None, 120,
                   "the embedded dataset and the demo model loading")
        ready = time.perf_counter() - start
        tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        if tabs[:len(TAB_NAMES)] != list(TAB_NAMES):
            raise StageFailed(f"expected the tabs {list(TAB_NAMES)} first, found {tabs}")
        if window.last_error is not None:
            raise StageFailed(f"the window showed an error: {window.last_error}")
        dataset = state.dataset
        return {"seconds_to_exposed": round(shown, 3), "seconds_to_ready": round(ready, 3),
                "tabs": tabs, "device": window.device_label.text(),
                "dataset": dataset.name, "train_images": len(dataset.train),
                "test_images": len(dataset.test),
                "model": str(state.checkpoint.path) if state.checkpoint else None,
                "torch": torch.__version__, "qt": _qt_version()}

    # 3 ------------------------------------------------------------------------------------
    def train_few_steps(self) -> dict:
        window = self.window
        tab = window.train_tab
        window.tabs.setCurrentWidget(tab)
        tab.form.epochs.setValue(1)
        steps: list = []
        if not tab.start_button.isEnabled():
            raise StageFailed("the Start button is disabled")
        tab.start_button.click()
        handle = tab.handle
        if handle is None:
            raise StageFailed(f"training did not start: {tab.error_label.text()}")

        def on_record(record) -> None:
            if type(record).__name__ == "StepRecord":
                steps.append(record)

        handle.signals.progress.connect(on_record)  # queued: no record is missed
        wait_until(lambda: (steps and steps[-1].step >= TRAIN_STEPS) or tab.run_state == "idle",
                   120, f"{TRAIN_STEPS} training steps")
        if not steps:
            raise StageFailed(f"training ended without a step: {tab.error_label.text()}")
        if tab.run_state != "idle":
            tab.stop_button.click()
        wait_until(lambda: tab.run_state == "idle", 60, "training stopping")
        wait_until(lambda: tab.last_checkpoint is not None, 30, "the checkpoint being saved")
        path = Path(tab.last_checkpoint)
        if not path.is_file():
            raise StageFailed(f"no checkpoint at {path}")
        losses = [record.loss for record in steps]
        if not all(math.isfinite(v) for v in losses):
            raise StageFailed(f"non-finite training loss: {losses}")
        wait_until(lambda: window.state.checkpoint is not None
                   and window.state.checkpoint.path is not None
                   and Path(window.state.checkpoint.path) == path, 30,
                   "the trained checkpoint becoming the current model")
        return {"steps": int(steps[-1].step), "records": len(steps),
                "first_loss": round(losses[0], 3), "last_loss": round(losses[-1], 3),
                "images_per_s": round(float(steps[-1].images_per_s)),
                "checkpoint": str(path), "checkpoint_bytes": path.stat().st_size}

    # 4 ------------------------------------------------------------------------------------
    def move_slider(self) -> dict:
        import numpy as np

        window = self.window
        tab = window.explore_tab
        window.tabs.setCurrentWidget(tab)
        wait_until(lambda: tab.model is not None and tab.model is window.state.model
                   and tab.sliders.dim > 0 and tab.shown_image is not None and not tab.decoder.busy,
                   60, "the Explore tab decoding the current point")
        before = np.array(tab.shown_image, copy=True)
        dim = int(tab.sliders.order[0])
        slider = tab.sliders.slider(dim)
        tried = []
        for target in (slider.maximum(), slider.minimum()):
            start = time.perf_counter()
            slider.setValue(target)  # what a drag does: valueChanged -> a latest-wins decode
            generation = tab.decoder.generation
            wait_until(lambda g=generation: tab.decoder.delivered_generation >= g
                       and not tab.decoder.busy, 30, "the slider's image being decoded")
            latency_ms = (time.perf_counter() - start) * 1000
            after = np.asarray(tab.shown_image)
            changed = int(np.count_nonzero(after != before))
            tried.append({"value": target, "latency_ms": round(latency_ms, 1),
                          "pixels_changed": changed})
            if changed:
                return {"dimension": dim, "moves": tried, "image_shape": list(after.shape)}
        raise StageFailed(f"moving latent dimension {dim} did not change the decoded image: {tried}")

    # 5 ------------------------------------------------------------------------------------
    def domain_fid(self) -> dict:
        window = self.window
        tab = window.evaluate_tab
        window.tabs.setCurrentWidget(tab)
        index = tab.features_box.findData("domain")
        if index < 0:
            raise StageFailed("the Evaluate tab offers no domain feature network")
        tab.features_box.setCurrentIndex(index)
        tab.samples_spin.setValue(FID_SAMPLES)
        for check in (tab.kid_check, tab.pr_check, tab.interval_check):
            check.setChecked(False)  # FID alone keeps the run to seconds
        rows: list = []
        failures: list[str] = []
        tab.finished.connect(rows.append)
        window.state.error.connect(lambda title, message: failures.append(f"{title}: {message}"))
        if not tab.run_button.isEnabled():
            raise StageFailed(f"the Evaluate button is disabled: {tab.run_button.toolTip()}")
        tab.run_button.click()
        if tab.handle is None:
            raise StageFailed(f"the evaluation did not start: {tab.status_label.text()}")
        wait_until(lambda: rows or failures or tab.handle is None, 240, "the domain FID")
        if failures:
            raise StageFailed(failures[0])
        if not rows:
            raise StageFailed(f"the evaluation ended without a result: {tab.status_label.text()}")
        row = rows[0]
        if not (math.isfinite(row.fid) and row.fid >= 0):
            raise StageFailed(f"FID is {row.fid}")
        if row.n_fake != FID_SAMPLES:
            raise StageFailed(f"asked for {FID_SAMPLES} samples, measured {row.n_fake}")
        return {"fid": round(row.fid, 3), "features": row.features, "n_real": row.n_real,
                "n_fake": row.n_fake, "engine_seconds": round(row.seconds, 2),
                "inception_score": None if math.isnan(row.inception_score)
                else round(row.inception_score, 3)}

    # 6 ------------------------------------------------------------------------------------
    def close_window(self) -> dict:
        from PySide6.QtWidgets import QApplication

        window = self.window
        runner = window.state.runner
        start = time.perf_counter()
        if not window.close():
            raise StageFailed("the window refused to close")
        QApplication.processEvents()
        seconds = time.perf_counter() - start
        if runner.active or runner.pool.activeThreadCount():
            raise StageFailed(f"tasks still running after close: {[h.name for h in runner.active]}")
        return {"close_seconds": round(seconds, 3)}


def _qt_version() -> str:
    from PySide6 import __version__ as pyside
    from PySide6.QtCore import qVersion

    return f"Qt {qVersion()}, PySide6 {pyside}"


# --- entry point ------------------------------------------------------------------------------

def run(argv: list[str] | None = None) -> int:
    """Run the self-test; returns the process exit status."""
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    log_path = setup_logging()
    from genai_engine.resources import user_data_dir

    report_path = Path(args.self_test_report or user_data_dir() / "self-test-report.json")
    report = Report(report_path.resolve())
    report.data["log"] = log_path
    log_file = None
    if log_path:
        log_file = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - the watchdog's stack dump
    watchdog = Watchdog(args.self_test_timeout, report, log_file)
    watchdog.start()
    _say(f"report: {report.path} (timeout {args.self_test_timeout:.0f} s)")

    # A private home: the user's settings, runs, caches and history stay untouched.
    home = Path(tempfile.mkdtemp(prefix="genai-lab-self-test-"))
    saved_env = {k: os.environ.get(k) for k in ("GENAI_LAB_HOME", "GENAI_LAB_SETTINGS")}
    os.environ["GENAI_LAB_HOME"] = str(home)
    os.environ["GENAI_LAB_SETTINGS"] = str(home / "settings.ini")
    report.data["temp_home"] = str(home)

    test = SelfTest(report, args.self_test_screenshots)
    code, reason = EXIT_OK, None
    try:
        test.run_stage("resources", test.check_resources)
        test.run_stage("window", test.open_window)
        test.run_stage("train", test.train_few_steps)
        test.run_stage("slider", test.move_slider)
        test.run_stage("fid", test.domain_fid)
        test.run_stage("close", test.close_window)
    except StageFailed as error:
        code, reason = EXIT_FAILED, str(error)
    except BaseException as error:  # noqa: BLE001 - the report must say why, whatever it was
        log.exception("self-test crashed")
        code, reason = EXIT_CRASHED, f"{type(error).__name__}: {error}"
    finally:
        if test.window is not None and test.window.isVisible():
            try:  # a failed stage leaves tasks running: stop them before Qt goes away
                test.window.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the window after a failure")
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if not args.self_test_keep:
            shutil.rmtree(home, ignore_errors=True)
    watchdog.stop()
    report.finish(code == EXIT_OK, code, reason)
    _say("PASSED" if code == EXIT_OK else f"FAILED: {reason}")
    if log_file is not None:
        log_file.close()
    return code
