"""The bundle's spec, run against stand-ins for PyInstaller's build steps (a build takes minutes):
one analysis, a windowed app and a console CLI executable sharing it, both in one folder."""

from __future__ import annotations

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Step:
    """Records how the spec called a PyInstaller build step."""

    calls: list[Step]

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs
        self.calls.append(self)


def run_spec(tmp_path, monkeypatch) -> dict[str, list[Step]]:
    steps = {}
    for name in ("Analysis", "PYZ", "EXE", "COLLECT"):
        steps[name] = type(name, (Step,), {"calls": []})
    # what the spec reads back from its analysis
    steps["Analysis"].datas, steps["Analysis"].binaries = [], []
    steps["Analysis"].pure, steps["Analysis"].scripts = [], ["the entry script"]
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package: [package]
    for name, module in (("PyInstaller", types.ModuleType("PyInstaller")),
                         ("PyInstaller.utils", types.ModuleType("PyInstaller.utils")),
                         ("PyInstaller.utils.hooks", hooks)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("GENAI_LAB_HOME", str(tmp_path / "home"))  # no Inception weights to hash
    monkeypatch.delenv("GENAI_LAB_INCEPTION_WEIGHTS", raising=False)
    spec = ROOT / "build_spec.spec"
    exec(compile(spec.read_text(), str(spec), "exec"),
         {"SPECPATH": str(ROOT), "workpath": str(tmp_path / "work"), "__name__": "__main__", **steps})
    return {name: step.calls for name, step in steps.items()}


def test_a_windowed_app_and_a_console_cli_share_one_analysis_and_folder(tmp_path, monkeypatch):
    calls = run_spec(tmp_path, monkeypatch)
    [analysis], [pyz], [collect] = calls["Analysis"], calls["PYZ"], calls["COLLECT"]
    exes = {exe.kwargs["name"]: exe for exe in calls["EXE"]}
    assert set(exes) == {"genai-lab", "genai-lab-cli"}
    assert exes["genai-lab"].kwargs["console"] is False  # the double-click app: no console window
    assert exes["genai-lab-cli"].kwargs["console"] is True  # Windows shows its output in a terminal
    for exe in exes.values():
        assert exe.args[0] is pyz and exe.args[1] is analysis.scripts
        assert exe.kwargs["exclude_binaries"] is True  # the libraries go to the folder, once
    assert collect.args[:2] == (exes["genai-lab"], exes["genai-lab-cli"])
    assert collect.args[2] is analysis.binaries and collect.args[3] is analysis.datas
    assert collect.kwargs["name"] == "genai-lab"
