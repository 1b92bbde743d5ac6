"""The Explore tab's controls for a noise latent (diffusion), in place of the sliders.

The starting noise is chosen by seed, and a blend moves from the start point towards another
seed's noise along a slerp, which keeps the noise's typical size.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QSlider, QSpinBox, QWidget

from genai_engine.families.base import prior_samples
from genai_engine.latent import slerp

BLEND_TICKS = 100


class NoiseControls(QWidget):
    seed_chosen = Signal(int)  # start from this seed's noise
    blend_changed = Signal()  # the blend or the seed it moves towards changed

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.noise_seed = QSpinBox()
        self.noise_seed.setRange(0, 2**31 - 1)
        self.noise_seed.setKeyboardTracking(False)
        self.noise_seed.setToolTip("Start from the noise of this seed")
        self.noise_seed.valueChanged.connect(self.seed_chosen)
        self.blend_seed = QSpinBox()
        self.blend_seed.setRange(0, 2**31 - 1)
        self.blend_seed.setValue(1)
        self.blend_seed.setToolTip("The noise the blend moves towards")
        self.blend = QSlider(Qt.Horizontal)
        self.blend.setRange(0, BLEND_TICKS)
        self.blend.setToolTip("0: the start point; 1: the other seed's noise (slerp, which keeps the "
                              "noise's typical size)")
        self.blend.valueChanged.connect(lambda _v: self.blend_changed.emit())
        self.blend_seed.valueChanged.connect(lambda _v: self.blend_changed.emit())
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Noise seed", self.noise_seed)
        form.addRow("Blend towards seed", self.blend_seed)
        form.addRow("Blend", self.blend)
        self.setVisible(False)

    def start_noise(self, latent_dim: int) -> tuple[np.ndarray, str]:
        """The noise of the chosen seed, and its caption."""
        seed = self.noise_seed.value()
        return prior_samples(1, latent_dim, seed)[0], f"Starting noise of seed {seed}"

    def restart(self) -> None:
        """A new start point: the blend starts from it."""
        self.blend.blockSignals(True)
        self.blend.setValue(0)
        self.blend.blockSignals(False)

    def blended(self, start_z: np.ndarray, source: str) -> tuple[np.ndarray, str]:
        """The point the blend gives from ``start_z``, and its caption (``source`` without the
        previous blend's part, followed by this one's)."""
        t, seed = self.blend.value(), self.blend_seed.value()
        z = slerp(start_z, prior_samples(1, len(start_z), seed)[0], BLEND_TICKS + 1)[t]
        base = source.split(" → ")[0]
        return z, base if t == 0 else f"{base} → {t / BLEND_TICKS:.2f} of the way to seed {seed}'s noise"
