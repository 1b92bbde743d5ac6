"""``genai-lab likelihood``: the test NLL. A VAE gets importance-weighted (IWAE) estimates
beside its ELBO; a model that gives its likelihood itself (``DensityModel``: an autoregressive
model's exact one, a diffusion model's variational bound) is scored as it is.

Progress goes to stderr; the table to stdout. With ``--json`` stdout holds one JSON object and
nothing else, the table going to stderr (a VAE's ``LikelihoodResult.to_dict()``: ``nll`` and
``nll_stderr`` keyed by k, ``elbo``, ``n_images``, ...; otherwise ``ScoredNLL.to_dict()``:
``nll``, ``nll_stderr``, ``bits_per_dim``, ``kind``, ...). Never imports Qt.
"""

from __future__ import annotations

import sys

from genai_engine.commands.output import UsageError, add_output_arguments, print_result


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "likelihood",
        help="estimate the test negative log-likelihood (a VAE: IWAE bounds beside the ELBO)",
        description="A VAE: importance-weighted bounds on -log p(x) with k posterior samples per "
        "image. The estimate tightens (falls) as k grows; k=1 is the ELBO. Nats per image under the "
        "model's own likelihood: a Bernoulli likelihood on continuous pixels is a cross-entropy, "
        "not comparable with published binarised-MNIST numbers. An autoregressive model gives its "
        "exact NLL of the K-level images, a diffusion model its variational bound on -log P of the "
        "8-bit images.",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="the model to measure")
    p.add_argument("--dataset", default=None, metavar="DATASET|PATH",
                   help="images to score (default: the checkpoint's dataset, else fashion-mnist)")
    p.add_argument("--split", choices=("test", "train"), default="test", help="which split to score")
    p.add_argument("--k", default="1,10,100", metavar="K,K,...",
                   help="importance samples per image, e.g. 1,10,100,1000")
    p.add_argument("--n", type=int, default=1000, help="number of images (the first N)")
    p.add_argument("--seed", type=int, default=0, help="seed of the posterior samples")
    p.add_argument("--terms", default=None, metavar="N|all",
                   help="a diffusion model's bound: timesteps per image that estimate its sum over "
                   "the T noise levels without bias (default: about the cost of one 25-step "
                   "sample); 'all' sums every one, T network evaluations per image")
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
        importance_weighted,
        parse_ks,
    )
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.commands.progress import ProgressLine
    from genai_engine.devices import resolve_device
    from genai_engine.errors import GenAIError
    from genai_engine.families.base import DensityModel

    if args.n < 1:
        raise UsageError("--n must be at least 1")
    try:
        ks = parse_ks(args.k)
    except GenAIError as error:  # a --k the command line got wrong
        raise UsageError(str(error)) from None
    checkpoint = load_checkpoint(args.checkpoint)
    model = checkpoint.snapshot(str(resolve_device(args.device)))
    if args.terms is not None:
        set_bound_terms(model, args.terms, checkpoint.family)
    if not isinstance(model, DensityModel):
        raise GenAIError(f"{args.checkpoint}: a {checkpoint.family} model defines no likelihood, so "
                         "there is none to estimate")
    dataset = dataset_for(checkpoint, args.dataset)
    part = dataset.split(args.split)
    images = part.images[:args.n]
    labels = None if part.labels is None else part.labels[:args.n]
    line = ProgressLine(sys.stderr, quiet=args.quiet)
    if not importance_weighted(model):
        return scored(model, images, labels, args, line)
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


def set_bound_terms(model, terms: str, family: str) -> None:
    """``--terms``: 'all' or a whole number, for a model whose likelihood is estimated over its
    noise levels (a diffusion model's ``bound_terms``)."""
    if not hasattr(model, "bound_terms"):
        raise UsageError(f"--terms sets a diffusion model's bound; a {family} model has none, leave it out")
    from genai_engine.errors import GenAIError

    try:
        model.bound_terms = None if terms.strip().lower() == "all" else int(terms)
    except (ValueError, GenAIError):
        raise UsageError(f"--terms must be a whole number of at least 1, or all; got {terms!r}") from None


def scored(model, images, labels, args, line) -> int:
    """A likelihood the model gives itself (``score_nll``), with progress on ``line``."""
    from genai_engine.analysis.likelihood import LikelihoodProgress, format_scored, score_nll

    line.message(f"scoring {len(images):,} {args.split} images: the model's {model.likelihood_kind} "
                 "negative log-likelihood")
    result = None
    for record in score_nll(model, images, labels):
        if isinstance(record, LikelihoodProgress):
            line.update(record.fraction, f"{record.done:,}/{record.total:,} images, NLL {record.nll[0]:.2f} "
                        f"({record.seconds:.0f} s)")
        else:
            result = record
    line.close()
    return print_result(result, format_scored, args.json)
