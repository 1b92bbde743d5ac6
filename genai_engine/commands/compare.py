"""``genai-lab compare CKPT [CKPT ...]``: up to four models of any families, measured alike.

Progress goes to stderr; the table and the measured decision guide to stdout, and with
``--json`` the last stdout line is one JSON object (``ComparisonResult.to_dict()``: ``rows``
with one object per model, ``n``, ``seed``, ``features``, ``feature_label``, ``dataset``,
``memorisation_baseline``, ``seconds``, ``timings``, and ``guide``). Never imports Qt.
"""

from __future__ import annotations

import json
import sys

from genai_engine.commands.output import json_ready


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
    p.add_argument("--n", type=int, default=1000, help="samples per model (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--features", choices=("domain", "inception"), default="domain",
                   help="feature network of the table's FID (default: domain)")
    p.add_argument("--no-inception", action="store_true",
                   help="skip the extra Inception FID (slow on a CPU) even when its weights are installed")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", metavar="REPORT.html", default=None, help="also write the comparison as HTML")
    p.add_argument("--csv", metavar="FILE.csv", default=None, help="also write the table as CSV")
    p.add_argument("--json", action="store_true", help="print the result as JSON on the last line")
    p.set_defaults(func=run)


def run(args) -> int:
    from genai_engine.analysis.compare import ComparisonResult, compare, format_comparison
    from genai_engine.analysis.decision_guide import decision_guide
    from genai_engine.commands.progress import ProgressLine
    from genai_engine.errors import GenAIError

    if len(args.checkpoints) > 4:
        raise GenAIError(f"compare at most 4 checkpoints, got {len(args.checkpoints)}")
    dataset = None
    if args.dataset:
        from genai_engine.data import load_dataset

        dataset = load_dataset(args.dataset)
    line = ProgressLine(sys.stderr)
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
    print(format_comparison(result))
    if args.json:
        out = result.to_dict()
        out["guide"] = [{"topic": g.topic, "measured": g.measured, "claim": g.claim, "agrees": g.agrees}
                        for g in decision_guide(out["rows"])]
        print(json.dumps(json_ready(out), sort_keys=True))
    return 0
