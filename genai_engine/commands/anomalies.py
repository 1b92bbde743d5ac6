"""``genai-lab anomalies``: the model as an anomaly detector (``analysis.anomaly``).

Scores the first ``--n`` images of a split (reconstruction error or negative ELBO, nats: high
means the model explains the image badly) and prints the scores per class and the most and
least typical images; with ``--against`` it also scores a second set (a transformed copy of
the images, or images from a file or folder) and says how well the scores separate the two
(ROC AUC). Needs a VAE (its encoder and likelihood). Progress goes to stderr;
the table to stdout. With ``--json`` stdout holds one JSON object and nothing else, the table
going to stderr (``method``, ``n``, ``mean``, ``median``, ``per_class``, ``most_typical``,
``least_typical``, and ``against`` with its ``auc``). Never imports Qt.
"""

from __future__ import annotations

import sys

import numpy as np

from genai_engine.commands.output import UsageError, add_output_arguments, print_result


def register(subparsers) -> None:
    from genai_engine.analysis.anomaly import OUTLIER_KINDS, SCORE_METHODS

    p = subparsers.add_parser(
        "anomalies",
        help="score images by how badly the model explains them; separate a second set (ROC AUC)",
        description="Anomaly scores from a model with an encoder and a likelihood (the VAE): "
        "per class, the most and least typical images, and how well the scores tell a second "
        "set from the first. Beware: likelihood models can find simpler foreign images MORE "
        "typical (an AUC below 0.5).",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="the model to score with")
    p.add_argument("--dataset", default=None, metavar="DATASET|PATH",
                   help="images to score (default: the checkpoint's dataset)")
    p.add_argument("--split", choices=("test", "train"), default="test", help="which split to score")
    p.add_argument("--n", type=int, default=1000, help="number of images (the first N)")
    p.add_argument("--score", choices=tuple(SCORE_METHODS), default="recon",
                   help="; ".join(f"{k}: {v}" for k, v in SCORE_METHODS.items()))
    p.add_argument("--against", default=None, metavar="KIND|PATH",
                   help=f"a second set to separate from the first: {', '.join(OUTLIER_KINDS)} (a "
                   "transformed copy of the scored images) or an image folder or file (default: none)")
    p.add_argument("--top", type=int, default=5, help="most and least typical images to list")
    p.add_argument("--seed", type=int, default=0, help="seed of the ELBO's posterior samples")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps or cuda:N")
    add_output_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from genai_engine.analysis.anomaly import AnomalyScores, ScoreProgress, can_score, score_images
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.commands.likelihood import dataset_for
    from genai_engine.commands.progress import ProgressLine
    from genai_engine.devices import resolve_device
    from genai_engine.errors import GenAIError

    if args.n < 1 or args.top < 0:
        raise UsageError("--n must be at least 1 and --top at least 0")
    checkpoint = load_checkpoint(args.checkpoint)
    model = checkpoint.snapshot(str(resolve_device(args.device)))
    if not can_score(model):
        raise GenAIError(f"{args.checkpoint}: anomaly scores rebuild each image from its VAE code and "
                         f"weigh it with the VAE's likelihood, so they need a VAE, not a "
                         f"{checkpoint.family} model")
    dataset = dataset_for(checkpoint, args.dataset)
    part = dataset.split(args.split)
    images = part.images[:args.n]
    labels = None if part.labels is None else part.labels[:args.n]
    line = ProgressLine(sys.stderr, quiet=args.quiet)

    def scores_of(what: str, images, labels) -> AnomalyScores | None:
        line.message(f"scoring {len(images):,} {what} ({args.score})")
        result = None
        for record in score_images(model, images, labels, args.score, seed=args.seed):
            if isinstance(record, AnomalyScores):
                result = record
            elif isinstance(record, ScoreProgress):
                line.update(record.fraction, f"{record.done:,}/{record.total:,} images "
                            f"({record.seconds:.0f} s)")
        line.close()
        return result

    base = scores_of(f"{args.split} images of {dataset.name}", images, labels)
    if base is None:
        return print_result(None, format_summary, args.json)
    summary = summarise(base, labels, dataset.class_names, args.top)
    summary.update(dataset=dataset.name, split=args.split)
    if args.against:
        name, foreign_images = _second_set(args.against, images, args.seed)
        foreign = scores_of(name, foreign_images, None)
        if foreign is None:
            return print_result(None, format_summary, args.json)
        summary["against"] = compare(name, base.scores, foreign.scores)
    return print_result(summary, format_summary, args.json)


def _second_set(spec: str, images: np.ndarray, seed: int) -> tuple[str, np.ndarray]:
    """The images to separate from ``images``: a transformed copy, or as many read from ``spec``."""
    from genai_engine.analysis.anomaly import OUTLIER_KINDS, synthetic_outliers
    from genai_engine.data import read_image_set

    if spec in OUTLIER_KINDS:
        return OUTLIER_KINDS[spec], synthetic_outliers(images, spec, seed)
    h, w = images.shape[1:3]
    return spec, read_image_set(spec, image_size=h if h == w else None).images[:len(images)]


def _stats(scores: np.ndarray) -> dict:
    finite = scores[np.isfinite(scores)]
    return {"n": len(finite), "mean": float(finite.mean()) if len(finite) else None,
            "median": float(np.median(finite)) if len(finite) else None}


def summarise(scored, labels, class_names, top: int) -> dict:
    """The plain-data summary of ``AnomalyScores`` (the ``--json`` object, less ``against``)."""
    from genai_engine.analysis.anomaly import SCORE_METHODS, typical

    scores = scored.scores
    names = list(class_names or [])

    def class_of(index: int) -> str | None:
        if labels is None:
            return None
        label = int(labels[index])
        return names[label] if label < len(names) else str(label)

    per_class = {}
    if labels is not None:
        for label in np.unique(labels):
            per_class[class_of(int(np.flatnonzero(labels == label)[0]))] = _stats(scores[labels == label])
    def listed(picks) -> list[dict]:
        return [{"index": int(i), "score": float(scores[i]), "class": class_of(int(i))} for i in picks]

    most, least = typical(scores, top)
    return {"method": scored.method, "method_label": SCORE_METHODS[scored.method], **_stats(scores),
            "per_class": per_class, "most_typical": listed(most), "least_typical": listed(least),
            "against": None, "seconds": scored.seconds}


def compare(name: str, normal: np.ndarray, foreign: np.ndarray) -> dict:
    from genai_engine.analysis.anomaly import roc_auc, separation

    auc = roc_auc(normal, foreign)
    return {"name": name, **_stats(foreign), "auc": auc, "separation": separation(auc)}


def format_summary(data: dict) -> str:
    lines = [f"{data['method_label']} of {data['n']:,} {data['split']} images of {data['dataset']}: "
             f"mean {data['mean']:.2f}, median {data['median']:.2f}"]
    if data["per_class"]:
        lines.append(f"{'class':<16}  {'n':>6}  {'mean':>9}  {'median':>9}")
        for name, s in sorted(data["per_class"].items(), key=lambda item: -(item[1]["mean"] or 0)):
            lines.append(f"{name[:16]:<16}  {s['n']:>6,}  {s['mean']:>9.2f}  {s['median']:>9.2f}")
    for title, key in (("most typical (lowest)", "most_typical"),
                       ("least typical (highest)", "least_typical")):
        picks = [f"#{p['index']}" + (f" ({p['class']})" if p["class"] else "") + f" {p['score']:.1f}"
                 for p in data[key]]
        if picks:
            lines.append(f"{title}: {', '.join(picks)}")
    against = data["against"]
    if against:
        lines.append(f"against {against['name']} ({against['n']:,} images, mean {against['mean']:.2f}): "
                     f"ROC AUC {against['auc']:.3f}, {against['separation']}")
    lines.append(f"(scored in {data['seconds']:.1f} s)")
    return "\n".join(lines)
