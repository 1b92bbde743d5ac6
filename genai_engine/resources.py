"""Where shipped files live: the source tree, an installed package, or a PyInstaller bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder (``GENAI_LAB_RESOURCES`` overrides, for tests and bundles)."""
    override = os.environ.get("GENAI_LAB_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)  # set inside a PyInstaller bundle
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def user_data_dir() -> Path:
    """A writable per-user folder for caches, downloaded-by-hand weights and logs."""
    override = os.environ.get("GENAI_LAB_HOME")
    if override:
        path = Path(override)
    elif sys.platform == "win32":
        path = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "GenAILab"
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Application Support" / "GenAILab"
    else:
        path = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "genai-lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def demo_checkpoint_path() -> Path:
    return resources_dir() / "models" / "demo_vae.pt"
