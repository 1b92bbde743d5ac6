"""Equal-time training races on a shared machine: the two sides take turns.

A plain loop and the app's trainer that run one after the other see whatever else the machine
is doing at the time, which on a shared 2-core machine can halve one side's speed. Taking turns
of a few seconds spreads that load over both alike. The app's trainer is a generator of
records: between its turns nobody asks it for the next record, so it waits mid-step, and its
``TurnClock`` (the trainer's ``clock``) stands still meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from genai_engine.tasks import TaskControl
from genai_engine.training import EpochRecord


class TurnClock:
    """Seconds that pass only during the app's turns: a time-limited trainer given this clock
    spends its minutes on its own turns, as it would alone."""

    def __init__(self) -> None:
        self.total = 0.0
        self.since: float | None = None

    def __call__(self) -> float:
        running = time.perf_counter() - self.since if self.since is not None else 0.0
        return self.total + running

    def start(self) -> None:
        self.since = time.perf_counter()

    def stop(self) -> None:
        self.total, self.since = self(), None


def take_turns(plain: Iterator, app: Iterator, budget: float, *, control: TaskControl | None = None,
               clock: TurnClock | None = None,
               slice_s: float = 5.0) -> tuple[float, float, EpochRecord | None]:
    """Run ``plain`` (one step per ``next``) and ``app`` (the trainer's records) in turns of
    ``slice_s`` seconds until ``plain`` has had ``budget`` seconds and ``app`` has ended: by its
    own time limit (on ``clock``), or cancelled through ``control`` once it has run ``budget``
    seconds (it then saves and ends). Returns the seconds each ran (the app's include its last
    measure and save) and the app's last epoch record."""
    clock = clock or TurnClock()
    plain_s = app_s = 0.0
    last: EpochRecord | None = None
    running = True
    while plain_s < budget or running:
        turn = time.perf_counter()
        while plain_s + time.perf_counter() - turn < budget and time.perf_counter() - turn < slice_s:
            next(plain)
        plain_s += time.perf_counter() - turn
        turn = time.perf_counter()
        clock.start()
        while running and time.perf_counter() - turn < slice_s:
            record = next(app, None)
            if record is None:
                running = False
            elif isinstance(record, EpochRecord):
                last = record
            if control and app_s + time.perf_counter() - turn >= budget and not control.cancelled:
                control.cancel()
        clock.stop()
        app_s += time.perf_counter() - turn
    return plain_s, app_s, last
