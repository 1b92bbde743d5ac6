"""Train one model of each family on the same data, each within a time budget, for Compare.

``train_all(dataset, budget_s=...)`` trains the families one after the other with their
defaults (``Family.train_defaults``, ``Family.default_config``) into ``out_dir/<family>/``, each
with the budget as its time limit (``TrainConfig.minutes``): its learning-rate schedule runs its
course in that time and it ends with a saved checkpoint. It yields every training record
wrapped in ``FamilyRecord`` (tagged with the family), then one ``TrainAllDone`` with the
checkpoint paths. ``control`` pauses the family in training (the pause does not count against
its budget); cancelling it stops that family (its checkpoint is kept) and the families after
it are not started.

The family's last test measure runs after its time is up, so it may overrun by that much.
"""

from __future__ import annotations

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
    reasons: dict[str, str] = field(default_factory=dict)  # family -> the trainer's "time limit"...
    cancelled: bool = False


def train_all(dataset, families: Sequence[str] | None = None, *, budget_s: float, out_dir,
              device: str = "auto", control: TaskControl | None = None
              ) -> Iterator[FamilyRecord | TrainAllDone]:
    from genai_engine.families import family_names, get_family
    from genai_engine.training import EPOCHS_MAX, StepRecord, TrainConfig, TrainingDone, train

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
        settings = TrainConfig(**{**get_family(name).train_defaults, "device": device,
                                  "minutes": budget_s / 60, "epochs": EPOCHS_MAX})
        seconds = 0.0
        run = train(dataset, None, settings, family=name, out_dir=Path(out_dir) / name, control=control)
        for record in run:
            if isinstance(record, StepRecord):
                seconds = record.time_fraction * budget_s
            if isinstance(record, TrainingDone):
                seconds = budget_s if record.reason == "time limit" else seconds
                if record.checkpoint:
                    done.checkpoints[name] = record.checkpoint
                done.reasons[name] = record.reason
            yield FamilyRecord(name, index, len(families), float(budget_s), seconds, record)
    done.cancelled = control.cancelled
    yield done
