"""The trainer's time limit (``TrainConfig.minutes``) and learning-rate schedules, on a clock
the test drives: each call of the trainer's clock moves it on by a fixed tick."""

import math

import pytest
from test_training import fast, small_model

from genai_engine.checkpoints import load_checkpoint
from genai_engine.errors import GenAIError
from genai_engine.tasks import TaskControl
from genai_engine.training import (
    EPOCHS_MAX,
    SCHEDULES,
    EpochRecord,
    StepRecord,
    TrainConfig,
    TrainingDone,
    scheduled_lr,
    train,
)


class TickingClock:
    """Seconds that move on by ``tick`` at every reading."""

    def __init__(self, tick: float = 0.01) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


class PausingControl(TaskControl):
    """A user who pauses for ``seconds`` of ``clock`` before every step."""

    def __init__(self, clock: TickingClock, seconds: float) -> None:
        super().__init__()
        self.clock, self.seconds = clock, seconds

    def checkpoint(self) -> bool:
        self.clock.now += self.seconds
        return super().checkpoint()


def timed_run(dataset, tmp_path, seconds=3.3, control=None, clock=None, **settings):
    clock = clock or TickingClock()
    config = fast(epochs=EPOCHS_MAX, minutes=seconds / 60, **settings)
    return list(train(dataset, small_model(dataset), config, out_dir=tmp_path, control=control,
                      clock=clock, report_interval_s=0.0))


def test_a_time_limit_ends_the_run_in_a_saved_complete_epoch(toy_dataset, tmp_path):
    records = timed_run(toy_dataset, tmp_path)
    done, epochs = records[-1], [r for r in records if isinstance(r, EpochRecord)]
    steps = [r for r in records if isinstance(r, StepRecord)]
    assert isinstance(done, TrainingDone) and done.reason == "time limit"
    assert 2 <= len(epochs) < 1000  # the limit, not the epoch cap, ended it
    assert done.epochs == epochs[-1].epoch == len(epochs)
    checkpoint = load_checkpoint(done.checkpoint)
    assert checkpoint.epoch == done.epochs  # the last, shorter epoch counts as trained
    assert len(checkpoint.history["test_loss"]) == done.epochs == len(checkpoint.timeline)
    per_epoch = {r.epoch: 0 for r in steps}
    for record in steps:
        per_epoch[record.epoch] += 1
    assert per_epoch[done.epochs] < per_epoch[1]  # the limit cut the last epoch short
    assert steps[-1].progress > 0.95 and steps[-1].eta_s < 0.05 * 3.0


def test_the_cosine_schedule_is_planned_over_the_time_limit(toy_dataset, tmp_path):
    steps = [r for r in timed_run(toy_dataset, tmp_path) if isinstance(r, StepRecord)]
    rates = [r.lr for r in steps]
    assert rates == sorted(rates, reverse=True)
    assert rates[0] > 0.95 * 3e-3 and rates[-1] < 0.05 * 3e-3  # annealed by the time's end
    middle = min(steps, key=lambda r: abs(r.time_fraction - 0.5))
    assert middle.lr == pytest.approx(scheduled_lr(3e-3, 0.5, "cosine"), rel=0.1)


def test_paused_time_does_not_count(toy_dataset, tmp_path):
    plain = timed_run(toy_dataset, tmp_path / "a")
    clock = TickingClock()
    paused = timed_run(toy_dataset, tmp_path / "b", clock=clock, control=PausingControl(clock, 5.0))
    count = lambda records: sum(isinstance(r, StepRecord) for r in records)
    # 5 s pauses before every step, beside a 3 s limit: counted, they would allow one step
    # (the previews that follow a pause cost some readings of the clock)
    assert count(paused) > 0.8 * count(plain) > 20
    assert clock.now > 50 * 3.0


def test_the_epochs_end_a_run_before_a_distant_limit(toy_dataset, tmp_path):
    config = fast(epochs=2, minutes=60.0)
    done = list(train(toy_dataset, small_model(toy_dataset), config, clock=TickingClock()))[-1]
    assert done.reason == "completed" and done.epochs == 2


def test_schedules():
    assert scheduled_lr(1.0, 0.0, "cosine") == 1.0
    assert scheduled_lr(1.0, 0.5, "cosine") == pytest.approx(0.5)
    assert scheduled_lr(1.0, 1.0, "cosine") == pytest.approx(0.0)
    assert scheduled_lr(1.0, 0.79, "late-decay") == 1.0  # held for the first 80 %
    assert scheduled_lr(1.0, 0.9, "late-decay") == pytest.approx(0.5)
    assert scheduled_lr(1.0, 1.0, "late-decay") == pytest.approx(0.0)
    assert all(scheduled_lr(1.0, p, "constant") == 1.0 for p in (0.0, 0.5, 1.0))
    assert set(SCHEDULES) == {"cosine", "late-decay", "constant"}


@pytest.mark.parametrize("minutes", [-1.0, math.nan, math.inf])
def test_a_bad_time_limit_is_refused(minutes):
    with pytest.raises(GenAIError, match="time limit"):
        TrainConfig(minutes=minutes)
