"""The Evaluate tab's work: one request, captured on the GUI thread when Evaluate is pressed,
in; ``genai_engine.metrics.evaluate``'s records out on the worker pool; and how its progress,
results and the Inception weights' state read in the tab."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from desktop.widgets.evaluation_history import HistoryRow
from genai_engine.checkpoints import Checkpoint
from genai_engine.data import Dataset
from genai_engine.errors import WeightsError
from genai_engine.families.base import GenerativeModel
from genai_engine.metrics.evaluate import EvalProgress, EvalResult, evaluate
from genai_engine.metrics.features.domain import DEFAULT_LAYERS
from genai_engine.metrics.features.inception import FEATURE_DIM as INCEPTION_DIM
from genai_engine.metrics.features.inception import find_inception_weights
from genai_engine.tasks import TaskControl


@dataclass
class EvaluationRequest:
    """Everything a run needs, captured in the GUI thread when Evaluate is pressed."""

    real_dataset: Dataset | None  # the open dataset (its ``real_split``) ...
    real_split: str | None
    real_path: str | None  # ... or a built-in name / folder / file
    model: GenerativeModel | None  # the open model's weight snapshot (any family) ...
    checkpoint: Checkpoint | None  # ... and its checkpoint when the snapshot is the saved one
    fake_path: str | None  # ... or a folder / file of generated images
    n: int
    seed: int
    features: str
    kid: bool
    precision_recall: bool
    interval: bool
    inception_weights: str | None
    domain_weights: str | None
    device: str
    model_name: str
    epoch: int | None

    @property
    def real_text(self) -> str:
        if self.real_path is not None:
            return self.real_path
        return f"{self.real_dataset.name} ({self.real_split})"

    @property
    def fake_text(self) -> str:
        if self.fake_path is not None:
            return self.fake_path
        return f"model samples (seed {self.seed})"


def custom_sampling(model) -> bool:
    """Whether the model samples with settings other than its family's defaults."""
    settings = model.sampling_fields()
    return settings is not None and settings != type(settings)()


def feature_dim(features: str) -> int:
    return INCEPTION_DIM if features == "inception" else DEFAULT_LAYERS[-1][0]


def run_evaluation(request: EvaluationRequest, control: TaskControl) -> Iterator:
    """The engine generator for a request (runs on the worker pool)."""
    real = request.real_path if request.real_path is not None else request.real_dataset
    if request.fake_path is not None:
        fake = request.fake_path
    elif request.checkpoint is not None:  # the saved model: evaluate() samples it on the device
        fake = request.checkpoint
    else:  # weights not saved yet (e.g. mid-training): sample the snapshot itself
        fake = request.model
    return evaluate(real, fake, n=request.n, features=request.features,
                    real_split=request.real_split or "test", kid=request.kid,
                    precision_recall_k=3 if request.precision_recall else None,
                    bootstrap=None if request.interval else 0,
                    inception_weights=request.inception_weights,
                    domain_weights=request.domain_weights, device=request.device,
                    seed=request.seed, control=control)


# Share of the progress bar each stage fills (real features are often a cache hit).
STAGE_SPANS = {"loading": (0.0, 0.03), "real features": (0.03, 0.4),
               "generated features": (0.4, 0.9), "metrics": (0.9, 1.0)}


def describe_progress(record) -> tuple[float | None, str] | None:
    if not isinstance(record, EvalProgress) or record.stage not in STAGE_SPANS:
        return None
    low, high = STAGE_SPANS[record.stage]
    text = record.message or record.stage
    return low + (high - low) * min(1.0, record.fraction), f"{text[:1].upper()}{text[1:]}"


def history_row(result: EvalResult, request: EvaluationRequest, when: str) -> HistoryRow:
    def num(value) -> float:
        return math.nan if value is None else float(value)

    low, high = result.fid_ci or (None, None)
    return HistoryRow(
        when=when, model=request.model_name if request.fake_path is None else "—",
        epoch=request.epoch if request.fake_path is None else None,
        real=request.real_text, fake=request.fake_text, features=result.features,
        features_label=result.feature_label, n_real=result.n_real, n_fake=result.n_fake,
        fid=float(result.fid), fid_low=num(low), fid_high=num(high),
        kid_mean=num(result.kid_mean), kid_std=num(result.kid_std),
        inception_score=num(result.inception_score), precision=num(result.precision),
        recall=num(result.recall), seconds=float(result.seconds),
        warnings=" ".join(_sentence(w) for w in result.warnings))


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def inception_weights_problem(explicit: str | None = None) -> str | None:
    """None when usable Inception weights are found; otherwise the engine's explanation."""
    try:
        find_inception_weights(explicit)
    except WeightsError as error:
        return str(error)
    return None


def is_missing_inception(message: str) -> bool:
    return "weights install" in message
