"""Start the desktop app: logging to a file, the Qt application, the main window.

Windowed (frozen) builds have no stdout/stderr, so everything goes to a rotating log under
``user_data_dir()/logs``; uncaught exceptions in Qt slots are logged and shown, not lost.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import sys

log = logging.getLogger("desktop")


def setup_logging() -> str:
    from genai_engine.resources import user_data_dir

    folder = user_data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "genai-lab.log"
    root = logging.getLogger()
    for existing in root.handlers:  # already set up (self-test, a second main() in one process)
        if isinstance(existing, logging.handlers.RotatingFileHandler):
            return existing.baseFilename
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    if sys.stderr is not None:  # None in a windowed PyInstaller build
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        root.addHandler(console)
    return str(path)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    log_path = setup_logging()
    if argv and argv[0].startswith("--self-test"):
        from desktop.self_test import run as run_self_test

        return run_self_test(argv)
    __import__("torch")  # on Windows torch must load its DLLs before Qt does

    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    from desktop.settings import APPLICATION, ORGANIZATION

    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "genai-lab", *argv])
    app.setStyle("Fusion")
    from PySide6.QtGui import QIcon

    from genai_engine.resources import resources_dir

    # Linux ignores the executable's icon; the window sets its own.
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "genai-lab-256.png")))

    from desktop.main_window import MainWindow

    window = MainWindow()

    def report(kind, error, tb) -> None:
        log.error("uncaught exception", exc_info=(kind, error, tb))
        if not isinstance(error, KeyboardInterrupt):
            window.show_error("Unexpected error",
                              f"{kind.__name__}: {error}\n\nDetails are in {log_path}.")

    sys.excepthook = report
    window.show()
    probe = os.environ.get("GENAI_LAB_STARTUP_PROBE")
    if probe:  # the startup benchmark: time to first frame and to a ready session, then quit
        from desktop.self_test import startup_probe

        startup_probe(window, probe)
    log.info("GenAI Lab started; log file %s", log_path)
    code = app.exec()
    log.info("GenAI Lab closed (%s)", code)
    return int(code)
