"""A view, or in its place one centred sentence saying why it is not there (no model open, or
a model of a family the view does not serve)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget


class ViewOrReason(QStackedWidget):
    def __init__(self, view: QWidget, reason_name: str, parent=None) -> None:
        super().__init__(parent)
        self.reason = QLabel()
        self.reason.setObjectName(reason_name)
        self.reason.setWordWrap(True)
        self.reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(view)
        self.addWidget(self.reason)

    def show_view(self, available: bool, reason: str = "") -> None:
        """The view if ``available``, else ``reason`` in its place."""
        self.setCurrentIndex(0 if available else 1)
        if not available:
            self.reason.setText(reason)
