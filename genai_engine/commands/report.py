"""``genai-lab report``: export a run as one self-contained HTML file (no external links)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="export a checkpoint's run as a self-contained HTML report",
        description="Config, loss curves, KL per dimension, samples, reconstructions and an "
        "interpolation in one HTML file that opens offline (print it to PDF from a browser). "
        "Add metrics from `genai-lab fid --json` and likelihoods from `genai-lab likelihood "
        "--json` by saving their last line to a file.",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="the model to report on")
    p.add_argument("--out", required=True, metavar="FILE.html", help="the report file to write")
    p.add_argument("--dataset", default=None, metavar="DATASET|PATH",
                   help="for reconstructions and the interpolation (default: the checkpoint's "
                   "dataset; 'none' leaves them out)")
    p.add_argument("--metrics", action="append", default=[], metavar="JSON",
                   help="a file with `genai-lab fid --json` output (repeatable)")
    p.add_argument("--likelihood", default=None, metavar="JSON",
                   help="a file with `genai-lab likelihood --json` output")
    p.add_argument("--samples", type=int, default=64, help="prior samples in the grid")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample grid")
    p.add_argument("--title", default=None, help="the title at the top of the report")
    p.set_defaults(func=run)


def _read_json(path: str, what: str):
    from genai_engine.errors import GenAIError

    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise GenAIError(f"{path}: cannot read the {what} file ({error.strerror})") from None
    try:  # the file may hold a whole command output: the JSON is its last line
        return json.loads(text.splitlines()[-1] if text else "")
    except (ValueError, IndexError):
        raise GenAIError(f"{path}: the {what} file holds no JSON object") from None


def run(args) -> int:
    from genai_engine.analysis.likelihood import LikelihoodResult
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.commands.likelihood import dataset_for
    from genai_engine.commands.output import UsageError
    from genai_engine.errors import GenAIError
    from genai_engine.report import export_report

    if not 1 <= args.samples <= 1024:
        raise UsageError("--samples must be between 1 and 1024")
    if not args.out.lower().endswith((".html", ".htm")):
        raise UsageError(f"{args.out}: the report is an .html file")
    checkpoint = load_checkpoint(args.checkpoint)
    dataset = None
    if (args.dataset or "").lower() != "none":
        try:
            dataset = dataset_for(checkpoint, args.dataset)
        except GenAIError as error:
            if args.dataset:  # asked for by name: a typo should not pass silently
                raise
            print(f"note: {error}; the report leaves reconstructions out", file=sys.stderr)
    metrics = []
    for path in args.metrics:
        data = _read_json(path, "metrics")
        metrics.extend(data if isinstance(data, list) else [data])
    likelihood = None
    if args.likelihood:
        likelihood = LikelihoodResult.from_dict(_read_json(args.likelihood, "likelihood"))
    path = export_report(args.out, checkpoint, dataset, metrics=metrics or None,
                         likelihood=likelihood, n_samples=args.samples, seed=args.seed,
                         title=args.title)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0
