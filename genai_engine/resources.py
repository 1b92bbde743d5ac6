"""Where shipped files live: the source tree, an installed package, or a PyInstaller bundle."""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

from genai_engine.files import make_folder

INSTALLED_RESOURCES = Path("share") / "genai-lab" / "resources"  # pyproject's data-files


def resources_dir() -> Path:
    """The ``resources/`` folder (``GENAI_LAB_RESOURCES`` overrides, for tests and bundles)."""
    override = os.environ.get("GENAI_LAB_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)  # set inside a PyInstaller bundle
    if bundle:
        return Path(bundle) / "resources"
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "resources").is_dir():
        return checkout / "resources"  # a source tree or an editable install: its own files
    for scheme in dict.fromkeys((sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user"))):
        installed = Path(sysconfig.get_path("data", scheme)) / INSTALLED_RESOURCES
        if installed.is_dir():
            return installed
    return checkout / "resources"  # missing: errors name the place a checkout would use


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
    return make_folder(path)


def demo_checkpoint_path(family: str = "vae") -> Path:
    """The shipped demo model of ``family`` (trained on Fashion-MNIST; README says how)."""
    return resources_dir() / "models" / f"demo_{family}.pt"


def demo_checkpoints() -> dict[str, Path]:
    """Every family's shipped demo model that is present, in the registry's order."""
    from genai_engine.families import family_names

    paths = {name: demo_checkpoint_path(name) for name in family_names()}
    return {name: path for name, path in paths.items() if path.is_file()}
