"""The generic trainer: one loop for every model family, as a generator of progress records.

``train(...)`` runs the whole loop and yields ``StepRecord`` (a few per second), ``EpochRecord``
(after each epoch's test measure and checkpoint) and finally ``TrainingDone``. The family
(``genai_engine.families``) brings the network, its training step (one or more optimizers)
and its per-epoch measure; the loop owns everything else: batching, the learning-rate
schedule, pause and cancel (``control.checkpoint()`` between steps; a cancelled run saves),
a time limit (``TrainConfig.minutes``: the schedule is planned over it), the divergence guard,
previews, timeline snapshots, checkpoints and torchrun. Records hold floats and numpy arrays
only, and carry the family's metrics by name.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genai_engine.checkpoints import Checkpoint, atomic_torch_save, checkpoint_from_dict, checkpoint_payload
from genai_engine.data import Dataset
from genai_engine.devices import resolve_device
from genai_engine.distributed import SINGLE, DistContext
from genai_engine.errors import (
    CheckpointError,
    CheckpointNotSaved,
    GenAIError,
    StorageError,
    TrainingDiverged,
)
from genai_engine.families import DEFAULT_FAMILY, family_names, get_family
from genai_engine.families.base import Batch
from genai_engine.files import check_writable
from genai_engine.run_record import RunRecord
from genai_engine.tasks import TaskControl
from genai_engine.tensors import images_to_tensor, to_unit

CHECKPOINT_NAME = "checkpoint.pt"
PREVIEW_COUNT = 8
EPOCHS_MAX = 100_000
# Learning-rate schedules: "cosine" lowers the rate from the start to 0 at the end along a half
# cosine; "late-decay" holds it for the first LATE_DECAY_START of the run and then lowers it so
# (fast progress while a short run's model is far from done, and an annealed end); "constant".
SCHEDULES = ("cosine", "late-decay", "constant")
LATE_DECAY_START = 0.8
# Previews come every ``preview_interval_s`` or further apart, so that they take at most this
# share of the time: an autoregressive model's preview costs a forward pass over its images.
PREVIEW_SHARE = 0.02


@dataclass
class TrainConfig:
    epochs: int = 6
    batch_size: int = 128
    lr: float = 4e-3
    beta: float = 1.0
    seed: int = 0
    device: str = "auto"
    schedule: str = "cosine"  # one of SCHEDULES: how the learning rate changes over the run
    # Images per epoch (0: the whole training split). A slow family on a CPU (an autoregressive
    # model trains at tens of images/s) gets epochs of minutes, hence per-epoch measures,
    # timeline snapshots and checkpoints; each epoch draws a fresh random subset.
    epoch_images: int = 0
    # A time limit (0: none): training stops after this many minutes (pauses excluded, the
    # epochs' measures included) and the learning-rate schedule runs its course over them, so a
    # run planned for a lab session's five minutes ends annealed. The epochs are then a cap.
    minutes: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= int(self.epochs) <= EPOCHS_MAX:
            raise GenAIError(f"epochs must be at least 1, got {self.epochs}")
        if not 1 <= int(self.batch_size) <= 1 << 16:
            raise GenAIError(f"batch size must be 1..65536, got {self.batch_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise GenAIError(f"learning rate must be a positive number, got {self.lr}")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise GenAIError(f"beta must be zero or positive, got {self.beta}")
        if int(self.epoch_images) < 0:
            raise GenAIError(f"images per epoch must be 0 (all) or more, got {self.epoch_images}")
        if not (math.isfinite(self.minutes) and 0 <= self.minutes <= 100_000):
            raise GenAIError(f"the time limit must be 0 (none) or a number of minutes, got {self.minutes}")
        if self.schedule not in SCHEDULES:
            raise GenAIError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StepRecord:
    epoch: int  # 1-based epoch in progress
    step: int  # global optimisation step
    total_steps: int
    loss: float  # the family's headline training loss, averaged since the previous record
    metrics: dict[str, float]  # every training metric of the family, by name (loss included)
    lr: float
    images_per_s: float
    elapsed_s: float
    eta_s: float
    preview: np.ndarray | None = None  # uint8 (N, H, W, C): what the family shows while training
    time_fraction: float = 0.0  # of the time limit spent (0 without one)

    @property
    def progress(self) -> float:
        return run_progress(self.step, self.total_steps, self.time_fraction)


@dataclass
class EpochRecord:
    epoch: int
    epochs: int
    train: dict[str, float]  # the epoch's mean training metrics, by name
    test: dict[str, float]  # the family's measure on the test split (may be empty)
    diagnostics: dict[str, np.ndarray]  # arrays for the family's views (e.g. latent_importance)
    images_per_s: float
    elapsed_s: float
    checkpoint: str | None
    preview: np.ndarray | None = None

    @property
    def train_loss(self) -> float:
        return self.train.get("loss", math.nan)

    @property
    def test_loss(self) -> float:
        return self.test.get("loss", math.nan)


@dataclass
class TrainingDone:
    reason: str  # "completed", "time limit" (completed when its minutes were up) or "cancelled"
    epochs: int
    train_loss: float
    test_loss: float
    samples_per_s: float  # training images per second over this run, evaluation excluded
    seconds: float
    checkpoint: str | None
    device: str
    family: str = DEFAULT_FAMILY
    history: dict = field(default_factory=dict)


def dataset_info(dataset: Dataset) -> dict:
    return {
        "name": dataset.name,
        "fingerprint": dataset.fingerprint,
        "image_shape": list(dataset.image_shape),
        "class_names": list(dataset.class_names or []),
        "source": dataset.source,
    }


def run_progress(step: int, total_steps: int, time_fraction: float) -> float:
    """Of the run done (0..1): its steps, or its time limit if that is nearer its end."""
    return max(step / max(total_steps, 1), time_fraction)


def _eta(steps_left: int, batch: int, rate: float, time_fraction: float, limit_s: float) -> float:
    """Seconds to the end of the run: its steps at the current rate, or the time limit's rest."""
    eta = steps_left * batch / max(rate, 1e-9)
    return min(eta, (1.0 - time_fraction) * limit_s) if limit_s else eta


def scheduled_lr(base: float, progress: float, schedule: str) -> float:
    """The rate after ``progress`` (0..1) of the run (``SCHEDULES``)."""
    if schedule == "late-decay":
        progress = max(progress - LATE_DECAY_START, 0.0) / (1.0 - LATE_DECAY_START)
    elif schedule == "constant":
        return base
    return base * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def train(
    dataset: Dataset,
    model_config=None,
    train_config: TrainConfig | None = None,
    *,
    family: str = DEFAULT_FAMILY,
    out_dir: str | Path | None = None,
    resume: Checkpoint | None = None,
    control: TaskControl | None = None,
    report_interval_s: float = 0.2,
    preview_interval_s: float = 1.0,
    dist: DistContext = SINGLE,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[StepRecord | EpochRecord | TrainingDone]:
    """Train (or resume) a model of ``family`` on ``dataset``; see the module docstring.

    ``model_config`` is the family's config (its default for the dataset when None); a resumed
    run takes family and config from the checkpoint. ``train_config.epochs`` is the total
    number of epochs of the run: resuming a checkpoint at epoch 3 with ``epochs=5`` trains
    epochs 4 and 5. Checkpoints go to ``out_dir/checkpoint.pt`` after every epoch and on cancel
    (no file is written when ``out_dir`` is None).

    Under torchrun (``dist`` from ``distributed.init_from_env``) the family's step wraps its
    networks in DistributedDataParallel; ``batch_size`` stays the global batch: each rank takes
    a disjoint ``batch_size / world_size`` slice of every batch, so a run matches a
    single-process run of the same effective batch. Only rank 0 writes checkpoints.

    A time limit (``train_config.minutes``) ends the run at the first step boundary after it:
    that last, shorter epoch is measured and saved as complete (``TrainingDone.reason`` "time
    limit"). Under torchrun rank 0's clock decides for all ranks. ``clock`` (seconds) is the
    loop's only source of time: a benchmark that suspends the trainer passes one that stands
    still meanwhile. Previews are spaced so that they take at most ``PREVIEW_SHARE`` of the time.
    """
    control = control or TaskControl()
    train_config = train_config or TrainConfig()
    device = resolve_device(train_config.device)
    if resume is not None:
        _check_resume(resume, dataset)
        family, model_config = resume.family, resume.model_config
    spec = get_family(family)
    check_family_takes(dataset, spec.name)
    if model_config is None:
        model_config = spec.default_config(dataset)
    _check_vocabulary(model_config, dataset)
    if tuple(model_config.image_shape) != tuple(dataset.image_shape):
        raise GenAIError(
            f"the model expects images of shape {tuple(model_config.image_shape)} (C, H, W) but "
            f"the dataset has {tuple(dataset.image_shape)}"
        )
    if model_config.num_classes and dataset.train.labels is None:
        raise GenAIError("a conditional model needs a dataset with labels")
    if train_config.batch_size % dist.world_size:
        raise GenAIError(f"the batch size {train_config.batch_size} must divide evenly over "
                         f"{dist.world_size} ranks")

    torch.manual_seed(train_config.seed)
    model = spec.build(model_config)
    model.to(device)
    step_fn = spec.training_step(model, train_config, device, dist)
    # the schedule scales each parameter group's own starting rate (a GAN's G and D may differ)
    base_lrs = [[group["lr"] for group in opt.param_groups] for opt in step_fn.optimizers]
    if dist.enabled:
        torch.manual_seed(train_config.seed + 7919 * dist.rank)  # independent noise per rank
    history: dict[str, list[float]] = {}
    timeline: list[dict] = []
    start_epoch = 0
    diagnostics: dict[str, np.ndarray] = {}
    if resume is not None:
        model.load_state_dict(resume.model.state_dict())
        history = {k: list(v) for k, v in resume.history.items()}
        timeline = list(resume.timeline)
        diagnostics = dict(resume.diagnostics)
        start_epoch = resume.epoch
        if resume.trainer_state:
            step_fn.load_state_dict(resume.trainer_state)
            if "rng_state" in resume.raw and not dist.enabled:
                torch.set_rng_state(resume.raw["rng_state"])

    train_x = images_to_tensor(dataset.train.images, device)
    test_x = images_to_tensor(dataset.test.images, device)
    conditional = model_config.num_classes > 0
    train_y = torch.from_numpy(np.array(dataset.train.labels)).long().to(device) if conditional else None
    test_y = torch.from_numpy(np.array(dataset.test.labels)).long().to(device) if conditional else None
    preview_x = test_x[:PREVIEW_COUNT]
    preview_y = None if test_y is None else test_y[:PREVIEW_COUNT]

    n_train = len(train_x)
    batch = min(train_config.batch_size, n_train)
    local = batch // dist.world_size  # this rank's slice of each global batch
    per_epoch = min(n_train, int(train_config.epoch_images) or n_train)
    steps_per_epoch = max(per_epoch // batch, 1)  # drop the ragged last batch: steady step cost
    total_steps = steps_per_epoch * train_config.epochs
    step = start_epoch * steps_per_epoch
    checkpoint_path = Path(out_dir) / CHECKPOINT_NAME if out_dir is not None else None
    if checkpoint_path is not None and dist.is_main:
        check_writable(checkpoint_path)  # a read-only --out fails now, not after an epoch
    meta: dict[str, Any] = {"family": spec.name, "train_config": train_config.to_dict(),
                            "dataset": dataset_info(dataset)}
    last_good = _state_copy(model)
    recorder = RunRecord(out_dir if dist.is_main else None, family=spec.name,
                         model_config=model_config.to_dict(), train_config=meta["train_config"],
                         dataset=meta["dataset"], device=str(device),
                         resumed_from=str(resume.path) if resume is not None and resume.path else None,
                         start_epoch=start_epoch)

    def diverged(message: str) -> TrainingDiverged:
        model.load_state_dict(last_good)
        return TrainingDiverged(f"{message}; training stopped and the last good weights were kept. "
                                f"{spec.divergence_hint}")

    def save(epoch: int) -> str | None:
        if checkpoint_path is None:
            return None
        if not dist.is_main:
            dist.barrier()  # wait until rank 0 has written the file
            return str(checkpoint_path)
        arrays = {k: torch.from_numpy(np.asarray(v, np.float64)) for k, v in diagnostics.items()}
        extra = {"rng_state": torch.get_rng_state(), "timeline": timeline, "diagnostics": arrays,
                 # optimisation seconds of every run so far, partial epochs included (Compare)
                 "train_seconds": seconds_before + train_seconds}
        payload = checkpoint_payload(model, epoch=epoch, history=history,
                                     trainer_state=step_fn.state_dict(), extra=extra, **meta)
        try:
            atomic_torch_save(payload, checkpoint_path)
        except StorageError as error:
            # Stop, but keep what was trained: the caller can save it elsewhere.
            stopped = CheckpointNotSaved(f"{error} (training stopped after epoch {epoch}; an earlier "
                                         "checkpoint there is unchanged)")
            stopped.errno, stopped.checkpoint = error.errno, checkpoint_from_dict(payload)
            raise stopped from error
        dist.barrier()
        return str(checkpoint_path)

    train_seconds = 0.0  # optimisation time only: evaluation and pauses excluded
    seconds_before = float(resume.raw.get("train_seconds", 0.0)) if resume is not None else 0.0
    images_seen = 0
    run_start = clock()
    paused_s = 0.0
    limit_s = train_config.minutes * 60.0

    def time_fraction() -> float:
        """Of the time limit spent (pauses excluded); 0 without a limit."""
        return min((clock() - run_start - paused_s) / limit_s, 1.0) if limit_s else 0.0

    preview_gap_s = preview_interval_s
    epoch = start_epoch
    cancelled = out_of_time = False
    names: list[str] = []  # the family's metric names, in the order of its first step
    model.train()
    for epoch in range(start_epoch + 1, train_config.epochs + 1):
        generator = torch.Generator().manual_seed(train_config.seed * 100_003 + epoch)
        order = torch.randperm(n_train, generator=generator).to(device)
        # metric sums since the last record, and over the epoch (sized at the first step)
        sums: torch.Tensor | None = None
        epoch_sums: torch.Tensor | None = None
        since_record = 0
        epoch_images = 0
        tick = last_record = last_preview = clock()
        for i in range(steps_per_epoch):
            before = clock()
            running = control.checkpoint()
            waited = clock() - before
            paused_s += waited
            out_of_time = bool(limit_s) and dist.broadcast_flag(time_fraction() >= 1.0)
            if not running or out_of_time:
                cancelled = not running
                if since_record and sums is not None and epoch_sums is not None:
                    # steps since the last record count: a cancelled epoch keeps them
                    train_seconds += before - tick
                    images_seen += since_record * dist.world_size
                    epoch_images += since_record
                    epoch_sums += sums
                break
            tick += waited  # time spent paused is not training time
            if train_config.schedule != "constant":
                progress = run_progress(step, total_steps, time_fraction())
                for optimizer, bases in zip(step_fn.optimizers, base_lrs, strict=True):
                    for group, base in zip(optimizer.param_groups, bases, strict=True):
                        group["lr"] = scheduled_lr(base, progress, train_config.schedule)
            first = i * batch + dist.rank * local
            idx = order[first:first + local]
            metrics = step_fn(Batch(to_unit(train_x[idx]), None if train_y is None else train_y[idx]))
            names = names or list(metrics)
            values_t = torch.stack([metrics[name] for name in names]).detach()
            if sums is None or epoch_sums is None:
                sums, epoch_sums = torch.zeros_like(values_t), torch.zeros_like(values_t)
            step += 1
            since_record += local
            sums += values_t
            now = clock()
            if now - last_record >= report_interval_s or i == steps_per_epoch - 1:
                train_seconds += now - tick
                images_seen += since_record * dist.world_size
                epoch_images += since_record
                values = dict(zip(names, (sums / since_record).tolist(), strict=True))
                bad = [f"{name} became {value}" for name, value in values.items() if not math.isfinite(value)]
                problem = f"the {bad[0]}" if bad else step_fn.health(values)
                if problem:
                    raise diverged(f"at epoch {epoch}, step {step}, {problem}")
                epoch_sums += sums
                sums.zero_()
                preview = None
                if dist.is_main and now - last_preview >= preview_gap_s:
                    preview = spec.preview(model, preview_x, preview_y)
                    last_preview = clock()
                    preview_gap_s = max(preview_interval_s, (last_preview - now) / PREVIEW_SHARE)
                rate = images_seen / max(train_seconds, 1e-9)
                spent = time_fraction()
                yield recorder.step(StepRecord(
                    epoch=epoch, step=step, total_steps=total_steps,
                    loss=values.get(spec.headline, math.nan), metrics=values,
                    lr=step_fn.optimizers[0].param_groups[0]["lr"], images_per_s=rate,
                    elapsed_s=now - run_start, eta_s=_eta(total_steps - step, batch, rate, spent, limit_s),
                    preview=preview, time_fraction=spent,
                ))
                since_record = 0
                tick = last_record = clock()
        if (cancelled or out_of_time) and epoch_images == 0:
            epoch -= 1
            break
        assert epoch_sums is not None  # an epoch that trained nothing ended the loop above
        epoch_sums = dist.all_reduce_sum(epoch_sums)
        train_means = dict(zip(names, (epoch_sums / max(epoch_images * dist.world_size, 1)).tolist(),
                               strict=True))
        measure = spec.measure(model, test_x, test_y, dist)
        bad = [f"test {name} became {value}" for name, value in measure.metrics.items()
               if not math.isfinite(value)]
        if bad:
            raise diverged(f"at epoch {epoch}, the {bad[0]}")
        last_good = _state_copy(model)
        rate = images_seen / max(train_seconds, 1e-9)
        # A cancelled partial epoch keeps its weights but counts as not yet trained, so a
        # resume runs it again in full.
        saved_epoch = epoch - 1 if cancelled else epoch
        diagnostics = dict(measure.diagnostics)
        if not cancelled:
            _append(history, epoch=epoch, **{f"train_{k}": v for k, v in train_means.items()},
                    **{f"test_{k}": v for k, v in measure.metrics.items()},
                    lr=step_fn.optimizers[0].param_groups[0]["lr"], images_per_s=rate)
            timeline.append({"epoch": epoch, "decoder": _timeline_snapshot(model)})
        path = save(saved_epoch)
        yield recorder.epoch(EpochRecord(
            epoch=epoch, epochs=train_config.epochs, train=train_means, test=dict(measure.metrics),
            diagnostics=diagnostics, images_per_s=rate, elapsed_s=clock() - run_start,
            checkpoint=path, preview=spec.preview(model, preview_x, preview_y),
        ), partial=cancelled)
        if cancelled:
            epoch -= 1
            break
        if out_of_time:
            break

    final_path = str(checkpoint_path) if checkpoint_path and checkpoint_path.exists() else None
    last = lambda key: history[key][-1] if history.get(key) else math.nan
    done = TrainingDone(
        reason="cancelled" if cancelled else "time limit" if out_of_time else "completed",
        epochs=epoch,
        train_loss=last(f"train_{spec.headline}"),
        test_loss=last(f"test_{spec.headline}"),
        samples_per_s=images_seen / max(train_seconds, 1e-9),
        seconds=clock() - run_start,
        checkpoint=final_path,
        device=str(device),
        family=spec.name,
        history=history,
    )
    recorder.finish(done)
    yield done


def check_family_takes(dataset: Dataset, family: str) -> None:
    """Refuse a text corpus for a family without character models (its config has no
    ``vocabulary``), in one sentence, before a config is made for the data."""
    if dataset.vocabulary is not None and not _takes_text(family):
        takes = " or ".join(name for name in family_names() if _takes_text(name))
        raise GenAIError(f"a text corpus trains only with --family {takes}; {dataset.name} is text")


def _takes_text(family: str) -> bool:
    return "vocabulary" in getattr(get_family(family).config_type, "__dataclass_fields__", {})


def _check_vocabulary(model_config, dataset: Dataset) -> None:
    """A character model trains on the corpus it was made for; an image model on images."""
    vocabulary = getattr(model_config, "vocabulary", "") or None
    if vocabulary == dataset.vocabulary:
        return
    if dataset.vocabulary is None:
        raise GenAIError("a character model trains on a text corpus, not on images")
    if vocabulary is None:
        raise GenAIError(f"{dataset.name} is a text corpus, and this is an image model; make the "
                         "model for the corpus (its characters)")
    raise GenAIError(f"the model's characters differ from those of {dataset.name}; make a new model for it")


def _append(history: dict[str, list[float]], **values: float) -> None:
    for key, value in values.items():
        history.setdefault(key, []).append(float(value))


def _state_copy(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _timeline_snapshot(model) -> dict[str, torch.Tensor]:
    """A light copy (float16, CPU) of the weights the model names for its training timeline."""
    return {k: v.detach().to("cpu", torch.float16).clone() for k, v in model.timeline_state().items()}


def _check_resume(checkpoint: Checkpoint, dataset: Dataset) -> None:
    expected = checkpoint.dataset.get("fingerprint")
    if expected and expected != dataset.fingerprint:
        raise CheckpointError(
            f"{checkpoint.path}: it was trained on dataset {checkpoint.dataset.get('name')!r} "
            f"(fingerprint {expected}), not on {dataset.name!r} ({dataset.fingerprint}); "
            "resume with the same dataset or start a new run"
        )
