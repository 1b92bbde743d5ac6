"""Generate ▸ samples: a seeded grid from any model, with its sampling settings and class.

Tile i of a grid is the model's sample i of ``sample(n, seed)``; for a model with a latent it
is decoded from ``prior_samples(n, D, seed)[i]``, so a click on a tile hands that noise (and
the tile's class) to the views beside the grid (``tile_picked``). "Export" saves the grid as
a PNG or .npz.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.state import AppState
from desktop.widgets.image_view import ImageView, tile_at
from desktop.widgets.sampling_form import SamplingForm
from desktop.widgets.task_bar import TaskBar
from genai_engine.errors import GenAIError
from genai_engine.families.base import LatentDecoder, prior_samples
from genai_engine.sampling import save_samples

MIXED = -1  # the class choice "every class in turn"


class SampleGridPanel(QWidget):
    # starting noise (D,) or None (no latent), class or None, caption
    tile_picked = Signal(object, object, str)

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.images: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.shown_seed = 0
        self.columns = 8

        self.sampling = SamplingForm()
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setToolTip("The same seed gives the same starting noise, so the same images")
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 256)
        self.count_spin.setValue(32)
        self.count_spin.setToolTip("How many samples the grid shows")
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("The class every sample is drawn from (a conditional model)")
        self.task = TaskBar("Generate")
        self.task.run_button.setToolTip("Sample the grid with these settings")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the grid as a PNG, or the images as .npz")
        self.export_button.setEnabled(False)

        box = QGroupBox("Sampling")
        form = QFormLayout(box)
        form.addRow(self.sampling)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Samples", self.count_spin)
        form.addRow("Class", self.class_combo)
        form.addRow(self.task)
        form.addRow(self.export_button)

        self.view = ImageView(min_size=240)
        self.view.setToolTip("Click a sample to follow it in the views beside the grid")
        self.caption = QLabel("Press Generate to sample the open model.")
        self.caption.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.view, 1)
        right.addWidget(self.caption)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        box.setFixedWidth(300)
        layout.addWidget(box, 0)
        layout.addLayout(right, 1)

        self.task.run_clicked.connect(self.generate)
        self.export_button.clicked.connect(self._export_dialog)
        self.view.clicked.connect(self._on_click)

    # -- model -------------------------------------------------------------------------------
    def set_model(self, model, class_names: list[str]) -> None:
        self.model = model
        self.images = self.labels = None
        self.view.clear_image()
        self.export_button.setEnabled(False)
        self.sampling.set_model(model)
        self.class_combo.clear()
        conditional = model is not None and model.conditional
        if conditional:
            self.class_combo.addItem("Every class in turn", MIXED)
            for k, name in enumerate(class_names):
                self.class_combo.addItem(name, k)
        else:
            self.class_combo.addItem("(the model has no classes)", None)
        self.class_combo.setEnabled(conditional)
        self.task.set_ready(model is not None, "Open or train a model first.")
        self.caption.setText("Press Generate to sample the open model." if model is not None
                             else "Open or train a model first.")

    def grid_labels(self, n: int) -> np.ndarray | None:
        choice = self.class_combo.currentData()
        if choice is None:
            return None
        classes = self.model.config.num_classes
        return np.arange(n) % classes if choice == MIXED else np.full(n, choice, np.int64)

    # -- sampling ----------------------------------------------------------------------------
    def generate(self) -> None:
        model = self.model
        if model is None or self.task.running or not self.sampling.apply():
            return
        n, seed = self.count_spin.value(), self.seed_spin.value()
        labels = self.grid_labels(n)

        def work():
            start = time.perf_counter()
            images = model.sample(n, seed, labels=labels)
            return images, time.perf_counter() - start

        self.task.submit(self.state.runner, "Generate: samples", lambda _c: iter((work(),)),
                         text=f"Sampling {n} images…",
                         on_finished=lambda result: self._show(model, seed, labels, *result),
                         on_error=self.task.message.setText)

    def _show(self, model, seed: int, labels, images: np.ndarray, seconds: float) -> None:
        if model is not self.model:
            return  # the model changed while sampling
        self.images, self.labels, self.shown_seed = images, labels, seed
        self.columns = min(8, len(images))
        self.view.set_images(images, self.columns)
        self.export_button.setEnabled(True)
        settings = self.sampling.summary()
        self.caption.setText(f"{len(images)} samples, seed {seed}{f' ({settings})' if settings else ''}: "
                             f"{seconds:.2f} s, {1000 * seconds / len(images):.1f} ms per image.")
        self.task.set_progress(1.0, "")

    def _on_click(self, x: float, y: float) -> None:
        if self.images is None:
            return
        _, h, w, _ = self.images.shape
        index = tile_at(x, y, h, w, self.columns)
        if 0 <= index < len(self.images):
            self.pick(index)

    def pick(self, index: int) -> None:
        """Hand tile ``index``'s starting noise and class to the views beside the grid."""
        z = None
        if isinstance(self.model, LatentDecoder):
            z = prior_samples(len(self.images), self.model.latent_dim, self.shown_seed)[index]
        label = None if self.labels is None else int(self.labels[index])
        self.tile_picked.emit(z, label, f"sample {index + 1} of seed {self.shown_seed}")

    # -- export ------------------------------------------------------------------------------
    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export samples", str(Path.home() / "samples.png"),
                                              "PNG grid (*.png);;NumPy array (*.npz)")
        if path:
            self.export(path)

    def export(self, path: str | Path) -> Path | None:
        if self.images is None:
            return None
        try:
            saved = save_samples(self.images, path, self.columns)
        except (GenAIError, OSError) as error:
            self.state.error.emit("Could not export the samples", str(error))
            return None
        self.state.status_message.emit(f"Saved {len(self.images)} samples to {saved}")
        return saved
