"""``genai-lab --self-test`` from source, in a subprocess, as CI and lab machines run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["resources", "window", "train", "slider", "fid", "close"]


def run_self_test(tmp_path: Path, *extra: str, env: dict | None = None, timeout: float = 280):
    report = tmp_path / "report.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GENAI_LAB_HOME=str(tmp_path / "home"),
               **(env or {}))
    env.pop("GENAI_LAB_SETTINGS", None)  # the self-test makes its own
    proc = subprocess.run(
        [sys.executable, "-m", "desktop", "--self-test", "--self-test-report", str(report),
         *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert report.exists(), f"no report; exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc, json.loads(report.read_text())


def _shipped_missing() -> list[str]:
    models = ROOT / "resources" / "models"
    missing = [] if (models / "demo_vae.pt").is_file() else ["demo_vae.pt"]
    if not list(models.glob("domain_*.pt")):
        missing.append("domain_*.pt")
    return missing


@pytest.mark.timeout(300)
@pytest.mark.skipif(bool(_shipped_missing()),
                    reason=f"resources/models lacks {_shipped_missing()} (not landed yet)")
def test_self_test_passes_from_source(tmp_path):
    proc, report = run_self_test(tmp_path)
    assert proc.returncode == 0, f"{report['reason']}\n{proc.stdout}\n{proc.stderr}"
    assert report["ok"] and report["exit_code"] == 0 and report["reason"] is None
    assert [s["name"] for s in report["stages"]] == STAGES
    assert all(s["ok"] for s in report["stages"])
    details = {s["name"]: s.get("details", {}) for s in report["stages"]}
    assert details["window"]["tabs"][:4] == ["Train", "Explore", "Interpolate", "Evaluate"]
    assert details["train"]["steps"] >= 20 and Path(details["train"]["checkpoint"]).name
    assert details["slider"]["moves"][-1]["pixels_changed"] > 0
    assert details["fid"]["features"] == "domain" and details["fid"]["n_fake"] == 300
    assert details["fid"]["fid"] > 0
    assert not report["frozen"]
    # its runs and settings lived in a temporary home that is gone now
    assert not Path(report["temp_home"]).exists()
    assert not (tmp_path / "home" / "runs").exists()


@pytest.mark.timeout(120)
def test_self_test_fails_with_the_reason_when_shipped_files_are_missing(tmp_path):
    empty = tmp_path / "no-resources"
    empty.mkdir()
    proc, report = run_self_test(tmp_path, env={"GENAI_LAB_RESOURCES": str(empty)}, timeout=110)
    assert proc.returncode == 1
    assert not report["ok"] and report["exit_code"] == 1
    assert report["reason"].startswith("resources: missing shipped files")
    assert "demo_vae.pt" in report["reason"] and "fashion-mnist" in report["reason"]
    assert [s["name"] for s in report["stages"]] == ["resources"]
    assert "FAILED" in proc.stdout


@pytest.mark.timeout(120)
def test_self_test_watchdog_ends_a_run_that_overruns(tmp_path):
    proc, report = run_self_test(tmp_path, "--self-test-timeout", "0.5", timeout=110)
    assert proc.returncode == 3
    assert report["exit_code"] == 3 and not report["ok"]
    assert report["reason"].startswith("timed out after 0.5 s during stage")
