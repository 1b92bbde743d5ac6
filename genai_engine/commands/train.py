"""``genai-lab train``: train or resume a VAE headless."""

from __future__ import annotations

import json
import math

from genai_engine.commands.progress import ProgressLine, format_seconds
from genai_engine.devices import DEVICE_CHOICES

DEFAULTS = {"model": "mlp", "hidden": "400", "latent_dim": 20, "beta": 1.0, "likelihood": "bernoulli"}


def register(subparsers) -> None:
    from genai_engine.training import TrainConfig  # dataclass defaults are the app's defaults

    d = TrainConfig()
    p = subparsers.add_parser("train", help="train a VAE", description="Train (or resume) a VAE.")
    p.add_argument("--dataset", default="fashion-mnist",
                   help="built-in name (fashion-mnist) or a path: IDX folder/file, image folder, .npz")
    p.add_argument("--model", choices=("mlp", "conv"), default=DEFAULTS["model"])
    p.add_argument("--hidden", default=None,
                   help="hidden widths, e.g. 400 or 512,256 (conv: channels, default 32,64)")
    p.add_argument("--latent-dim", type=int, default=DEFAULTS["latent_dim"])
    p.add_argument("--beta", type=float, default=d.beta, help="weight of the KL term (beta-VAE)")
    p.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default=DEFAULTS["likelihood"])
    p.add_argument("--conditional", action="store_true", help="condition on class labels (CVAE)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--schedule", choices=("cosine", "constant"), default=d.schedule)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    p.add_argument("--image-size", type=int, default=None, help="resize image folders to this size")
    p.add_argument("--out", default="runs/latest", help="run folder for checkpoint.pt")
    p.add_argument("--resume", default=None, metavar="CKPT", help="continue this checkpoint's run")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last stdout line")
    p.set_defaults(func=run)


def run(args) -> int:
    from genai_engine.distributed import process_group

    with process_group(args.device) as (dist, device):  # a no-op unless launched by torchrun
        return _train(args, dist, device)


def _train(args, dist, device: str) -> int:
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.data import load_dataset
    from genai_engine.models import ModelConfig, parse_hidden
    from genai_engine.training import EpochRecord, StepRecord, TrainConfig, TrainingDone, train

    dataset = load_dataset(args.dataset, image_size=args.image_size)
    resume = load_checkpoint(args.resume) if args.resume else None
    hidden = args.hidden or ("32,64" if args.model == "conv" else DEFAULTS["hidden"])
    model_config = None if resume else ModelConfig(
        kind=args.model, hidden=parse_hidden(hidden), latent_dim=args.latent_dim,
        likelihood=args.likelihood, image_shape=dataset.image_shape,
        num_classes=dataset.num_classes if args.conditional else 0,
    )
    train_config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                               beta=args.beta, seed=args.seed, device=device,
                               schedule=args.schedule)
    progress = ProgressLine()
    done = None
    records = train(dataset, model_config, train_config, out_dir=args.out, resume=resume, dist=dist)
    for record in records:
        if not dist.is_main and not isinstance(record, TrainingDone):
            continue  # under torchrun only rank 0 reports
        if isinstance(record, StepRecord):
            progress.update(record.progress, f"epoch {record.epoch}/{train_config.epochs} "
                            f"loss {record.loss:.1f} {record.images_per_s:,.0f} img/s "
                            f"ETA {format_seconds(record.eta_s)}")
        elif isinstance(record, EpochRecord):
            progress.message(f"epoch {record.epoch}/{record.epochs}: train {record.train_loss:.2f} "
                             f"test {record.test_loss:.2f} nats (KL {record.test_kl:.2f}) "
                             f"{record.images_per_s:,.0f} img/s")
        elif isinstance(record, TrainingDone):
            done = record
    progress.close()
    if not dist.is_main:
        return 0
    summary = {
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
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"done: {done.epochs} epochs, test negative ELBO {summary['test_loss']} nats/image, "
              f"checkpoint {done.checkpoint}")
    return 0


def _number(value: float):
    return None if value is None or not math.isfinite(value) else round(float(value), 4)
