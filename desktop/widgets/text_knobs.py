"""The Language view's sampling knobs: temperature, top-k, top-p, length and seed.

Temperature has a slider beside its spin box (the knob a student turns most); the two always
agree. ``changed`` fires on every edit of the three knobs that reshape the next character's
distribution; length and seed only matter to Generate.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QHBoxLayout, QSlider, QSpinBox, QWidget

TEMPERATURE_RANGE = (0.05, 3.0)
SLIDER_STEPS = 100  # per unit of temperature
DEFAULTS = {"temperature": 0.8, "top_k": 0, "top_p": 1.0, "length": 400, "seed": 0}
MAX_LENGTH = 20_000

TIPS = {
    "temperature": "Divides the model's scores before they become probabilities: below 1 the likely "
                   "characters get likelier (safer, more repetitive text), above 1 the distribution "
                   "flattens (more surprising text, then nonsense).",
    "top_k": "Draw only from the k most likely characters (0: off, all of them).",
    "top_p": "Draw only from the fewest most likely characters whose probabilities add up to p "
             "(nucleus sampling; 1: off).",
    "length": "How many characters Generate writes after the prompt.",
    "seed": "The same seed, prompt and knobs write the same text.",
}


class TextKnobs(QWidget):
    changed = Signal()  # temperature, top-k or top-p

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        low, high = TEMPERATURE_RANGE
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(low, high)
        self.temperature.setDecimals(2)
        self.temperature.setSingleStep(0.05)
        self.temperature_slider = QSlider(Qt.Orientation.Horizontal)
        self.temperature_slider.setRange(round(low * SLIDER_STEPS), round(high * SLIDER_STEPS))
        self.top_k = QSpinBox()
        self.top_k.setRange(0, 256)
        self.top_k.setSpecialValueText("off")
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setDecimals(2)
        self.top_p.setSingleStep(0.05)
        self.length = QSpinBox()
        self.length.setRange(1, MAX_LENGTH)
        self.length.setSingleStep(100)
        self.length.setSuffix(" characters")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        for name in TIPS:
            getattr(self, name).setToolTip(TIPS[name])
        self.temperature_slider.setToolTip(TIPS["temperature"])

        temperature_row = QHBoxLayout()
        temperature_row.setContentsMargins(0, 0, 0, 0)
        temperature_row.addWidget(self.temperature_slider, 1)
        temperature_row.addWidget(self.temperature)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Temperature", temperature_row)
        form.addRow("Top-k", self.top_k)
        form.addRow("Top-p", self.top_p)
        form.addRow("Length", self.length)
        form.addRow("Seed", self.seed)

        self.set_values(DEFAULTS)
        self.temperature.valueChanged.connect(self._spin_moved)
        self.temperature_slider.valueChanged.connect(
            lambda step: self.temperature.setValue(step / SLIDER_STEPS))
        self.top_k.valueChanged.connect(self.changed)
        self.top_p.valueChanged.connect(self.changed)

    def _spin_moved(self, value: float) -> None:
        self.temperature_slider.blockSignals(True)
        self.temperature_slider.setValue(round(value * SLIDER_STEPS))
        self.temperature_slider.blockSignals(False)
        self.changed.emit()

    def set_values(self, values: dict) -> None:
        for name, value in values.items():
            getattr(self, name).setValue(value)
        self._spin_moved(self.temperature.value())

    def set_vocabulary_size(self, size: int) -> None:
        """Top-k cannot keep more characters than the model knows."""
        self.top_k.setMaximum(max(1, size))

    def knobs(self) -> dict:
        """What reshapes the distribution, as ``next_distribution`` and ``generate`` take it."""
        return {"temperature": self.temperature.value(), "top_k": self.top_k.value(),
                "top_p": self.top_p.value()}
