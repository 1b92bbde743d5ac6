"""A notice laid over a whole tab that cannot serve the open model or dataset.

Explore, Interpolate, Evaluate, Analyze, Compare and Generate work on images: with a character
model (it draws none) or a text corpus (its "images" are windows of character ids) they would
show nonsense (``capabilities.images_only``). Explore and Interpolate also need a latent space
that decodes to images: an autoregressive model has none (``capabilities.no_latent``), and
rather than a tab of greyed-out controls it gets one sentence and a way to what it can do.
The cover hides the tab behind the sentence; the tab itself stays as it is underneath: nothing
is rebuilt, and it is back as it was once the model and dataset suit it again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.capabilities import images_only, no_latent
from desktop.state import AppState
from genai_engine.families.base import LatentDecoder, StepwiseSampler


class TabCover(QWidget):
    def __init__(self, state: AppState, tab: QWidget, view: str, *, needs_latent: bool = False,
                 show_pixel_views: Callable[[], None] | None = None) -> None:
        """``view`` names the tab in the sentences; ``needs_latent``: the tab serves only models
        with a latent space; ``show_pixel_views`` opens where a pixel-by-pixel model is shown
        (offered on the cover to such a model)."""
        super().__init__(tab)
        self.state = state
        self.view = view
        self.needs_latent = needs_latent
        self.setObjectName("tab_cover")
        self.setAutoFillBackground(True)  # opaque: the tab's own widgets do not show through
        self.message = notice_label("tab_cover_reason")
        self.action = QPushButton("Watch it write an image: Generate ▸ Generation view")
        self.action.setVisible(False)
        if show_pixel_views is not None:
            self.action.clicked.connect(show_pixel_views)
        self._can_show_pixels = show_pixel_views is not None
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(centred(self.message))
        layout.addLayout(centred(self.action))
        layout.addStretch(2)
        tab.installEventFilter(self)
        state.model_changed.connect(self.refresh)  # bound methods: let go with the widget
        state.dataset_changed.connect(self.refresh)
        self.refresh()

    def reason(self) -> str | None:
        """Why the tab cannot serve the open model and dataset; None when it can."""
        model, dataset = self.state.model, self.state.dataset
        reason = images_only(model, dataset, self.view)
        latent = isinstance(model, LatentDecoder)
        if reason is None and self.needs_latent and model is not None and not latent:
            reason = no_latent(model, self.view.lower())
        return reason

    def refresh(self, _changed=None) -> None:
        reason = self.reason()
        self.message.setText(reason or "")
        self.action.setVisible(reason is not None and self._can_show_pixels
                               and isinstance(self.state.model, StepwiseSampler))
        self.setVisible(reason is not None)
        if reason is not None:
            self.setGeometry(self.parentWidget().rect())
            self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize:
            self.setGeometry(watched.rect())
        return False


def notice_label(name: str) -> QLabel:
    """A centred, word-wrapped sentence of a tab-wide notice."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setFixedWidth(560)  # a fixed width lets the layout find the wrapped height
    return label


def centred(widget: QWidget) -> QHBoxLayout:
    """``widget`` in the middle of a row. Stretches, not an alignment flag: a layout item with
    an alignment ignores a word-wrapped label's height for its width, and clips it."""
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(widget)
    row.addStretch(1)
    return row
