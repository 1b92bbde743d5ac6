"""One slider per latent dimension, the most informative dimensions first.

Rows are ordered by each dimension's importance: its KL divergence from the prior (nats) for a
model with an encoder, the decoder's measured sensitivity otherwise. A dimension with almost none
is ignored by the decoder ("inactive") and is greyed out. A slider covers about
±3 prior standard deviations; the label beside it shows the exact value, which may lie outside
the slider's range (e.g. an encoded image).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QSlider, QWidget

from genai_engine.latent import sort_dims_by_importance

RANGE = 3.0  # slider ends, in prior standard deviations
TICKS_PER_UNIT = 100  # slider resolution: 0.01
INACTIVE_STYLE = "color: palette(placeholder-text);"


class _Row:
    def __init__(self, dim: int, parent: QWidget) -> None:
        self.dim = dim
        self.name = QLabel(f"z{dim}", parent)
        self.importance = QLabel("", parent)
        self.importance.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.slider = QSlider(Qt.Horizontal, parent)
        limit = int(RANGE * TICKS_PER_UNIT)
        self.slider.setRange(-limit, limit)
        self.slider.setSingleStep(5)
        self.slider.setPageStep(50)
        self.slider.setMinimumWidth(120)
        self.value = QLabel("+0.00", parent)
        self.value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.value.setMinimumWidth(self.value.fontMetrics().horizontalAdvance("+00.00") + 4)
        self.widgets = (self.name, self.importance, self.slider, self.value)

    def set_value(self, value: float) -> None:
        self.value.setText(f"{value:+.2f}")
        ticks = int(round(np.clip(value, -RANGE, RANGE) * TICKS_PER_UNIT))
        if ticks != self.slider.value():
            self.slider.blockSignals(True)
            self.slider.setValue(ticks)
            self.slider.blockSignals(False)

    def set_importance(self, value: float | None, measured_by: str, active: bool) -> None:
        self.importance.setText("" if value is None else
                                ("inactive" if not active else f"{measured_by} {value:.2f}"))
        style = "" if active else INACTIVE_STYLE
        for widget in (self.name, self.importance, self.value):
            widget.setStyleSheet(style)
        if value is None:
            about = ""
        elif measured_by == "KL":
            about = f"It carries {value:.3f} nats of KL divergence from the prior on the test set. "
        else:
            about = (f"Moving it changes the decoded image by {value:.3f} (measured decoder "
                     "sensitivity). ")
        idle = ("its KL is about zero, so the decoder ignores it and moving it changes almost "
                "nothing (posterior collapse)." if measured_by == "KL" else
                "the decoder barely responds to it, so moving it changes almost nothing.")
        tip = f"Latent dimension {self.dim}. {about}" + ("" if active else f"Inactive: {idle}")
        for widget in self.widgets:
            widget.setToolTip(tip)


class LatentSliders(QScrollArea):
    """A scrollable column of (name, importance, slider, value) rows; emits the edited dimension."""

    value_changed = Signal(int, float)  # latent dimension, new value
    drag_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self._body = QWidget()
        self._grid = QGridLayout(self._body)
        self._grid.setContentsMargins(4, 4, 4, 4)
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(2, 1)
        self.setWidget(self._body)
        self._rows: list[_Row] = []  # indexed by latent dimension
        self.order = np.zeros(0, np.int64)
        self.active = np.zeros(0, bool)
        self.show_inactive = True
        self._deferred: tuple | None = None  # (importance, measured_by) waiting for a drag to end

    # -- configuration -------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self._rows)

    def configure(self, dim: int, importance: np.ndarray | None = None, measured_by: str = "KL") -> None:
        """Show ``dim`` rows ordered by ``importance`` (``measured_by`` "KL" or "sensitivity",
        see ``latent.sort_dims_by_importance``); keeps the rows when ``dim`` is unchanged."""
        if dim != self.dim:
            self._rebuild(dim)
        elif self.dragging:
            # Re-ordering rows under the mouse would break the drag: apply when it ends.
            self._deferred = (importance, measured_by)
            return
        values = None if importance is None or len(importance) != dim else np.asarray(importance, float)
        if values is None:
            self.order, self.active = np.arange(dim), np.ones(dim, bool)
        else:
            self.order, self.active = sort_dims_by_importance(values, measured_by)
        for position, d in enumerate(self.order):
            row = self._rows[d]
            row.set_importance(None if values is None else float(values[d]), measured_by,
                               bool(self.active[d]))
            for column, widget in enumerate(row.widgets):
                self._grid.addWidget(widget, position, column)  # moves an existing widget
        self._grid.setRowStretch(dim, 1)  # rows stay packed at the top
        self._apply_visibility()

    def _rebuild(self, dim: int) -> None:
        for row in self._rows:
            for widget in row.widgets:
                self._grid.removeWidget(widget)
                widget.hide()  # deleteLater waits for the event loop: gone from view at once
                widget.deleteLater()
        for r in range(self._grid.rowCount()):
            self._grid.setRowStretch(r, 0)
        self._rows = [_Row(d, self._body) for d in range(dim)]
        for row in self._rows:
            row.slider.valueChanged.connect(lambda ticks, d=row.dim: self._on_slider(d, ticks))
            row.slider.sliderReleased.connect(self._on_released)

    def set_show_inactive(self, show: bool) -> None:
        self.show_inactive = bool(show)
        self._apply_visibility()

    def _apply_visibility(self) -> None:
        for d, row in enumerate(self._rows):
            visible = self.show_inactive or bool(self.active[d])
            for widget in row.widgets:
                widget.setVisible(visible)

    # -- values ----------------------------------------------------------------------------
    def set_values(self, z: np.ndarray) -> None:
        """Show a new point without emitting ``value_changed``."""
        for row, value in zip(self._rows, np.asarray(z, float), strict=True):
            row.set_value(float(value))

    def slider(self, dim: int) -> QSlider:
        return self._rows[dim].slider

    def value_label(self, dim: int) -> QLabel:
        return self._rows[dim].value

    def row_position(self, dim: int) -> int:
        """Where a dimension's row is shown (0 = top)."""
        return int(np.flatnonzero(self.order == dim)[0])

    @property
    def dragging(self) -> bool:
        return any(row.slider.isSliderDown() for row in self._rows)

    def _on_slider(self, dim: int, ticks: int) -> None:
        value = ticks / TICKS_PER_UNIT
        self._rows[dim].value.setText(f"{value:+.2f}")
        self.value_changed.emit(dim, value)

    def _on_released(self) -> None:
        if self._deferred is not None:
            (importance, measured_by), self._deferred = self._deferred, None
            self.configure(self.dim, importance, measured_by)
        self.drag_finished.emit()
