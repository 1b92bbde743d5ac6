"""``genai-lab memorisation``: does the model copy its training images?

Samples ``--n`` images and finds each one's ``--k`` nearest training images in every space
asked for (``analysis.memorisation``), beside a baseline: how far real held-out test images lie
from their nearest training image. A sample closer than 95 % of test images are is flagged.
Progress goes to stderr; the table to stdout. With ``--json`` stdout holds one JSON object and
nothing else, the table going to stderr: ``spaces`` maps each space to its ``label``,
``nearest_median``/``nearest_min``, ``baseline_median``, ``flagged`` and per sample its
``neighbours`` (training indices), ``distances`` and ``test_share`` (the share of test images
nearer to the training set than it). Works for every model; the ``encoder`` space needs an
encoder. Never imports Qt.
"""

from __future__ import annotations

import sys

import numpy as np

from genai_engine.commands.output import UsageError, add_output_arguments, print_result

FLAG_SHARE = 0.05  # flagged: closer to the training set than 95 % of test images are
LISTED = 10  # flagged samples the table names


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "memorisation",
        help="nearest training images of generated samples: does the model copy its data?",
        description="Sample images and find each one's nearest training images (Euclidean, in "
        "pixels, the encoder's means or the domain CNN's features). Real held-out test images "
        "give the baseline: a sample nearer to a training image than 95 %% of test images are "
        "is flagged as a possible copy.",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="the model to check")
    p.add_argument("--dataset", default=None, metavar="DATASET|PATH",
                   help="its training data (default: the checkpoint's dataset)")
    p.add_argument("--n", type=int, default=64, help="samples to draw")
    p.add_argument("--k", type=int, default=5, help="nearest training images per sample")
    p.add_argument("--spaces", default=None, metavar="SPACE,...",
                   help="pixel, encoder and/or domain (default: pixel, and encoder for a model "
                   "with one)")
    p.add_argument("--baseline", type=int, default=300, metavar="B",
                   help="test images for the baseline (0: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps or cuda:N")
    add_output_arguments(p)
    p.set_defaults(func=run)


def _spaces(text: str | None, model) -> list[str]:
    from genai_engine.analysis.memorisation import SPACES
    from genai_engine.families.base import Encoder

    if text is None:
        return ["pixel", "encoder"] if isinstance(model, Encoder) else ["pixel"]
    spaces = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [s for s in spaces if s not in SPACES]
    if unknown or not spaces:
        raise UsageError(f"--spaces takes {', '.join(SPACES)}, got {text!r}")
    return spaces


def run(args) -> int:
    from genai_engine.analysis.memorisation import (
        MemorisationProgress,
        MemorisationResult,
        domain_features,
        memorisation_check,
    )
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.commands.likelihood import dataset_for
    from genai_engine.commands.progress import ProgressLine
    from genai_engine.devices import resolve_device
    from genai_engine.errors import GenAIError
    from genai_engine.families.base import Encoder

    if args.n < 1 or args.k < 1 or args.baseline < 0:
        raise UsageError("--n and --k must be at least 1 and --baseline at least 0")
    checkpoint = load_checkpoint(args.checkpoint)
    model = checkpoint.snapshot(str(resolve_device(args.device)))
    spaces = _spaces(args.spaces, model)
    if "encoder" in spaces and not isinstance(model, Encoder):
        raise GenAIError(f"{args.checkpoint}: this {checkpoint.family} model has no encoder, so there "
                         "is no encoder space; use --spaces pixel or pixel,domain")
    dataset = dataset_for(checkpoint, args.dataset)
    domain = None
    if "domain" in spaces:
        domain = domain_features(dataset.image_shape, str(resolve_device(args.device)))
        if domain is None:
            raise GenAIError(f"the domain network is not installed or does not take "
                             f"{dataset.name}'s images; leave domain out of --spaces")
    train, test = dataset.train, dataset.test
    line = ProgressLine(sys.stderr, quiet=args.quiet)
    line.message(f"sampling {args.n:,} images from the {checkpoint.family} model; searching "
                 f"{len(train):,} training images of {dataset.name} ({', '.join(spaces)})")
    result = None
    for record in memorisation_check(
            model, train.images, train_labels=train.labels,
            test_images=test.images if args.baseline else None,
            test_labels=test.labels if args.baseline else None,
            n_samples=args.n, k=args.k, seed=args.seed, spaces=spaces,
            baseline_n=args.baseline, domain=domain):
        if isinstance(record, MemorisationResult):
            result = record
        elif isinstance(record, MemorisationProgress):
            line.update(record.fraction, record.message)
    line.close()
    summary = None if result is None else summarise(result, train.labels, dataset.class_names)
    return print_result(summary, format_summary, args.json)


def summarise(result, train_labels, class_names) -> dict:
    """The plain-data summary of a ``MemorisationResult`` (the ``--json`` object)."""
    names = list(class_names or [])

    def class_of(index: int) -> str | None:
        if train_labels is None:
            return None
        label = int(train_labels[index])
        return names[label] if label < len(names) else str(label)

    spaces = {}
    for space, search in result.spaces.items():
        share = search.percentile()
        nearest = search.distances[:, 0]
        spaces[space] = {
            "label": search.label,
            "nearest_median": float(np.median(nearest)),
            "nearest_min": float(nearest.min()),
            "baseline_median": float(np.median(search.baseline)) if len(search.baseline) else None,
            "baseline_n": len(search.baseline),
            "flagged": int((share < FLAG_SHARE).sum()),
            "seconds": search.seconds,
            "samples": [{"neighbours": [int(i) for i in idx], "distances": [float(d) for d in dist],
                         "nearest_class": class_of(int(idx[0])),
                         "test_share": None if np.isnan(s) else float(s)}
                        for idx, dist, s in zip(search.indices, search.distances, share, strict=True)],
        }
    return {"n_samples": len(result.samples), "k": result.k, "seed": result.seed,
            "flag_share": FLAG_SHARE, "spaces": spaces, "seconds": result.seconds}


def format_summary(data: dict) -> str:
    lines = [f"{'space':<8}  {'nearest: median':>15}  {'min':>8}  {'test baseline':>13}  flagged"]
    for space, s in data["spaces"].items():
        baseline = "-" if s["baseline_median"] is None else f"{s['baseline_median']:.4g}"
        lines.append(f"{space:<8}  {s['nearest_median']:>15.4g}  {s['nearest_min']:>8.4g}  "
                     f"{baseline:>13}  {s['flagged']} of {data['n_samples']}")
    for space, s in data["spaces"].items():
        flagged = [(q, row) for q, row in enumerate(s["samples"])
                   if row["test_share"] is not None and row["test_share"] < FLAG_SHARE]
        for q, row in flagged[:LISTED]:
            of_class = f" ({row['nearest_class']})" if row["nearest_class"] else ""
            lines.append(f"  {space}: sample {q + 1} is {row['distances'][0]:.4g} from training image "
                         f"#{row['neighbours'][0]}{of_class}, nearer than {1 - row['test_share']:.0%} "
                         "of test images")
        if len(flagged) > LISTED:
            lines.append(f"  {space}: ... and {len(flagged) - LISTED} more")
    lines.append(f"{data['n_samples']:,} samples, seed {data['seed']}, {data['k']} neighbours each; "
                 f"flagged: nearer to a training image than {1 - FLAG_SHARE:.0%} of test images "
                 f"({data['seconds']:.1f} s)")
    lines += [f"  {space}: {s['label']}" for space, s in data["spaces"].items()]
    return "\n".join(lines)
