"""Equal-time training races on a shared machine: the two sides take turns.

A plain loop and the app's trainer that run one after the other see whatever else the machine
is doing at the time, which on a shared 2-core machine can halve one side's speed. Taking turns
of a few seconds spreads that load over both alike. The app's trainer is a generator of
records: between its turns nobody asks it for the next record, so it waits mid-step.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from genai_engine.tasks import TaskControl
from genai_engine.training import EpochRecord


def take_turns(plain: Iterator, app: Iterator, control: TaskControl, budget: float,
               slice_s: float = 5.0) -> tuple[float, float, EpochRecord | None]:
    """Run ``plain`` (one step per ``next``) and ``app`` (the trainer's records, cancelled through
    ``control`` once it has run ``budget`` seconds; it then saves and ends) in turns of
    ``slice_s`` seconds until each has had ``budget`` seconds. Returns the seconds each ran
    (the app's include its last save) and the app's last epoch record."""
    plain_s = app_s = 0.0
    last: EpochRecord | None = None
    running = True
    while plain_s < budget or running:
        turn = time.perf_counter()
        while plain_s + time.perf_counter() - turn < budget and time.perf_counter() - turn < slice_s:
            next(plain)
        plain_s += time.perf_counter() - turn
        turn = time.perf_counter()
        while running and time.perf_counter() - turn < slice_s:
            record = next(app, None)
            if record is None:
                running = False
            elif isinstance(record, EpochRecord):
                last = record
            if app_s + time.perf_counter() - turn >= budget and not control.cancelled:
                control.cancel()
        app_s += time.perf_counter() - turn
    return plain_s, app_s, last
