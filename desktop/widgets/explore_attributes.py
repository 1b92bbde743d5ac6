"""The Explore tab's latent arithmetic: current point + strength × (mean of A − mean of B).

The class means come from the encoded test set. The first move anchors the vector at the point
then current; a new or edited point (``clear``) starts again from that one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSlider

from desktop.capabilities import lacks_encoder
from genai_engine.families.base import Encoder
from genai_engine.latent import attribute_vector

STRENGTH_TICKS = 20  # attribute strength slider: 0.05 per tick
STRENGTH_RANGE = 3.0


class AttributePanel(QGroupBox):
    moved = Signal(object, str)  # the new point and how it was made

    def __init__(self, current: Callable[[], tuple[np.ndarray, str]], parent=None) -> None:
        super().__init__("Latent arithmetic", parent)
        self.current = current  # the point (and its caption) a move starts from
        self.means: np.ndarray | None = None
        self.names: list[str] = []
        self._anchor: np.ndarray | None = None  # the point the attribute vector is added to
        self._anchor_source = ""
        self.towards_box, self.away_box = QComboBox(), QComboBox()
        self.towards_box.setToolTip("Class A: move towards the mean code of this class")
        self.away_box.setToolTip("Class B: move away from the mean code of this class")
        self.strength = QSlider(Qt.Horizontal)
        self.strength.setRange(-int(STRENGTH_RANGE * STRENGTH_TICKS), int(STRENGTH_RANGE * STRENGTH_TICKS))
        self.strength.setToolTip("How far to move along mean(A) − mean(B); 0 is the point you "
                                 "started from")
        self.strength_label = QLabel("+0.00")
        self.strength_label.setMinimumWidth(self.strength_label.fontMetrics().horizontalAdvance("+0.00") + 6)
        self.strength.valueChanged.connect(self._on_strength)
        self.towards_box.currentIndexChanged.connect(lambda _: self.apply())
        self.away_box.currentIndexChanged.connect(lambda _: self.apply())
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_label)
        classes = QHBoxLayout()
        classes.addWidget(self.towards_box, 1)
        classes.addWidget(QLabel("−"))
        classes.addWidget(self.away_box, 1)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(dark);")
        form = QFormLayout(self)
        form.addRow(QLabel("current + strength × (mean of A − mean of B)"))
        form.addRow("A − B:", classes)
        form.addRow("Strength:", strength_row)
        form.addRow(self.hint)

    def update_controls(self, means: np.ndarray | None, names: list[str], model, dataset) -> None:
        """Offer the classes of ``means`` (None: no encoded test set yet) and say what is missing."""
        self.means, self.names = means, names
        ready = means is not None and len(means) >= 2
        for widget in (self.towards_box, self.away_box, self.strength):
            widget.setEnabled(ready)
        if not ready:  # no class means, so no names of an earlier dataset either
            for box in (self.towards_box, self.away_box):
                box.clear()
        if model is not None and not isinstance(model, Encoder):
            self.hint.setText(f"{lacks_encoder(model)}, so test images have no codes to take "
                              "class means of.")
            return
        if not ready:
            self.hint.setText(
                "Needs the encoded test set with class labels (computed with the map)."
                if dataset is None or dataset.test.labels is not None
                else "This dataset has no class labels.")
            return
        self.hint.setText("Class means come from the encoded test set.")
        names = names[:len(means)]
        if [self.towards_box.itemText(i) for i in range(self.towards_box.count())] != names:
            for box, default in ((self.towards_box, 1 % len(names)), (self.away_box, 0)):
                box.blockSignals(True)
                box.clear()
                box.addItems(names)
                box.setCurrentIndex(default)
                box.blockSignals(False)

    def drop_anchor(self) -> None:
        """The next move starts from the point current then."""
        self._anchor = None

    def clear(self) -> None:
        """A new or edited point: the attribute vector starts again from it."""
        self.drop_anchor()
        if self.strength.value() != 0:
            self.strength.blockSignals(True)
            self.strength.setValue(0)
            self.strength.blockSignals(False)
            self.strength_label.setText("+0.00")

    def _on_strength(self, ticks: int) -> None:
        self.strength_label.setText(f"{ticks / STRENGTH_TICKS:+.2f}")
        self.apply()

    def apply(self) -> None:
        if self.means is None:
            return
        if self._anchor is None:
            if self.strength.value() == 0:
                return
            z, self._anchor_source = self.current()
            self._anchor = z.copy()
        a, b = self.towards_box.currentIndex(), self.away_box.currentIndex()
        strength = self.strength.value() / STRENGTH_TICKS
        z = self._anchor + strength * attribute_vector(self.means, a, b)
        names = self.names
        self.moved.emit(z, f"{self._anchor_source} + {strength:.2f} × ({names[a]} − {names[b]})")
