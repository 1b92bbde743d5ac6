"""The VAE trainer: a generator that yields plain progress records.

``train(...)`` runs the whole loop and yields ``StepRecord`` (a few per second), ``EpochRecord``
(after each epoch's test evaluation and checkpoint) and finally ``TrainingDone``. It calls
``control.checkpoint()`` between steps, so a caller can pause, resume or cancel it; a cancelled
run saves a checkpoint before it returns. Records hold floats and numpy arrays only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from genai_engine.checkpoints import Checkpoint, save_checkpoint
from genai_engine.data import Dataset
from genai_engine.devices import resolve_device
from genai_engine.distributed import SINGLE, DistContext
from genai_engine.errors import CheckpointError, GenAIError, TrainingDiverged
from genai_engine.losses import decoded_mean, kl_per_dim, negative_elbo
from genai_engine.models import VAE, ModelConfig, build_model
from genai_engine.tasks import TaskControl

CHECKPOINT_NAME = "checkpoint.pt"
PREVIEW_COUNT = 8
EVAL_BATCH = 1000


@dataclass
class TrainConfig:
    epochs: int = 6
    batch_size: int = 128
    lr: float = 4e-3
    beta: float = 1.0
    seed: int = 0
    device: str = "auto"
    schedule: str = "cosine"  # cosine decays the learning rate to 0 over the run; or constant

    def __post_init__(self) -> None:
        if not 1 <= int(self.epochs) <= 100_000:
            raise GenAIError(f"epochs must be at least 1, got {self.epochs}")
        if not 1 <= int(self.batch_size) <= 1 << 16:
            raise GenAIError(f"batch size must be 1..65536, got {self.batch_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise GenAIError(f"learning rate must be a positive number, got {self.lr}")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise GenAIError(f"beta must be zero or positive, got {self.beta}")
        if self.schedule not in ("cosine", "constant"):
            raise GenAIError(f"schedule must be cosine or constant, got {self.schedule!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StepRecord:
    epoch: int  # 1-based epoch in progress
    step: int  # global optimisation step
    total_steps: int
    loss: float  # negative ELBO (nats/image) averaged since the previous record
    recon: float
    kl: float
    lr: float
    images_per_s: float
    elapsed_s: float
    eta_s: float
    preview: np.ndarray | None = None  # uint8 (2k, H, W, C): k inputs then their reconstructions

    @property
    def progress(self) -> float:
        return self.step / max(self.total_steps, 1)


@dataclass
class EpochRecord:
    epoch: int
    epochs: int
    train_loss: float
    train_recon: float
    train_kl: float
    test_loss: float
    test_recon: float
    test_kl: float
    kl_per_dim: np.ndarray  # (D,) mean KL of each latent dimension on the test split
    images_per_s: float
    elapsed_s: float
    checkpoint: str | None
    preview: np.ndarray | None = None


@dataclass
class TrainingDone:
    reason: str  # "completed" or "cancelled"
    epochs: int
    train_loss: float
    test_loss: float
    samples_per_s: float  # training images per second over this run, evaluation excluded
    seconds: float
    checkpoint: str | None
    device: str
    history: dict = field(default_factory=dict)


def images_to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (N, H, W, C) -> uint8 (N, C, H, W) on the device; floats are made per batch."""
    writable = np.require(images, requirements=("C", "W"))  # torch refuses read-only buffers
    return torch.from_numpy(writable).permute(0, 3, 1, 2).contiguous().to(device)


def to_unit(batch_u8: torch.Tensor) -> torch.Tensor:
    return batch_u8.float().div_(255.0)


def to_uint8_images(x: torch.Tensor) -> np.ndarray:
    """float (B, C, H, W) in [0, 1] -> uint8 (B, H, W, C) numpy, with plain C strides.

    A permuted tensor keeps the (B, C, H, W) memory order, and ``.contiguous()`` does not
    change it when C is 1 (size-1 dimensions do not count): a convolution downstream then
    picks another memory format, and features of decoded images would differ in the 8th
    digit from those of the same images read from an array or a file."""
    x = (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    return x.clone(memory_format=torch.contiguous_format).cpu().numpy()


@torch.inference_mode()
def evaluate_elbo(model: VAE, images: torch.Tensor, labels: torch.Tensor | None,
                  dist: DistContext = SINGLE) -> dict:
    """Negative ELBO (beta = 1) on a whole split, in nats per image, and KL per dimension.

    Under torchrun each rank evaluates every ``world_size``-th image and the sums are added.
    """
    was_training = model.training
    model.eval()
    n = len(images)
    if dist.enabled:
        images = images[dist.rank::dist.world_size]
        labels = None if labels is None else labels[dist.rank::dist.world_size]
    sums = torch.zeros(model.config.latent_dim + 1, dtype=torch.float64)  # KL per dim, recon
    for start in range(0, len(images), EVAL_BATCH):
        x = to_unit(images[start:start + EVAL_BATCH])
        y = None if labels is None else labels[start:start + EVAL_BATCH]
        logits, mu, logvar = model(x, y)
        _, recon, _ = negative_elbo(logits, x, mu, logvar, model.config.likelihood,
                                    getattr(model, "log_sigma", None))
        sums[-1] += float(recon)
        sums[:-1] += kl_per_dim(mu, logvar).sum(0).double().cpu()
    model.train(was_training)
    if dist.enabled:
        device_sums = dist.all_reduce_sum(sums.to(next(model.parameters()).device))
        sums = device_sums.cpu()
    sums /= max(n, 1)
    kl_dims, recon = sums[:-1], float(sums[-1])
    kl = float(kl_dims.sum())
    return {"loss": recon + kl, "recon": recon, "kl": kl, "kl_per_dim": kl_dims.numpy()}


@torch.inference_mode()
def reconstruction_preview(model: VAE, x_u8: torch.Tensor, y: torch.Tensor | None) -> np.ndarray:
    was_training = model.training
    model.eval()
    x = to_unit(x_u8)
    mu, _ = model.encode(x, y)
    recon = decoded_mean(model.decode(mu, y))
    model.train(was_training)
    return np.concatenate([to_uint8_images(x), to_uint8_images(recon)])


def dataset_info(dataset: Dataset) -> dict:
    return {
        "name": dataset.name,
        "fingerprint": dataset.fingerprint,
        "image_shape": list(dataset.image_shape),
        "class_names": list(dataset.class_names or []),
        "source": dataset.source,
    }


def _cosine_lr(base: float, step: int, total: int) -> float:
    return base * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


def train(
    dataset: Dataset,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    *,
    out_dir: str | Path | None = None,
    resume: Checkpoint | None = None,
    control: TaskControl | None = None,
    report_interval_s: float = 0.2,
    preview_interval_s: float = 1.0,
    dist: DistContext = SINGLE,
) -> Iterator[StepRecord | EpochRecord | TrainingDone]:
    """Train (or resume) a VAE on ``dataset``; see the module docstring for the records.

    ``train_config.epochs`` is the total number of epochs of the run: resuming a checkpoint at
    epoch 3 with ``epochs=5`` trains epochs 4 and 5. Checkpoints go to ``out_dir/checkpoint.pt``
    after every epoch and on cancel (no file is written when ``out_dir`` is None).

    Under torchrun (``dist`` from ``distributed.init_from_env``) the model is wrapped in
    DistributedDataParallel; ``batch_size`` stays the global batch: each rank takes a disjoint
    ``batch_size / world_size`` slice of every batch, so a run matches a single-process run of
    the same effective batch. Only rank 0 writes checkpoints.
    """
    control = control or TaskControl()
    train_config = train_config or TrainConfig()
    device = resolve_device(train_config.device)
    if resume is not None:
        _check_resume(resume, dataset)
        model_config = resume.model_config
    elif model_config is None:
        model_config = ModelConfig(image_shape=dataset.image_shape)
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
    model = build_model(model_config)
    model.to(device)
    net = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        torch.manual_seed(train_config.seed + 7919 * dist.rank)  # independent noise per rank
    # The fused kernel updates all parameters in one call: ~2x fewer optimizer cycles for
    # small models, where per-tensor overhead dominates.
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr,
                                 fused=device.type in ("cpu", "cuda"))
    history: dict[str, list[float]] = {}
    timeline: list[dict] = []
    start_epoch = 0
    if resume is not None:
        model.load_state_dict(resume.model.state_dict())
        history = {k: list(v) for k, v in resume.history.items()}
        timeline = list(resume.timeline)
        start_epoch = resume.epoch
    if resume is not None and resume.raw.get("optimizer_state"):
        optimizer.load_state_dict(resume.raw["optimizer_state"])
        if "rng_state" in resume.raw and not dist.enabled:
            torch.set_rng_state(resume.raw["rng_state"])

    train_x = images_to_tensor(dataset.train.images, device)
    test_x = images_to_tensor(dataset.test.images, device)
    conditional = model_config.num_classes > 0
    train_y = torch.from_numpy(dataset.train.labels).long().to(device) if conditional else None
    test_y = torch.from_numpy(dataset.test.labels).long().to(device) if conditional else None
    preview_x = test_x[:PREVIEW_COUNT]
    preview_y = None if test_y is None else test_y[:PREVIEW_COUNT]

    n_train = len(train_x)
    batch = min(train_config.batch_size, n_train)
    local = batch // dist.world_size  # this rank's slice of each global batch
    steps_per_epoch = max(n_train // batch, 1)  # drop the ragged last batch: steady step cost
    total_steps = steps_per_epoch * train_config.epochs
    step = start_epoch * steps_per_epoch
    likelihood, beta = model_config.likelihood, float(train_config.beta)
    log_sigma = getattr(model, "log_sigma", None)
    checkpoint_path = Path(out_dir) / CHECKPOINT_NAME if out_dir is not None else None
    meta = {"train_config": train_config.to_dict(), "dataset": dataset_info(dataset)}
    last_good = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def save(epoch: int, kl_dims: np.ndarray) -> str | None:
        if checkpoint_path is None:
            return None
        if not dist.is_main:
            dist.barrier()  # wait until rank 0 has written the file
            return str(checkpoint_path)
        extra = {"rng_state": torch.get_rng_state(), "timeline": timeline,
                 "kl_per_dim": torch.from_numpy(np.asarray(kl_dims, dtype=np.float64))}
        save_checkpoint(checkpoint_path, model, epoch=epoch, history=history,
                        optimizer_state=optimizer.state_dict(), extra=extra, **meta)
        dist.barrier()
        return str(checkpoint_path)

    train_seconds = 0.0  # optimisation time only: evaluation and pauses excluded
    images_seen = 0
    run_start = time.perf_counter()
    epoch = start_epoch
    cancelled = False
    model.train()
    for epoch in range(start_epoch + 1, train_config.epochs + 1):
        generator = torch.Generator().manual_seed(train_config.seed * 100_003 + epoch)
        order = torch.randperm(n_train, generator=generator).to(device)
        sums = torch.zeros(3, device=device)  # objective pieces since the last record
        epoch_sums = torch.zeros(3, device=device)
        since_record = 0
        epoch_images = 0
        tick = last_record = last_preview = time.perf_counter()
        for i in range(steps_per_epoch):
            before = time.perf_counter()
            if not control.checkpoint():
                cancelled = True
                break
            tick += time.perf_counter() - before  # time spent paused is not training time
            if train_config.schedule == "cosine":
                for group in optimizer.param_groups:
                    group["lr"] = _cosine_lr(train_config.lr, step, total_steps)
            first = i * batch + dist.rank * local
            idx = order[first:first + local]
            x = to_unit(train_x[idx])
            y = None if train_y is None else train_y[idx]
            logits, mu, logvar = net(x, y)
            objective, recon, kl = negative_elbo(logits, x, mu, logvar, likelihood, log_sigma, beta)
            optimizer.zero_grad(set_to_none=True)
            (objective / local).backward()  # DDP averages over ranks: the global-batch mean
            optimizer.step()
            step += 1
            since_record += local
            sums += torch.stack([recon + kl, recon, kl]).detach()
            now = time.perf_counter()
            if now - last_record >= report_interval_s or i == steps_per_epoch - 1:
                train_seconds += now - tick
                images_seen += since_record * dist.world_size
                epoch_images += since_record
                values = (sums / since_record).tolist()
                if not all(math.isfinite(v) for v in values):
                    model.load_state_dict(last_good)
                    raise TrainingDiverged(
                        f"the loss became {values[0]} at epoch {epoch}, step {step}; training stopped "
                        "and the last good weights were kept. Try a smaller learning rate."
                    )
                epoch_sums += sums
                sums.zero_()
                preview = None
                if dist.is_main and now - last_preview >= preview_interval_s:
                    preview = reconstruction_preview(model, preview_x, preview_y)
                    last_preview = now
                rate = images_seen / max(train_seconds, 1e-9)
                yield StepRecord(
                    epoch=epoch, step=step, total_steps=total_steps, loss=values[0], recon=values[1],
                    kl=values[2], lr=optimizer.param_groups[0]["lr"], images_per_s=rate,
                    elapsed_s=now - run_start, eta_s=(total_steps - step) * batch / max(rate, 1e-9),
                    preview=preview,
                )
                since_record = 0
                tick = last_record = time.perf_counter()
        if cancelled and epoch_images == 0:
            epoch -= 1
            break
        epoch_sums = dist.all_reduce_sum(epoch_sums)
        train_means = (epoch_sums / max(epoch_images * dist.world_size, 1)).tolist()
        test = evaluate_elbo(model, test_x, test_y, dist)
        if not math.isfinite(test["loss"]):
            model.load_state_dict(last_good)
            raise TrainingDiverged(f"the test loss became {test['loss']} at epoch {epoch}; the last "
                                   "good weights were kept. Try a smaller learning rate.")
        last_good = {k: v.detach().clone() for k, v in model.state_dict().items()}
        rate = images_seen / max(train_seconds, 1e-9)
        # A cancelled partial epoch keeps its weights but counts as not yet trained, so a
        # resume runs it again in full.
        saved_epoch = epoch - 1 if cancelled else epoch
        if not cancelled:
            _append(history, epoch=epoch, train_loss=train_means[0], train_recon=train_means[1],
                    train_kl=train_means[2], test_loss=test["loss"], test_recon=test["recon"],
                    test_kl=test["kl"], lr=optimizer.param_groups[0]["lr"], images_per_s=rate)
            timeline.append({"epoch": epoch, "decoder": _decoder_snapshot(model)})
        path = save(saved_epoch, test["kl_per_dim"])
        yield EpochRecord(
            epoch=epoch, epochs=train_config.epochs, train_loss=train_means[0],
            train_recon=train_means[1], train_kl=train_means[2], test_loss=test["loss"],
            test_recon=test["recon"], test_kl=test["kl"], kl_per_dim=test["kl_per_dim"],
            images_per_s=rate, elapsed_s=time.perf_counter() - run_start, checkpoint=path,
            preview=reconstruction_preview(model, preview_x, preview_y),
        )
        if cancelled:
            epoch -= 1
            break

    final_path = str(checkpoint_path) if checkpoint_path and checkpoint_path.exists() else None
    yield TrainingDone(
        reason="cancelled" if cancelled else "completed",
        epochs=epoch,
        train_loss=history.get("train_loss", [math.nan])[-1] if history else math.nan,
        test_loss=history.get("test_loss", [math.nan])[-1] if history else math.nan,
        samples_per_s=images_seen / max(train_seconds, 1e-9),
        seconds=time.perf_counter() - run_start,
        checkpoint=final_path,
        device=str(device),
        history=history,
    )


def _append(history: dict[str, list[float]], **values: float) -> None:
    for key, value in values.items():
        history.setdefault(key, []).append(float(value))


def _decoder_snapshot(model: VAE) -> dict[str, torch.Tensor]:
    """A light copy of the decoder weights (float16) for the training timeline."""
    keep = ("decoder.", "fc_decode.", "up.", "log_sigma")
    return {k: v.detach().to("cpu", torch.float16).clone()
            for k, v in model.state_dict().items() if k.startswith(keep)}


def _check_resume(checkpoint: Checkpoint, dataset: Dataset) -> None:
    expected = checkpoint.dataset.get("fingerprint")
    if expected and expected != dataset.fingerprint:
        raise CheckpointError(
            f"{checkpoint.path}: it was trained on dataset {checkpoint.dataset.get('name')!r} "
            f"(fingerprint {expected}), not on {dataset.name!r} ({dataset.fingerprint}); "
            "resume with the same dataset or start a new run"
        )
