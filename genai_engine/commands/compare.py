"""``genai-lab compare CKPT [CKPT ...]``: up to four models of any families, measured alike.

Progress goes to stderr; the table and the measured decision guide to stdout. With ``--json``
stdout holds one JSON object and nothing else, the table going to stderr
(``ComparisonResult.to_dict()``: ``rows`` with one object per model, ``n``, ``seed``,
``features``, ``feature_label``, ``dataset``, ``memorisation_baseline``, ``seconds``,
``timings``, and ``guide``). Never imports Qt.
"""

from __future__ import annotations

import sys

from genai_engine.commands.output import UsageError, add_output_arguments, print_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare up to four models of any families on the same data",
        description="Measure each model with the same real statistics (test split), the same "
        "number of samples and the same seed: FID/KID/precision/recall/IS, likelihood where it "
        "has one, sampling time, training time, parameters and the nearest training images; "
        "then the course's decision guide checked against the numbers.",
    )
    p.add_argument("checkpoints", nargs="+", metavar="CKPT", help="1 to 4 checkpoints")
    p.add_argument("--dataset", default=None, metavar="DATASET|PATH",
                   help="the data they were trained on (default: the one the checkpoints record)")
    p.add_argument("--n", type=int, default=1000, help="samples per model")
    p.add_argument("--seed", type=int, default=0, help="seed of every model's samples")
    p.add_argument("--features", choices=("domain", "inception"), default="domain",
                   help="feature network of the table's FID")
    p.add_argument("--no-inception", action="store_true",
                   help="skip the extra Inception FID (slow on a CPU) even when its weights are installed")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps or cuda:N")
    p.add_argument("--out", metavar="REPORT.html", default=None, help="also write the comparison as HTML")
    p.add_argument("--csv", metavar="FILE.csv", default=None, help="also write the table as CSV")
    add_output_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from genai_engine.analysis.compare import ComparisonResult, compare, format_comparison
    from genai_engine.analysis.decision_guide import decision_guide
    from genai_engine.commands.progress import ProgressLine

    if len(args.checkpoints) > 4:
        raise UsageError(f"compare at most 4 checkpoints, got {len(args.checkpoints)}")
    dataset = None
    if args.dataset:
        from genai_engine.data import load_dataset

        dataset = load_dataset(args.dataset)
    line = ProgressLine(sys.stderr, quiet=args.quiet)
    stage = None
    result = None
    for record in compare(args.checkpoints, dataset, n=args.n, seed=args.seed, features=args.features,
                          device=args.device, inception=not args.no_inception):
        if isinstance(record, ComparisonResult):
            result = record
        elif (record.stage, getattr(record, "model", "")) != stage:
            stage = (record.stage, getattr(record, "model", ""))
            line.message(f"{record.message} ({record.seconds:.0f} s)")
        else:
            line.update(record.fraction, f"{record.message} ({record.seconds:.0f} s)")
    line.close()
    if result is None:
        print("cancelled", file=sys.stderr)
        return 130
    if args.out:
        from genai_engine.analysis.compare_report import write_comparison_html

        write_comparison_html(result, args.out)
    if args.csv:
        from genai_engine.analysis.compare_report import write_comparison_csv

        write_comparison_csv(result, args.csv)
    print(format_comparison(result), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        out = result.to_dict()
        out["guide"] = [{"topic": g.topic, "measured": g.measured, "claim": g.claim, "agrees": g.agrees}
                        for g in decision_guide(out["rows"])]
        print_json(out)
    return 0
