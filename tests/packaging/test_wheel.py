"""A regular install carries the app's resources: build the wheel, install it into a fresh venv,
then train and evaluate on the embedded Fashion-MNIST from site-packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SHARE = "genai_lab-0.1.0.data/data/share/genai-lab/resources/"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.skipif(os.name != "posix", reason="venv layout of POSIX")]


def _run(*args, cwd, env=None):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_installs_resources_and_trains_and_evaluates_from_them(tmp_path):
    # Build from a copy: an in-tree build would write build/ into the shared working tree.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "screenshots")
    for name in ("genai_engine", "desktop", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(tmp_path / "dist"), str(src), cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("genai_lab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                    "datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", "datasets/fashion-mnist/LICENSE",
                    "models/demo_vae.pt", "models/domain_fashion_mnist.pt", "icons/genai-lab-256.png"):
        assert SHARE + shipped in names

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp_path)
    python = str(venv / "bin" / "python")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index",
         str(wheel), cwd=tmp_path)
    # torch and the other dependencies come from this environment (a plain path, so its
    # editable genai-lab finder stays off and genai_engine comes from the wheel).
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                   cwd=tmp_path).strip()
    (Path(purelib) / "deps.pth").write_text(str(Path(torch.__file__).parents[1]) + "\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GENAI_LAB_HOME": str(tmp_path / "home")}
    env.pop("GENAI_LAB_RESOURCES", None)
    where = _run(python, "-c", "import genai_engine, genai_engine.resources as r;"
                 "print(genai_engine.__file__); print(r.resources_dir()); print(r.demo_checkpoint_path())",
                 cwd=tmp_path, env=env).split()
    assert all(line.startswith(str(venv)) for line in where), where
    assert Path(where[2]).is_file()

    summary = json.loads(_run(
        python, "-m", "genai_engine", "train", "--dataset", "fashion-mnist", "--epochs", "1",
        "--hidden", "16", "--latent-dim", "2", "--batch-size", "1000", "--device", "cpu",
        "--out", str(tmp_path / "run"), "--json", cwd=tmp_path, env=env).strip().splitlines()[-1])
    assert summary["epochs"] == 1
    fid = json.loads(_run(
        python, "-m", "genai_engine", "fid", "--checkpoint", summary["checkpoint"], "--features",
        "domain", "--n", "200", "--json", cwd=tmp_path, env=env).strip().splitlines()[-1])
    assert fid["fid"] > 0 and fid["n_real"] == 10_000
