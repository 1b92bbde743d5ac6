"""Start the desktop app: logging to a file, the Qt application, the main window.

Windowed (frozen) builds have no stdout/stderr, so everything goes to a rotating log under
``user_data_dir()/logs``; uncaught exceptions in Qt slots are logged and shown, not lost.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys

from desktop.log_file import setup_logging

log = logging.getLogger("desktop")


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    log_path = setup_logging()
    if argv and argv[0].startswith("--self-test"):
        from desktop.self_test import run as run_self_test

        return run_self_test(argv)
    if sys.platform == "win32":
        __import__("torch")  # on Windows torch must load its DLLs before Qt does

    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.loading_window import LoadingWindow
    from desktop.settings import APPLICATION, ORGANIZATION, Settings
    from desktop.style import follow_system_scheme
    from genai_engine.resources import resources_dir

    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "genai-lab", *argv])
    app.setStyle("Fusion")
    # Python's cycle collector can run at any allocation, also inside a Qt call that holds a
    # lock; when the cycles it frees hold Qt objects, their destructors take that lock again
    # and the app freezes (seen inside QObject::disconnect). pyqtgraph's collector turns the
    # automatic one off and collects from a timer, in the event loop, where no lock is held.
    from pyqtgraph.util.garbage_collector import GarbageCollector

    app.garbage_collector = GarbageCollector(interval=1.0)
    follow_system_scheme(app)  # light or dark, as the system is
    # Linux ignores the executable's icon; the window sets its own.
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "genai-lab-256.png")))

    sys.excepthook = lambda kind, error, tb: log.error("uncaught exception",
                                                       exc_info=(kind, error, tb))
    settings = Settings()
    loading = LoadingWindow(settings)
    probe = None
    if os.environ.get("GENAI_LAB_STARTUP_PROBE"):  # the startup benchmark
        from desktop.startup_probe import StartupProbe

        probe = StartupProbe(os.environ["GENAI_LAB_STARTUP_PROBE"])
        probe.watch(loading, "shown")
    windows = []  # the main window, once built: kept alive here

    def build_main_window() -> None:
        try:
            from desktop.main_window import MainWindow

            window = MainWindow(settings=settings)
        except Exception as error:  # a broken install (torch missing): say so, then quit
            log.exception("could not build the main window")
            QMessageBox.critical(loading, "GenAI Lab could not start",
                                 f"{type(error).__name__}: {error}\n\nDetails are in {log_path}.")
            app.exit(1)
            return
        windows.append(window)

        def report(kind, error, tb) -> None:
            log.error("uncaught exception", exc_info=(kind, error, tb))
            if not isinstance(error, KeyboardInterrupt):
                window.show_error("Unexpected error",
                                  f"{kind.__name__}: {error}\n\nDetails are in {log_path}.")

        sys.excepthook = report
        window.restoreGeometry(loading.saveGeometry())  # where the user may have moved it
        if probe is not None:
            probe.watch(window, "interactive")
            probe.finish_when_ready(window)
        window.show()
        loading.close()

    loading.first_frame.connect(build_main_window)
    loading.show()
    log.info("GenAI Lab started; log file %s", log_path)
    code = app.exec()
    log.info("GenAI Lab closed (%s)", code)
    return int(code)
