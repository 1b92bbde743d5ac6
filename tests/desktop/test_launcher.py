"""``genai-lab`` opens the app with no arguments and runs the headless CLI otherwise."""

import json

import desktop.app
from desktop import launcher


def test_no_arguments_or_gui_flags_open_the_app(monkeypatch):
    calls = []
    monkeypatch.setattr(desktop.app, "main", lambda argv: calls.append(argv) or 7)
    assert launcher.main([]) == 7
    assert launcher.main(["--gui"]) == 7
    assert launcher.main(["--self-test", "--keep"]) == 7
    assert calls == [[], [], ["--self-test", "--keep"]]


def test_a_command_runs_headless_without_the_app(monkeypatch, capsys):
    monkeypatch.setattr(desktop.app, "main", lambda argv: (_ for _ in ()).throw(AssertionError))
    assert launcher.main(["info", "--json"]) == 0
    assert "fashion-mnist" in json.loads(capsys.readouterr().out.strip().splitlines()[-1])["datasets"]
