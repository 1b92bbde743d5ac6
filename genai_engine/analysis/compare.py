"""Compare up to four models of any families on the same data, measured the same way.

``compare(checkpoints, dataset, n=, seed=)`` is a generator: ``CompareProgress`` records, then
one ``ComparisonResult`` (plain values; ``to_dict`` for JSON). Every model is measured against
the same real statistics (the test split), with the same number of samples and the same seed:

* its samples are drawn once (``sampling.sample_model``: latent families decode the same z),
  timed, and reused for every measure below, so the sampling time is the real cost of them;
* FID, KID, precision/recall and IS with the chosen feature network (``metrics.evaluate``),
  plus Inception FID when the main network is the domain one and Inception's weights are
  installed;
* bits/dim on test images where the snapshot is a ``DensityModel`` (a bound or exact), else a
  sentence saying why there is none;
* the memorisation check in pixel space: the median distance of samples to their nearest
  training image, beside that of real held-out test images.

Training time and parameter count come from the checkpoints. Checkpoints trained on different
data are refused before anything runs.
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from genai_engine.errors import GenAIError, WeightsError
from genai_engine.tasks import StageProgress, TaskControl

MAX_MODELS = 4
GRID_COUNT = 16  # samples per model shown side by side (the first of the shared seeds)
MEMORISATION_SAMPLES = 1000  # samples searched against the training set, at most
BASELINE_IMAGES = 300  # held-out test images that say what "close" means
LIKELIHOOD_IMAGES = 1000  # test images scored for bits/dim, at most
NETWORK_NAMES = {"domain": "domain CNN", "inception": "Inception-V3"}
STAGES = ("sampling", "metrics", "inception", "likelihood", "memorisation")


class CompareProgress(StageProgress):
    """``stage`` is ``loading`` or one of ``STAGES``; ``done``/``total`` count stages of all
    models; ``model`` is the row's label."""

    model: str = ""


@dataclass
class ModelRow:
    """One model's measures. A measure that does not apply is None with a ``*_note`` saying why."""

    label: str  # "vae", or "vae (run-2)" when two models share a family
    path: str
    family: str
    title: str
    description: str
    parameters: int
    epochs: int
    train_seconds: float | None  # optimisation time recorded by the trainer, all runs
    sampling: dict  # the sampling settings used (sampler, steps, temperature...): {} if none
    seconds_per_image: float
    fid: float
    kid: float | None
    kid_std: float | None
    precision: float | None
    recall: float | None
    inception_score: float | None
    inception_fid: float | None
    inception_note: str  # why there is no Inception FID ("" when there is one)
    bits_per_dim: float | None
    likelihood_kind: str | None  # "bound" or "exact"
    likelihood_note: str  # why there is no likelihood, or what the number is
    memorisation_median: float  # median pixel distance (values in [0, 1]) to the nearest training image
    capabilities: dict
    grid: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 1, 1, 1), np.uint8))
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("grid")
        return out


@dataclass
class ComparisonResult:
    dataset: dict  # name, fingerprint
    n: int
    seed: int
    features: str
    feature_label: str  # the network every FID/KID/PR/IS of the table was computed with
    memorisation_baseline: float  # median pixel distance of held-out test images to the training set
    rows: list[ModelRow]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, all models

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "rows"}
        out["rows"] = [row.to_dict() for row in self.rows]
        return out

    def to_csv(self) -> str:
        """One line per model, the settings that produced it repeated on each line."""
        settings = {"dataset": self.dataset.get("name", ""), "n": self.n, "seed": self.seed,
                    "features": self.feature_label}
        rows = [{**settings, **{k: _csv_value(v) for k, v in row.to_dict().items()}} for row in self.rows]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else list(settings))
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()


def _csv_value(value):
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(map(str, value))
    return value


# --- the data check ----------------------------------------------------------------------

def load_models(checkpoints: Sequence) -> list:
    """Paths or ``Checkpoint``s -> ``Checkpoint``s (1 to ``MAX_MODELS``)."""
    from genai_engine.checkpoints import load_checkpoint

    if not 1 <= len(checkpoints) <= MAX_MODELS:
        raise GenAIError(f"compare 1 to {MAX_MODELS} checkpoints, got {len(checkpoints)}")
    return [c if hasattr(c, "model_config") else load_checkpoint(c) for c in checkpoints]


def _name(checkpoint) -> str:
    return str(checkpoint.path) if checkpoint.path else f"the open {checkpoint.family} model"


def check_same_data(checkpoints: Sequence, dataset=None) -> None:
    """Raise a one-sentence ``GenAIError`` unless every checkpoint was trained on the same data
    (and on ``dataset`` when given), by the dataset fingerprint each records."""
    known = [(c, c.dataset.get("fingerprint")) for c in checkpoints if c.dataset.get("fingerprint")]
    if known:
        first, expected = known[0]
        for other, fingerprint in known[1:]:
            if fingerprint != expected:
                raise GenAIError(
                    f"{_name(other)} was trained on {other.dataset.get('name')!r} ({fingerprint}) but "
                    f"{_name(first)} on {first.dataset.get('name')!r} ({expected}); compare models "
                    "trained on the same dataset")
        if dataset is not None and dataset.fingerprint != expected:
            raise GenAIError(
                f"the models were trained on {first.dataset.get('name')!r} ({expected}), not on the "
                f"dataset given, {dataset.name!r} ({dataset.fingerprint}); open the dataset they "
                "were trained on")
    elif dataset is None:
        raise GenAIError("the checkpoints do not record the dataset they were trained on; "
                         "give the dataset to compare them on")


def labels_for(checkpoints: Sequence) -> list[str]:
    """The family name, made unique with the run folder (or position) where families repeat."""
    families = [c.family for c in checkpoints]
    labels = []
    for i, c in enumerate(checkpoints):
        if families.count(c.family) == 1:
            labels.append(c.family)
        else:
            where = Path(c.path).parent.name if c.path else ""
            labels.append(f"{c.family} ({where or i + 1})")
    return labels if len(set(labels)) == len(labels) else [f"{lb} #{i + 1}" for i, lb in enumerate(labels)]


# --- the generator -----------------------------------------------------------------------

def inception_available() -> str:
    """"" when Inception's FID weights are installed, else the sentence saying how to get them."""
    from genai_engine.metrics.features.inception import find_inception_weights

    try:
        find_inception_weights()
    except WeightsError as error:
        return str(error)
    return ""


def compare(checkpoints: Sequence, dataset=None, *, n: int = 1000, seed: int = 0,
            features: str = "domain", device: str = "auto", control: TaskControl | None = None,
            inception: bool = True, cache_dir: str | os.PathLike | None = None,
            ) -> Iterator[CompareProgress | ComparisonResult]:
    """Measure each checkpoint (a path or a ``Checkpoint``) on ``dataset`` (default: the one
    they were trained on); see the module docstring. ``inception=False`` skips the extra
    Inception FID (slow on a CPU). A cancelled ``control`` ends the generator without a result."""
    from genai_engine.analysis.memorisation import nearest_neighbours
    from genai_engine.devices import resolve_device
    from genai_engine.families import get_family
    from genai_engine.families.base import DensityModel, bits_per_dim, capabilities
    from genai_engine.metrics.evaluate import EvalProgress, evaluate, run_to_result
    from genai_engine.sampling import sample_model

    control = control or TaskControl()
    began = time.perf_counter()
    if n < 2:
        raise GenAIError(f"compare at least 2 samples per model, got {n}")
    models = load_models(checkpoints)
    check_same_data(models, dataset)
    if dataset is None:
        from genai_engine.commands.likelihood import dataset_for

        dataset = dataset_for(models[0], None)
        check_same_data(models, dataset)
    device = str(resolve_device(device))
    labels = labels_for(models)
    extra_inception = inception and features == "domain"
    inception_note = inception_available() if extra_inception else (
        "the table's FID is Inception's" if features == "inception" else "skipped (slow on a CPU)")
    total = len(models) * len(STAGES)
    timings = dict.fromkeys(STAGES, 0.0)
    train, test = dataset.train.images, dataset.test.images

    def progress(index: int, stage: str, message: str, fraction: float = 0.0) -> CompareProgress:
        done = index * len(STAGES) + STAGES.index(stage)
        record = CompareProgress(stage, done, total, time.perf_counter() - began,
                                 f"{labels[index]}: {message}")
        record.model = labels[index]
        record.done = min(total, done + fraction) if fraction else done
        return record

    def measured(stage: str, tick: float) -> None:
        timings[stage] += time.perf_counter() - tick

    yield CompareProgress("loading", 0, total, 0.0, f"measuring {len(models)} models on {dataset.name}")
    tick = time.perf_counter()
    _, base_d = nearest_neighbours(test[:BASELINE_IMAGES], train, k=1)
    baseline = float(np.median(base_d[:, 0]))
    measured("memorisation", tick)

    rows: list[ModelRow] = []
    feature_label = features
    for i, checkpoint in enumerate(models):
        family = get_family(checkpoint.family)
        model = checkpoint.snapshot(device)
        settings = getattr(model, "sampling", None)
        notes: list[str] = []

        if not control.checkpoint():
            return
        yield progress(i, "sampling", f"drawing {n:,} samples")
        tick = time.perf_counter()
        samples = sample_model(model, n, seed)
        sample_seconds = time.perf_counter() - tick
        measured("sampling", tick)

        yield progress(i, "metrics", f"FID and the rest ({features} network)")
        tick = time.perf_counter()
        result = None
        for record in evaluate(dataset, samples, n=n, features=features, device=device, seed=seed,
                               bootstrap=0, control=control,
                               cache_dir=cache_dir):
            if isinstance(record, EvalProgress) and record.total:
                yield progress(i, "metrics", record.message, 0.99 * record.fraction)
            elif not isinstance(record, EvalProgress):
                result = record
        if result is None:
            return
        feature_label = result.feature_label
        notes += result.warnings
        measured("metrics", tick)

        inception_fid, row_inception_note = None, inception_note
        if extra_inception and not inception_note:
            yield progress(i, "inception", "Inception FID")
            tick = time.perf_counter()
            extra = run_to_result(evaluate(dataset, samples, n=n, features="inception", device=device,
                                           seed=seed, kid=False, precision_recall_k=None,
                                           inception_score_splits=None, bootstrap=0, control=control,
                                           cache_dir=cache_dir))
            if extra is None:
                return
            inception_fid = float(extra.fid)
            measured("inception", tick)

        bpd, kind, likelihood_note = None, None, _no_likelihood(family.title)
        if isinstance(model, DensityModel):
            yield progress(i, "likelihood", "bits/dim on test images")
            tick = time.perf_counter()
            scored = test[:LIKELIHOOD_IMAGES]
            test_labels = dataset.test.labels
            y = None if not model.conditional or test_labels is None else test_labels[:LIKELIHOOD_IMAGES]
            bpd = float(bits_per_dim(float(np.mean(model.nll(scored, y))), dataset.image_shape))
            kind = model.likelihood_kind
            likelihood_note = (f"{'an upper bound on' if kind == 'bound' else 'exact'} -log p(x) of "
                               f"{len(scored):,} test images, bits per pixel-channel")
            measured("likelihood", tick)

        if not control.checkpoint():
            return
        yield progress(i, "memorisation", "nearest training images")
        tick = time.perf_counter()
        _, distances = nearest_neighbours(samples[:MEMORISATION_SAMPLES], train, k=1)
        measured("memorisation", tick)

        train_seconds = checkpoint.raw.get("train_seconds")
        if checkpoint.epoch == 0:
            notes.append("no epoch finished: the weights are those of a run stopped in its first epoch")
        rows.append(ModelRow(
            label=labels[i], path=str(checkpoint.path or ""), family=checkpoint.family, title=family.title,
            description=family.describe(checkpoint.model_config),
            parameters=int(getattr(model, "parameter_count", 0)), epochs=int(checkpoint.epoch),
            train_seconds=None if train_seconds is None else float(train_seconds),
            sampling=asdict(settings) if settings is not None else {},
            seconds_per_image=sample_seconds / n, fid=float(result.fid), kid=result.kid_mean,
            kid_std=result.kid_std, precision=result.precision, recall=result.recall,
            inception_score=result.inception_score, inception_fid=inception_fid,
            inception_note="" if inception_fid is not None else row_inception_note,
            bits_per_dim=bpd, likelihood_kind=kind, likelihood_note=likelihood_note,
            memorisation_median=float(np.median(distances[:, 0])), capabilities=capabilities(model),
            grid=samples[:GRID_COUNT].copy(), notes=notes))

    yield ComparisonResult(
        dataset={"name": dataset.name, "fingerprint": dataset.fingerprint}, n=int(n), seed=int(seed),
        features=features, feature_label=feature_label, memorisation_baseline=baseline, rows=rows,
        seconds=time.perf_counter() - began, timings=timings)


def _no_likelihood(title: str) -> str:
    article = "an" if title[:1].lower() in "aeiou" else "a"
    return f"{article} {title[:1].lower()}{title[1:]} defines no likelihood"


def format_number(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "none"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "none: not recorded (trained before GenAI Lab kept it)"
    return f"{value:,.0f} s" if value >= 10 else f"{value:.1f} s"


def _sampling_text(settings: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in settings.items()) or "one network pass (no settings)"


def table(result: ComparisonResult) -> list[tuple[str, list[str]]]:
    """The comparison as (measure, one cell per model) rows for people: the CLI, the app and
    the HTML page all show these. The feature network is named beside every FID."""
    net = NETWORK_NAMES.get(result.features, result.features)  # in full: ``feature_label``
    rows = result.rows

    def line(name: str, cell) -> tuple[str, list[str]]:
        return name, [cell(r) for r in rows]

    return [
        line("family", lambda r: r.title),
        line("model", lambda r: r.description),
        line("parameters", lambda r: f"{r.parameters:,}"),
        line("epochs", lambda r: f"{r.epochs}"),
        line("training time", lambda r: _seconds(r.train_seconds)),
        line("sampling settings", lambda r: _sampling_text(r.sampling)),
        line("sampling time", lambda r: f"{r.seconds_per_image * 1000:.3g} ms per image"),
        line(f"FID ({net})", lambda r: format_number(r.fid)),
        line(f"KID ({net})", lambda r: "none" if r.kid is None else f"{r.kid:.4f} ± {r.kid_std or 0:.4f}"),
        line(f"precision ({net})", lambda r: format_number(r.precision)),
        line(f"recall ({net})", lambda r: format_number(r.recall)),
        line("IS (domain classifier)", lambda r: format_number(r.inception_score)),
        line("FID (Inception-V3)", lambda r: format_number(r.inception_fid) if r.inception_fid is not None
             else f"none: {r.inception_note}"),
        line("likelihood (bits/dim)", lambda r: f"{r.bits_per_dim:.4g} ({r.likelihood_kind})"
             if r.bits_per_dim is not None else f"none: {r.likelihood_note}"),
        line("nearest training image (median, pixels)",
             lambda r: f"{r.memorisation_median:.3g} (test {result.memorisation_baseline:.3g})"),
    ]


def format_comparison(result: ComparisonResult) -> str:
    """The table and the measured guide, as text for the terminal."""
    from genai_engine.analysis.decision_guide import decision_guide, format_guide

    header = ("", *[r.label for r in result.rows])
    body = [(name, *cells) for name, cells in table(result)]
    widths = [max(len(str(row[i])) for row in (header, *body)) for i in range(len(header))]
    text = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in (header, *body)]
    notes = [f"note ({r.label}): {note}" for r in result.rows for note in r.notes]
    guide = format_guide(decision_guide([r.to_dict() for r in result.rows]))
    return "\n".join([
        f"{result.dataset.get('name')}: {result.n:,} samples per model, seed {result.seed}, "
        f"test split as real data ({result.seconds:.1f} s)", f"features: {result.feature_label}",
        *text, *notes,
        "", "Decision guide, measured on this data:", guide])
