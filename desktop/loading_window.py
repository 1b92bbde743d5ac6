"""The window the app shows within a second of launch, while PyTorch and the tabs load.

Importing torch takes about two seconds on a 2-core machine and every tab needs it, so
``desktop.app`` first shows this light frame, the same size, title and tab names as the main
window, with the tabs disabled and a message, and builds the real window after its first
frame; the real one then takes its place at the same geometry. It imports nothing heavy.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from desktop.settings import Settings

TAB_NAMES = ("Train", "Explore", "Interpolate", "Evaluate")
MENU_TITLES = ("&File", "&Edit", "&View", "&Training", "&Help")
DEFAULT_SIZE = (1280, 800)
MINIMUM_SIZE = (1024, 680)


def place_window(window: QMainWindow, settings: Settings) -> None:
    """The saved geometry, or the default size on a first start (shared with the main window)."""
    window.setMinimumSize(*MINIMUM_SIZE)
    geometry = settings.geometry
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(*DEFAULT_SIZE)


class LoadingWindow(QMainWindow):
    first_frame = Signal()  # emitted once, after the first frame has been painted

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.setWindowTitle("GenAI Lab")
        message = QLabel("Starting GenAI Lab…\nloading PyTorch and the demo model")
        message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        message.setStyleSheet("color: palette(placeholder-text); font-size: 15px;")
        tabs = QTabWidget()
        tabs.setDocumentMode(True)
        tabs.addTab(message, TAB_NAMES[0])
        for name in TAB_NAMES[1:]:
            tabs.setTabEnabled(tabs.addTab(QWidget(), name), False)
        self.setCentralWidget(tabs)
        for title in MENU_TITLES:  # the same bar as the main window, so nothing jumps
            self.menuBar().addMenu(title).setEnabled(False)
        self.statusBar().showMessage("Loading…")
        place_window(self, settings)
        # The children paint in the same pass; the timer runs once the frame is flushed.
        on_first_paint(self, lambda: QTimer.singleShot(0, self.first_frame.emit))


def on_first_paint(widget: QWidget, callback) -> None:
    """Call ``callback()`` once, when ``widget`` gets its first paint event."""
    widget.installEventFilter(_FirstPaint(widget, callback))


class _FirstPaint(QObject):
    def __init__(self, widget: QWidget, callback) -> None:
        super().__init__(widget)  # owned by the widget: alive as long as it is
        self._callback = callback

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            self._callback()
        return False
