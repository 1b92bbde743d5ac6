"""The real ``genai-lab`` process: a window within the first second, then the full app."""

import json
import os
import subprocess
import sys

from PySide6.QtWidgets import QTabWidget

from desktop.loading_window import TAB_NAMES, LoadingWindow
from desktop.settings import Settings


def test_loading_window_looks_like_the_main_window(qtbot, tmp_path):
    settings = Settings(tmp_path / "settings.ini")
    window = LoadingWindow(settings)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.first_frame, timeout=5000):
        window.show()
    tabs = window.findChild(QTabWidget)
    assert [tabs.tabText(i) for i in range(tabs.count())] == list(TAB_NAMES)
    assert [tabs.isTabEnabled(i) for i in range(tabs.count())] == [True, False, False, False]
    assert (window.width(), window.height()) == (1280, 800)
    code = "import sys, desktop.loading_window; assert 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_app_process_shows_loading_window_then_main_window_then_ready(tmp_path):
    probe = tmp_path / "probe.json"
    env = dict(os.environ, GENAI_LAB_STARTUP_PROBE=str(probe), GENAI_LAB_HOME=str(tmp_path),
               GENAI_LAB_SETTINGS=str(tmp_path / "settings.ini"), QT_QPA_PLATFORM="offscreen",
               OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "desktop"], env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    marks = json.loads(probe.read_text())
    # the loading window paints before torch is even imported, far cheaper than the rest
    assert marks["shown"] < marks["interactive"] <= marks["ready"]
    assert marks["cpu_at_shown"] < marks["cpu_at_interactive"]
