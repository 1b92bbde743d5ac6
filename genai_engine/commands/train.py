"""``genai-lab train``: train or resume a model of any family headless.

A run goes to ``--out`` (default: a new ``runs/<time>-<dataset>`` folder; a resume continues in
its checkpoint's folder); a folder that already holds a checkpoint is refused unless
``--resume`` or ``--overwrite`` says what to do with it. ``--config`` reads the settings from a
``run.json`` run record or a ``run.toml`` of the same shape; options given on the command line
win over the file.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path

from genai_engine.commands.output import UsageError, add_output_arguments, print_json
from genai_engine.commands.progress import ProgressLine, format_seconds
from genai_engine.commands.stop_signals import stop_on_signals
from genai_engine.devices import DEVICE_CHOICES
from genai_engine.errors import GenAIError
from genai_engine.tasks import TaskControl

RUNS_ROOT = "runs"
# the training settings a --config file may hold, as TrainConfig names them
FILE_SETTINGS = ("epochs", "batch_size", "lr", "schedule", "epoch_images", "minutes", "beta", "seed")
_NOT_GIVEN = object()  # marks a family option the command line did not give (under --config)


def register(subparsers) -> None:
    from genai_engine.data.text import DEFAULT_CONTEXT
    from genai_engine.families import DEFAULT_FAMILY, family_names, get_family
    from genai_engine.training import SCHEDULES, TrainConfig  # dataclass defaults are the app's defaults

    d = TrainConfig()
    p = subparsers.add_parser("train", help="train a model (VAE, GAN, ...)", conflict_handler="resolve",
                              description="Train (or resume) a generative model of one family.")
    p.add_argument("--config", default=None, metavar="RUN.json|RUN.toml",
                   help="read the settings (family, dataset, model, training) from a run record's "
                   "run.json or a .toml of the same shape; options given here win (default: "
                   "none, the options alone)")
    p.add_argument("--family", choices=family_names(), default=DEFAULT_FAMILY, help="the model family")
    p.add_argument("--dataset", default="fashion-mnist",
                   help="built-in name (fashion-mnist, python-docs) or a path: IDX folder/file, image "
                   "folder, .npz, or a UTF-8 .txt text (text trains with --family autoregressive)")
    p.add_argument("--beta", type=float, default=d.beta, help="weight of the KL term (beta-VAE)")
    p.add_argument("--conditional", action="store_true", help="condition on class labels")
    p.add_argument("--epochs", type=int, default=None, help="number of epochs (default: the family's)")
    p.add_argument("--batch-size", type=int, default=None, help="images per batch (default: the family's)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the family's)")
    p.add_argument("--schedule", choices=SCHEDULES, default=None,
                   help="learning-rate schedule: cosine lowers it to 0 from the start, late-decay "
                   "holds it for 80%% of the run, then lowers it to 0 (default: the family's)")
    p.add_argument("--epoch-images", type=int, default=None, metavar="N",
                   help="images per epoch, a fresh random subset each time (default: the whole "
                        "training split, or the family's)")
    p.add_argument("--minutes", type=float, default=None,
                   help="train for this many minutes (pauses excluded), the learning-rate schedule "
                   "planned over them; without --epochs, as many epochs as fit (default: no limit)")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed of weights, batches and noise")
    p.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    p.add_argument("--image-size", type=int, default=None, help="resize image folders to this size "
                   "(default: their own size)")
    p.add_argument("--context", type=int, default=None, metavar="CHARS",
                   help=f"a text corpus's window in characters, the model's context (default "
                   f"{DEFAULT_CONTEXT}; a resumed run keeps its own)")
    p.add_argument("--out", default=None, metavar="FOLDER",
                   help=f"run folder for checkpoint.pt, run.json and metrics.jsonl (default: a new "
                   f"{RUNS_ROOT}/<time>-<dataset> folder; with --resume, the checkpoint's folder)")
    p.add_argument("--resume", default=None, metavar="CKPT", help="continue this checkpoint's run (default: "
                   "start a new one)")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in an --out folder that already holds a checkpoint")
    add_output_arguments(p)
    common = {action.dest for action in p._actions}
    for name in family_names():
        get_family(name).add_arguments(p)
    family_options = {action.dest: (action.option_strings[0], action.default) for action in p._actions
                      if action.dest not in common}
    p.set_defaults(func=run, reparse=functools.partial(_with_config, p, family_options))


def _with_config(parser, family_options: dict, args, argv: list[str]):
    """``argv`` (the options after ``train``) parsed again on top of the ``--config`` file's
    settings, so options given win (the subparser itself: argparse's top level would put the
    subparser's defaults over the file's values)."""
    from genai_engine.run_record import read_run

    if not args.config:
        return args
    record = read_run(args.config)
    dataset = record.get("dataset")
    if isinstance(dataset, dict):
        dataset = dataset.get("source") or dataset.get("name")
    settings = record.get("train_config") or {}
    unknown = sorted(set(settings) - set(FILE_SETTINGS) - {"device"})
    if unknown:
        raise GenAIError(f"{args.config}: unknown training setting {unknown[0]!r}; "
                         f"known: {', '.join(FILE_SETTINGS)}")
    values = {k: settings[k] for k in FILE_SETTINGS if k in settings}
    values.update({k: v for k, v in (("family", record.get("family")), ("dataset", dataset)) if v})
    unset = dict.fromkeys(family_options, _NOT_GIVEN)
    namespace = argparse.Namespace(command=args.command, **values, **unset)
    args = parser.parse_args(argv, namespace)
    given = [option for dest, (option, _) in family_options.items() if getattr(args, dest) is not _NOT_GIVEN]
    for dest, (_, default) in family_options.items():  # not given: the option's own default
        if getattr(args, dest) is _NOT_GIVEN:
            setattr(args, dest, default)
    args.file_model_config = record.get("model_config")
    if args.file_model_config and given:
        raise UsageError(f"{given[0]} cannot change the model of --config {args.config}; "
                         "edit its model_config instead")
    return args


def run(args) -> int:
    from genai_engine.distributed import process_group

    with process_group(args.device) as (dist, device):  # a no-op unless launched by torchrun
        return _train(args, dist, device)


def run_folder(args, dataset_name: str, dist) -> Path:
    """Where this run writes: ``--out``, the resumed checkpoint's folder or a new one; refuses a
    folder holding another run's checkpoint unless ``--resume`` or ``--overwrite``."""
    from genai_engine.run_record import new_run_dir
    from genai_engine.training import CHECKPOINT_NAME

    if args.out:
        out = Path(args.out)
        if (out / CHECKPOINT_NAME).exists() and not (args.resume or args.overwrite):
            raise UsageError(f"{out} already holds a run ({CHECKPOINT_NAME}); continue it with --resume "
                             f"{out / CHECKPOINT_NAME}, replace it with --overwrite, or pick another --out")
        return out
    if args.resume:
        return Path(args.resume).parent
    if not dist.is_main:  # other ranks write nothing; rank 0's folder is the run's
        return Path(RUNS_ROOT) / f"rank-{dist.rank}"
    return new_run_dir(dataset_name, RUNS_ROOT)


def _train(args, dist, device: str) -> int:
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.data import load_dataset
    from genai_engine.families import get_family
    from genai_engine.training import EPOCHS_MAX, TrainConfig, check_family_takes, train

    resume = load_checkpoint(args.resume) if args.resume else None
    dataset = load_dataset(args.dataset, image_size=args.image_size, context=_context(args, resume))
    if args.context and dataset.vocabulary is None:
        raise UsageError("--context applies to a text corpus only; leave it out for images")
    family = get_family(resume.family if resume else args.family)
    check_family_takes(dataset, family.name)
    if args.conditional and not dataset.num_classes:
        raise GenAIError("--conditional needs a dataset with class labels")
    if resume:
        model_config = None
    elif getattr(args, "file_model_config", None):
        model_config = _config_from_file(family, args.file_model_config, args.config)
    else:
        model_config = family.config_from_args(args, dataset)
    given = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "schedule": args.schedule,
             "epoch_images": args.epoch_images, "minutes": args.minutes}
    if args.minutes and args.epochs is None:
        given["epochs"] = EPOCHS_MAX  # the time limit decides
    settings = {**TrainConfig().to_dict(), **family.train_defaults_for(dataset),
                **{k: v for k, v in given.items() if v is not None}}
    train_config = TrainConfig(**{**settings, "beta": args.beta, "seed": args.seed, "device": device})
    out = run_folder(args, dataset.name, dist)
    progress = ProgressLine(quiet=args.quiet)
    control = TaskControl()
    records = train(dataset, model_config, train_config, family=family.name, out_dir=out,
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
        "run_folder": str(out),
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
        print_json(summary)
    if stopped.signum is not None:  # saved like the app's Stop: one line, exit 130 / 143
        saved = (f"checkpoint saved: {done.checkpoint}" if done.checkpoint
                 else "nothing trained yet, so no checkpoint")
        print(f"genai-lab train: stopped by {stopped.name}; {saved}", file=sys.stderr)
        return stopped.exit_code
    if not args.json:
        loss = (f", test loss {summary['test_loss']} {family.loss_unit}"
                if summary["test_loss"] is not None else "")
        ended = " (time limit)" if done.reason == "time limit" else ""
        epochs = f"{done.epochs} epoch" + ("" if done.epochs == 1 else "s")
        print(f"done: {family.title}, {epochs}{ended}{loss}, checkpoint {done.checkpoint}")
    return 0


def _context(args, resume) -> int | None:
    """--context, else the window of the model resumed or read from --config (the last of its
    image shape; images ignore it), else None: the default."""
    if args.context:
        return args.context
    model_config = getattr(args, "file_model_config", None) or {}
    shape = resume.model_config.image_shape if resume else model_config.get("image_shape")
    return int(shape[-1]) if shape else None


def _config_from_file(family, data: dict, path: str):
    try:
        return family.config_type.from_dict(data)
    except (TypeError, ValueError, KeyError) as error:
        raise GenAIError(f"{path}: the model_config does not fit a {family.name} model ({error})") from None


def _follow(records, train_config, dist, progress: ProgressLine):
    """Print the trainer's progress; returns its ``TrainingDone``."""
    from genai_engine.training import EpochRecord, StepRecord, TrainingDone

    done = None
    for record in records:
        if not dist.is_main and not isinstance(record, TrainingDone):
            continue  # under torchrun only rank 0 reports
        if isinstance(record, StepRecord):
            progress.update(record.progress, f"{_epoch_label(record.epoch, train_config)} "
                            f"loss {record.loss:.4g} {record.images_per_s:,.0f} img/s "
                            f"ETA {format_seconds(record.eta_s)}")
        elif isinstance(record, EpochRecord):
            progress.message(f"{_epoch_label(record.epoch, train_config)}: {_metrics_line(record)} "
                             f"{record.images_per_s:,.0f} img/s")
        elif isinstance(record, TrainingDone):
            done = record
    return done


def _epoch_label(epoch: int, train_config) -> str:
    """'epoch 3/8', or under a time limit 'epoch 3 (5 min limit)' (the epochs a cap)."""
    if train_config.minutes:
        return f"epoch {epoch} ({train_config.minutes:g} min limit)"
    return f"epoch {epoch}/{train_config.epochs}"


def _metrics_line(record) -> str:
    """'train loss 250.1 recon 230.0 kl 20.1 | test loss 248.0 ...' with the family's names."""
    parts = []
    for side, values in (("train", record.train), ("test", record.test)):
        if values:
            parts.append(side + " " + " ".join(f"{k} {v:.4g}" for k, v in values.items()))
    return " | ".join(parts)


def _number(value: float):
    return None if value is None or not math.isfinite(value) else round(float(value), 4)
