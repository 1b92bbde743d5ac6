"""``ResultStamp``: which model and dataset a result on screen was computed for.

A result stays on screen after the user opens another model or dataset (it is still worth
reading), but it must not pass for a result of the one now open. The stamp names the model and
dataset when the result is shown, and turns into a warning as soon as either is no longer the
open one; it turns back if the same checkpoint and data are opened again.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel

from desktop import style
from desktop.state import AppState, ModelIdentity


class ResultStamp(QLabel):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWordWrap(True)
        self._model = None
        self._identity: ModelIdentity | None = None
        self._dataset = None  # (name, fingerprint)
        self.setVisible(False)
        style.keep_styled(self, self._restyle)
        state.model_changed.connect(self._refresh)
        state.dataset_changed.connect(self._refresh)
        state.checkpoint_changed.connect(self._refresh)

    def stamp(self, model, dataset) -> None:
        """The result now shown was computed for ``model`` on ``dataset`` (None: no dataset of
        the app's was involved). Pass those the task started with: the user may have opened
        others while it ran."""
        self._model = model
        self._identity = (self.state.model_identity() if model is self.state.model
                          else ModelIdentity("an earlier model", None, saved=False))
        self._dataset = None if dataset is None else (dataset.name, dataset.fingerprint)
        self._refresh()

    def clear(self) -> None:
        self._model = self._identity = self._dataset = None
        self._refresh()

    @property
    def stamped(self) -> bool:
        """A result is on screen."""
        return self._identity is not None

    @property
    def stale(self) -> bool:
        """The stamped model or dataset is no longer the open one."""
        if self._identity is None:
            return False
        state = self.state
        same_model = state.model is self._model or (
            self._identity.saved and state.model_identity() == self._identity)
        dataset = None if state.dataset is None else (state.dataset.name, state.dataset.fingerprint)
        return not same_model or (self._dataset is not None and dataset != self._dataset)

    def _refresh(self, *_args) -> None:
        if self._identity is None:
            self.setVisible(False)
            return
        on = f" on {html.escape(self._dataset[0])}" if self._dataset else ""
        text = f"Measured for {html.escape(str(self._identity))}{on}"
        stale = self.stale
        self.setText(f"{text}: <b>an earlier model or dataset</b>, not the one open now." if stale
                     else f"{text}.")
        self._restyle()
        self.setVisible(True)

    def _restyle(self) -> None:
        self.setStyleSheet(style.notice_sheet("warning") if self.stale
                           else f"QLabel {{ color: {style.muted_colour().name()}; }}")
