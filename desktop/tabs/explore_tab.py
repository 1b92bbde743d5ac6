"""The Explore tab (being built)."""

from PySide6.QtWidgets import QWidget

from desktop.state import AppState


class ExploreTab(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
