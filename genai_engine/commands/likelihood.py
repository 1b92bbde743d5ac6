"""``genai-lab likelihood``: importance-weighted (IWAE) estimates of the test NLL.

Progress goes to stderr; the table to stdout. With ``--json`` stdout holds one JSON object and
nothing else, the table going to stderr (``LikelihoodResult.to_dict()``: ``nll`` and
``nll_stderr`` keyed by k, ``elbo``, ``n_images``, ...). Never imports Qt.
"""

from __future__ import annotations

import sys

from genai_engine.commands.output import UsageError, add_output_arguments, print_result


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "likelihood",
        help="estimate the test negative log-likelihood (IWAE bound) beside the ELBO",
        description="Importance-weighted bounds on -log p(x) with k posterior samples per image. "
        "The estimate tightens (falls) as k grows; k=1 is the ELBO. Nats per image under the "
        "model's own likelihood: a Bernoulli likelihood on continuous pixels is a cross-entropy, "
        "not comparable with published binarised-MNIST numbers.",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="the model to measure")
    p.add_argument("--dataset", default=None, metavar="DATASET|PATH",
                   help="images to score (default: the checkpoint's dataset, else fashion-mnist)")
    p.add_argument("--split", choices=("test", "train"), default="test", help="which split to score")
    p.add_argument("--k", default="1,10,100", metavar="K,K,...",
                   help="importance samples per image, e.g. 1,10,100,1000 (default 1,10,100)")
    p.add_argument("--n", type=int, default=1000, help="number of images (the first N; default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the posterior samples")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps or cuda:N")
    add_output_arguments(p)
    p.set_defaults(func=run)


def dataset_for(checkpoint, spec: str | None):
    """The dataset to use with ``checkpoint``: ``spec`` if given, else the one it was trained
    on (its recorded source, then its name), else a ``GenAIError`` that says to pass one."""
    from genai_engine.data import load_dataset
    from genai_engine.errors import GenAIError

    _, h, w = checkpoint.model_config.image_shape
    size = h if h == w else None
    if spec:
        return load_dataset(spec, image_size=size)
    info = checkpoint.dataset or {}
    for candidate in dict.fromkeys(c for c in (info.get("source"), info.get("name")) if c):
        try:
            return load_dataset(candidate, image_size=size)
        except GenAIError:
            continue
    raise GenAIError(f"cannot find the dataset this model was trained on "
                     f"({info.get('name') or 'unknown'}); pass --dataset")


def run(args) -> int:
    from genai_engine.analysis.likelihood import (
        LikelihoodProgress,
        LikelihoodResult,
        estimate_nll,
        format_result,
        parse_ks,
    )
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.commands.progress import ProgressLine
    from genai_engine.devices import resolve_device
    from genai_engine.errors import GenAIError
    from genai_engine.families.base import Encoder

    if args.n < 1:
        raise UsageError("--n must be at least 1")
    try:
        ks = parse_ks(args.k)
    except GenAIError as error:  # a --k the command line got wrong
        raise UsageError(str(error)) from None
    checkpoint = load_checkpoint(args.checkpoint)
    model = checkpoint.snapshot(str(resolve_device(args.device)))
    if not isinstance(model, Encoder):  # importance sampling needs the encoder's posterior
        raise GenAIError(f"{args.checkpoint}: a {checkpoint.family} model has no encoder, so the "
                         "importance-weighted likelihood does not apply to it")
    dataset = dataset_for(checkpoint, args.dataset)
    part = dataset.split(args.split)
    images = part.images[:args.n]
    labels = None if part.labels is None else part.labels[:args.n]
    line = ProgressLine(sys.stderr, quiet=args.quiet)
    line.message(f"estimating on {len(images):,} {args.split} images of {dataset.name} with "
                 f"k = {', '.join(map(str, ks))} ({max(ks):,} samples per image)")
    result = None
    for record in estimate_nll(model, images, labels, ks, seed=args.seed):
        if isinstance(record, LikelihoodResult):
            result = record
        elif isinstance(record, LikelihoodProgress):
            best = max(record.nll)
            line.update(record.fraction, f"{record.done:,}/{record.total:,} images, "
                        f"NLL(k={best}) {record.nll[best]:.2f} ({record.seconds:.0f} s)")
    line.close()
    return print_result(result, format_result, args.json)
