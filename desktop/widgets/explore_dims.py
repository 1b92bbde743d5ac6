"""The Explore tab's left column: one slider per latent dimension, most informative first.

A noise latent (diffusion) has too many dimensions to slide: the column shows the noise
controls instead. The caption says how the dimensions are ordered and how many are active.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QVBoxLayout

from desktop.capabilities import noise_latent, noise_latent_note
from desktop.widgets.explore_noise import NoiseControls
from desktop.widgets.latent_sliders import LatentSliders
from genai_engine.latent import importance_measure


class LatentDimsPanel(QGroupBox):
    def __init__(self, parent=None) -> None:
        super().__init__("Latent dimensions", parent)
        self.sliders = LatentSliders()
        self.dims_label = QLabel()
        self.dims_label.setWordWrap(True)
        self.dims_label.setStyleSheet("color: palette(dark);")
        self.show_inactive = QCheckBox("Show inactive dimensions")
        self.show_inactive.setChecked(True)
        self.show_inactive.setToolTip("Inactive dimensions carry no information (KL ≈ 0): the "
                                      "decoder ignores them.")
        self.show_inactive.toggled.connect(self.sliders.set_show_inactive)
        self.noise = NoiseControls()
        layout = QVBoxLayout(self)
        layout.addWidget(self.dims_label)
        layout.addWidget(self.sliders, 1)
        layout.addWidget(self.show_inactive)
        layout.addWidget(self.noise)
        self.setMinimumWidth(290)

    def configure(self, model, importance: np.ndarray | None) -> None:
        """Sliders for ``model``'s latent (ordered by ``importance`` when known), or the noise
        controls for a noise latent."""
        noise = noise_latent(model)
        self.sliders.configure(0 if noise else model.latent_dim, importance, importance_measure(model))
        self.sliders.setVisible(not noise)
        self.show_inactive.setVisible(not noise)
        self.noise.setVisible(noise)
        if noise:
            self.dims_label.setText(noise_latent_note(model))
            return
        d = self.sliders.dim
        measure = importance_measure(model)
        if importance is None:
            self.dims_label.setText(f"{d} dimensions (no {measure} measured yet, shown in order).")
        else:
            unit = " (nats)" if measure == "KL" else ""
            active = int(self.sliders.active.sum())
            self.dims_label.setText(f"{d} dimensions, {active} active, sorted by {measure}{unit}: "
                                    "the ones the decoder uses most come first.")

    def show_values(self, z: np.ndarray) -> None:
        if self.sliders.dim == len(z):  # a noise latent has no sliders
            self.sliders.set_values(z)
