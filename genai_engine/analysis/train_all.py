"""Train one model of each family on the same data, each within a time budget, for Compare.

``train_all(dataset, budget_s=...)`` trains the families one after the other with their
defaults (``Family.train_defaults``, ``Family.default_config``) into ``out_dir/<family>/``. A
family whose budget is spent is stopped by cancelling its own ``TaskControl``: the trainer
then saves the checkpoint as it stands, so every family ends with one. It yields every training
record wrapped in ``FamilyRecord`` (tagged with the family), then one ``TrainAllDone`` with the
checkpoint paths. Cancelling ``control`` stops the family in training (its checkpoint is kept)
and the families after it are not started.

The budget is checked at each training record (a few per second): the epoch's test measure
that a stop triggers still runs, so a family may overrun its budget by that much.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from genai_engine.errors import GenAIError
from genai_engine.tasks import TaskControl


@dataclass
class FamilyRecord:
    family: str
    index: int  # position of the family in this run
    count: int  # families in this run
    budget_s: float
    seconds: float  # this family's training time so far (pauses excluded)
    record: object  # the trainer's StepRecord, EpochRecord or TrainingDone

    @property
    def fraction(self) -> float:
        """Progress over the whole run, by time budget."""
        return (self.index + min(1.0, self.seconds / max(self.budget_s, 1e-9))) / self.count


@dataclass
class TrainAllDone:
    checkpoints: dict[str, str] = field(default_factory=dict)  # family -> checkpoint path
    reasons: dict[str, str] = field(default_factory=dict)  # family -> "budget spent", "completed"...
    cancelled: bool = False


def train_all(dataset, families: Sequence[str] | None = None, *, budget_s: float, out_dir,
              device: str = "auto", control: TaskControl | None = None
              ) -> Iterator[FamilyRecord | TrainAllDone]:
    from genai_engine.families import family_names, get_family
    from genai_engine.training import TrainConfig, TrainingDone, train

    control = control or TaskControl()
    families = list(families or family_names())
    if not families:
        raise GenAIError("choose at least one family to train")
    for name in families:
        get_family(name)  # an unknown name fails before anything trains
    if not budget_s > 0:
        raise GenAIError(f"the time budget per family must be positive, got {budget_s} s")
    done = TrainAllDone()
    for index, name in enumerate(families):
        if not control.checkpoint():
            break
        family = get_family(name)
        mine = TaskControl()
        settings = TrainConfig(**{**family.train_defaults, "device": device})
        seconds, reason = 0.0, ""
        run = train(dataset, None, settings, family=name, out_dir=Path(out_dir) / name, control=mine)
        tick = time.perf_counter()
        for record in run:
            seconds += time.perf_counter() - tick
            if not mine.cancelled and (seconds >= budget_s or control.cancelled):
                reason = "cancelled" if control.cancelled else "budget spent"
                mine.cancel()
            if isinstance(record, TrainingDone):
                if record.checkpoint:
                    done.checkpoints[name] = record.checkpoint
                done.reasons[name] = reason or record.reason
            yield FamilyRecord(name, index, len(families), float(budget_s), seconds, record)
            control.checkpoint()  # blocks while paused: training waits with it, uncounted
            tick = time.perf_counter()
    done.cancelled = control.cancelled
    yield done
