"""``genai-lab train``: train or resume a model of any family headless."""

from __future__ import annotations

import json
import math
import sys

from genai_engine.commands.progress import ProgressLine, format_seconds
from genai_engine.commands.stop_signals import stop_on_signals
from genai_engine.devices import DEVICE_CHOICES
from genai_engine.errors import GenAIError
from genai_engine.tasks import TaskControl


def register(subparsers) -> None:
    from genai_engine.families import DEFAULT_FAMILY, family_names, get_family
    from genai_engine.training import TrainConfig  # dataclass defaults are the app's defaults

    d = TrainConfig()
    p = subparsers.add_parser("train", help="train a model (VAE, GAN, ...)", conflict_handler="resolve",
                              description="Train (or resume) a generative model of one family.")
    p.add_argument("--family", choices=family_names(), default=DEFAULT_FAMILY,
                   help="the model family (default %(default)s)")
    p.add_argument("--dataset", default="fashion-mnist",
                   help="built-in name (fashion-mnist) or a path: IDX folder/file, image folder, .npz")
    p.add_argument("--beta", type=float, default=d.beta, help="weight of the KL term (beta-VAE)")
    p.add_argument("--conditional", action="store_true", help="condition on class labels")
    p.add_argument("--epochs", type=int, default=None, help="default: the family's")
    p.add_argument("--batch-size", type=int, default=None, help="default: the family's")
    p.add_argument("--lr", type=float, default=None, help="default: the family's")
    p.add_argument("--schedule", choices=("cosine", "constant"), default=None, help="default: the family's")
    p.add_argument("--epoch-images", type=int, default=None, metavar="N",
                   help="images per epoch, a fresh random subset each time (default: the whole "
                        "training split, or the family's)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    p.add_argument("--image-size", type=int, default=None, help="resize image folders to this size")
    p.add_argument("--out", default="runs/latest", help="run folder for checkpoint.pt")
    p.add_argument("--resume", default=None, metavar="CKPT", help="continue this checkpoint's run")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last stdout line")
    for name in family_names():
        get_family(name).add_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from genai_engine.distributed import process_group

    with process_group(args.device) as (dist, device):  # a no-op unless launched by torchrun
        return _train(args, dist, device)


def _train(args, dist, device: str) -> int:
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.data import load_dataset
    from genai_engine.families import get_family
    from genai_engine.training import TrainConfig, train

    dataset = load_dataset(args.dataset, image_size=args.image_size)
    resume = load_checkpoint(args.resume) if args.resume else None
    family = get_family(resume.family if resume else args.family)
    if args.conditional and not dataset.num_classes:
        raise GenAIError("--conditional needs a dataset with class labels")
    model_config = None if resume else family.config_from_args(args, dataset)
    given = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "schedule": args.schedule,
             "epoch_images": args.epoch_images}
    settings = {**TrainConfig().to_dict(), **family.train_defaults,
                **{k: v for k, v in given.items() if v is not None}}
    train_config = TrainConfig(**{**settings, "beta": args.beta, "seed": args.seed, "device": device})
    progress = ProgressLine()
    control = TaskControl()
    records = train(dataset, model_config, train_config, family=family.name, out_dir=args.out,
                    resume=resume, control=control, dist=dist)
    with stop_on_signals(control, enabled=not dist.enabled) as stopped:
        done = _follow(records, train_config, dist, progress)
    progress.close()
    if not dist.is_main:
        return 0
    summary = {
        "family": done.family,
        "epochs": done.epochs,
        "train_loss": _number(done.train_loss),
        "test_loss": _number(done.test_loss),
        "samples_per_s": round(done.samples_per_s, 1),
        "seconds": round(done.seconds, 3),
        "checkpoint": done.checkpoint,
        "device": done.device,
        "dataset": dataset.name,
        "status": done.reason,
        "world_size": dist.world_size,
        **family.summary_fields(resume.model_config if resume else model_config),
        # the family's metrics of the last epoch, by name: test_recon, train_loss_d, ...
        **{key: _number(values[-1]) for key, values in done.history.items()
           if key.startswith(("train_", "test_")) and values},
    }
    if args.json:
        print(json.dumps(summary))
    if stopped.signum is not None:  # saved like the app's Stop: one line, exit 130 / 143
        saved = (f"checkpoint saved: {done.checkpoint}" if done.checkpoint
                 else "nothing trained yet, so no checkpoint")
        print(f"genai-lab train: stopped by {stopped.name}; {saved}", file=sys.stderr)
        return stopped.exit_code
    if not args.json:
        loss = (f", test loss {summary['test_loss']} {family.loss_unit}"
                if summary["test_loss"] is not None else "")
        print(f"done: {family.title}, {done.epochs} epochs{loss}, checkpoint {done.checkpoint}")
    return 0


def _follow(records, train_config, dist, progress: ProgressLine):
    """Print the trainer's progress; returns its ``TrainingDone``."""
    from genai_engine.training import EpochRecord, StepRecord, TrainingDone

    done = None
    for record in records:
        if not dist.is_main and not isinstance(record, TrainingDone):
            continue  # under torchrun only rank 0 reports
        if isinstance(record, StepRecord):
            progress.update(record.progress, f"epoch {record.epoch}/{train_config.epochs} "
                            f"loss {record.loss:.4g} {record.images_per_s:,.0f} img/s "
                            f"ETA {format_seconds(record.eta_s)}")
        elif isinstance(record, EpochRecord):
            progress.message(f"epoch {record.epoch}/{record.epochs}: {_metrics_line(record)} "
                             f"{record.images_per_s:,.0f} img/s")
        elif isinstance(record, TrainingDone):
            done = record
    return done


def _metrics_line(record) -> str:
    """'train loss 250.1 recon 230.0 kl 20.1 | test loss 248.0 ...' with the family's names."""
    parts = []
    for side, values in (("train", record.train), ("test", record.test)):
        if values:
            parts.append(side + " " + " ".join(f"{k} {v:.4g}" for k, v in values.items()))
    return " | ".join(parts)


def _number(value: float):
    return None if value is None or not math.isfinite(value) else round(float(value), 4)
