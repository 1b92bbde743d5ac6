"""Latest-wins jobs: one in flight, one pending slot, stale results dropped, last one shown."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from desktop.latest_wins import LatestWins, LatestWinsDecoder, ThrottledLatestWins


class SlowFake:
    """A decoder stand-in that takes ``delay`` seconds and records how many run at once."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.running = self.most_running = self.calls = 0
        self.threads: set[str] = set()

    def job(self, value):
        def run():
            with self.lock:
                self.running += 1
                self.calls += 1
                self.most_running = max(self.most_running, self.running)
            self.threads.add(threading.current_thread().name)
            time.sleep(self.delay)
            with self.lock:
                self.running -= 1
            return value
        return run


def settled(jobs: LatestWins) -> bool:
    return not jobs.busy and jobs.delivered_generation == jobs.generation


@pytest.fixture
def jobs(app_state):
    return LatestWins(app_state.runner, "test job")


def test_requests_while_busy_overwrite_one_pending_slot(qtbot, jobs):
    gate = threading.Event()
    ran, shown = [], []
    jobs.ready.connect(lambda result, tag: shown.append(result))

    def blocked(value):
        def run():
            ran.append(value)
            gate.wait(5)
            return value
        return run

    try:
        jobs.request(blocked(0))  # holds its worker until the gate opens
        qtbot.waitUntil(lambda: ran == [0], timeout=5_000)
        for value in range(1, 50):
            jobs.request(blocked(value))
            QApplication.processEvents()
        assert jobs.busy and ran == [0]
    finally:
        gate.set()
    qtbot.waitUntil(lambda: settled(jobs), timeout=5_000)
    assert ran == [0, 49], "only the running request and the newest pending one may run"
    assert shown == [0, 49]


def test_a_fast_drag_keeps_one_in_flight_and_ends_on_the_last_value(qtbot, jobs):
    fake = SlowFake(0.02)
    shown, slot_threads = [], set()
    jobs.ready.connect(lambda result, tag: (shown.append(result),
                                            slot_threads.add(threading.current_thread())))
    for value in range(60):  # requests faster than a job finishes
        jobs.request(fake.job(value), tag=value)
        if value % 10 == 0:
            QApplication.processEvents()
        time.sleep(0.002)
    qtbot.waitUntil(lambda: settled(jobs), timeout=10_000)

    assert fake.most_running == 1
    assert shown[-1] == 59, "the last request must be what ends up shown"
    assert shown == sorted(shown), "an older result was shown after a newer one"
    assert fake.calls == jobs.started_jobs < 60, "overwritten requests must never run"
    assert slot_threads == {threading.main_thread()}, "results must arrive in the GUI thread"
    assert fake.threads and threading.main_thread().name not in fake.threads
    # The service task gives its pool thread back soon after the last request.
    qtbot.waitUntil(lambda: not jobs.runner.active, timeout=5_000)


def test_discard_drops_results_already_requested(qtbot, jobs):
    gate = threading.Event()
    ran, shown = [], []
    jobs.ready.connect(lambda result, tag: shown.append(result))

    def old(name):
        def run():
            ran.append(name)
            gate.wait(5)
            return name
        return run

    try:
        jobs.request(old("old model, running"))
        qtbot.waitUntil(lambda: ran == ["old model, running"], timeout=5_000)
        jobs.request(old("old model, pending"))
        jobs.discard()  # e.g. the model changed under the view
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not jobs.busy, timeout=5_000)
    assert shown == []
    assert ran == ["old model, running"], "the discarded pending request must not run"

    jobs.request(lambda: "new model")
    qtbot.waitUntil(lambda: settled(jobs), timeout=5_000)
    assert shown == ["new model"]


def test_a_failure_is_reported_and_the_pending_request_still_runs(qtbot, jobs):
    fake = SlowFake(0.03)
    failures, shown = [], []
    jobs.failed.connect(failures.append)
    jobs.ready.connect(lambda result, tag: shown.append(result))

    def broken():
        time.sleep(0.03)
        raise ValueError("bad latent vector")

    jobs.request(broken)
    with qtbot.waitSignal(jobs.failed, timeout=5_000):
        pass
    assert "bad latent vector" in failures[0]

    jobs.request(broken)
    jobs.request(fake.job("after the failure"))  # waits in the pending slot
    qtbot.waitUntil(lambda: settled(jobs), timeout=5_000)
    assert shown == ["after the failure"]
    assert len(failures) == 1, "a failure superseded by a newer request is not reported"


def test_decoder_copies_the_vector_and_decodes_with_the_given_model(qtbot, app_state):
    class Model:
        def decode(self, z, labels=None):
            time.sleep(0.01)
            return np.full((2, 2, 1), int(z.sum()), np.uint8), labels

    decoder = LatestWinsDecoder(app_state.runner)
    results = []
    decoder.ready.connect(lambda result, tag: results.append((result, tag)))
    z = np.zeros(3, np.float32)
    z[0] = 5
    decoder.decode(Model(), z, label=2, tag="first")
    z[0] = 100  # the caller keeps editing its vector while the job runs
    qtbot.waitUntil(lambda: settled(decoder), timeout=5_000)
    (image, labels), tag = results[-1]
    assert tag == "first" and image[0, 0, 0] == 5 and labels.tolist() == [2]


def test_throttled_runs_the_newest_request_only_while_its_widget_is_visible(qtbot, app_state):
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    throttled = ThrottledLatestWins(app_state.runner, "throttled job", widget, 30)
    shown = []
    throttled.ready.connect(lambda result, tag: shown.append(result))
    fake = SlowFake(0.0)
    for value in range(20):  # a burst inside one interval: only the newest runs
        throttled.request(fake.job(value))
    qtbot.wait(120)
    assert fake.calls == 0 and throttled.settled, "a hidden widget's request ran"

    widget.show()
    qtbot.waitUntil(lambda: shown == [19] and throttled.settled, timeout=5000)
    assert fake.calls == 1

    throttled.request(fake.job(20))
    throttled.discard()
    qtbot.wait(80)
    assert shown == [19] and throttled.settled and fake.calls == 1
