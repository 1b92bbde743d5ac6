"""The Explore tab's grid of prior samples: click one to start from its latent point.

The grid is decoded latest-wins on the worker pool (a seed typed quickly never queues work);
a grid for a model that is no longer open is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from desktop.latest_wins import LatestWins
from desktop.state import AppState
from desktop.widgets.image_view import ImageView, tile_at
from genai_engine.families.base import LatentDecoder, prior_samples

GRID_SIDE = 6  # prior samples grid is GRID_SIDE x GRID_SIDE


class PriorSamplesPanel(QWidget):
    point_picked = Signal(object, str)  # z, how it was made

    def __init__(self, state: AppState, label: Callable[[], int | None], parent=None) -> None:
        super().__init__(parent)
        self.model: LatentDecoder | None = None
        self.label = label  # the class a conditional model samples
        self.dirty = False  # the grid is out of date (refreshed once it can be seen)
        self.sampler = LatestWins(state.runner, "prior samples", self)
        self.sampler.ready.connect(self._show)
        self.view = ImageView(min_size=200)
        self.view.setToolTip("Decoded samples z ~ N(0, I). Click one to start from it.")
        self.view.clicked.connect(self._on_click)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip("Random seed: the same seed gives the same samples")
        self.seed_spin.valueChanged.connect(lambda _: self.refresh())
        new_seed = QPushButton("New samples")
        new_seed.clicked.connect(lambda: self.seed_spin.setValue(self.seed_spin.value() + 1))
        row = QHBoxLayout()
        row.addWidget(QLabel("Seed"))
        row.addWidget(self.seed_spin)
        row.addWidget(new_seed)
        row.addStretch(1)
        hint = QLabel("Click a sample to start from its latent point.")
        hint.setStyleSheet("color: palette(dark);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(hint)

    def set_model(self, model: LatentDecoder | None) -> None:
        self.sampler.discard()
        self.model = model
        if model is None:
            self.view.clear_image()

    def refresh(self) -> None:
        if self.model is None:
            return
        self.dirty = False
        model, seed, label = self.model, self.seed_spin.value(), self.label()
        n = GRID_SIDE * GRID_SIDE
        self.sampler.request(lambda: model.sample(n, seed, labels=label), tag=model)

    def _show(self, images: np.ndarray, model) -> None:
        if model is self.model:
            self.view.set_images(images, GRID_SIDE)

    def _on_click(self, x: float, y: float) -> None:
        if self.model is None or self.view.image is None:
            return
        _, h, w = self.model.config.image_shape
        slot = tile_at(x, y, h, w, GRID_SIDE)
        if 0 <= slot < GRID_SIDE * GRID_SIDE:
            seed = self.seed_spin.value()
            z = prior_samples(GRID_SIDE * GRID_SIDE, self.model.latent_dim, seed)[slot]
            self.point_picked.emit(z, f"Prior sample {slot + 1} of the grid (seed {seed})")
