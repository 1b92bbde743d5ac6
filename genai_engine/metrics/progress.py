"""The progress record every evaluation generator yields (``evaluate``, ``real_statistics``,
``timeline_fid``)."""

from __future__ import annotations

from genai_engine.tasks import StageProgress


class EvalProgress(StageProgress):
    """Where the evaluation is: ``stage`` is one of ``loading``, ``real features``,
    ``generated features``, ``metrics``, ``cancelled``; ``done``/``total`` count images (or
    metric steps)."""
