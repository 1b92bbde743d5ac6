"""Where the app's runs go: a new folder per run under the user's data folder (the CLI's go
under ``./runs``, ``genai_engine.run_record``)."""

from __future__ import annotations

from pathlib import Path

from genai_engine import run_record
from genai_engine.resources import user_data_dir


def new_run_dir(dataset_name: str) -> Path:
    """A new, empty run folder named after the time and ``dataset_name``."""
    return run_record.new_run_dir(dataset_name, user_data_dir() / "runs")
