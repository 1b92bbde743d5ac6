"""A notice laid over an image tab while a character model or a text corpus is open.

Explore, Interpolate, Evaluate, Analyze, Compare and Generate work on images. With a character
model (it draws none) or a text corpus (its "images" are windows of character ids) they would
show nonsense, so the cover hides the whole tab behind one sentence that says why and what to
do (``capabilities.images_only``). The tab itself stays as it is underneath: nothing is
rebuilt, and it is back as it was once an image model and an image dataset are open again.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.capabilities import images_only
from desktop.state import AppState


class ImagesOnlyCover(QWidget):
    def __init__(self, state: AppState, tab: QWidget, view: str) -> None:
        super().__init__(tab)
        self.state = state
        self.view = view
        self.setObjectName("images_only_cover")
        self.setAutoFillBackground(True)  # opaque: the tab's own widgets do not show through
        self.message = QLabel()
        self.message.setObjectName("images_only_reason")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setFixedWidth(560)  # a fixed width lets the layout find the wrapped height
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(centred(self.message))
        layout.addStretch(2)
        tab.installEventFilter(self)
        state.model_changed.connect(self.refresh)  # bound methods: let go with the widget
        state.dataset_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, _changed=None) -> None:
        reason = images_only(self.state.model, self.state.dataset, self.view)
        self.message.setText(reason or "")
        self.setVisible(reason is not None)
        if reason is not None:
            self.setGeometry(self.parentWidget().rect())
            self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize:
            self.setGeometry(watched.rect())
        return False


def centred(widget: QWidget) -> QHBoxLayout:
    """``widget`` in the middle of a row. Stretches, not an alignment flag: a layout item with
    an alignment ignores a word-wrapped label's height for its width, and clips it."""
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(widget)
    row.addStretch(1)
    return row


def cover_image_tabs(state: AppState, tabs: dict[str, QWidget]) -> list[ImagesOnlyCover]:
    """A cover over each image tab, by its name (the sentences name the view)."""
    return [ImagesOnlyCover(state, tab, name) for name, tab in tabs.items()]
