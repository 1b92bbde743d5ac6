"""The Explore tab's map: the encoded test set in 2-D, encoded as a task on the worker pool.

Each dot is a test image's latent code (two latent dimensions, or a PCA projection of more).
Encoding runs through a ``TaskSlot``: a new model or dataset releases the running encoding, so
a result for an older one never lands. Clicks and hovers are the tab's to act on. The map's
right-click menu exports the codes and labels for TensorBoard's projector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from desktop.capabilities import noise_latent
from desktop.state import AppState
from desktop.task_slot import TaskSlot
from desktop.widgets.latent_map import LatentMap
from genai_engine.errors import GenAIError
from genai_engine.files import atomic_write_text
from genai_engine.latent import EncodedSplit, EncodeProgress, encode_split

MAP_MAX_POINTS = 10_000
NOISE_MAP_POINTS = 500  # a noise latent's map: each image costs a DDIM inversion


class ExploreMapPanel(QWidget):
    encoded_changed = Signal()  # a new encoded test set is shown

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.encoded: EncodedSplit | None = None
        self.label_names: list[str] = []
        self.task = TaskSlot()
        self.map = LatentMap()
        self.map.setToolTip("Each dot is a test image's latent code (its posterior mean). Click "
                            "a dot to decode it; move the cursor to decode the map live.")
        self.export_action = self.map.menu.addAction("Export latent codes as TSV…")
        self.export_action.triggered.connect(self.export_codes_dialog)
        self.hover_check = QCheckBox("Decode under the cursor")
        self.hover_check.setChecked(True)
        self.hover_check.setToolTip("Show the decoding of the map position under the mouse; "
                                    "leave the map to return to the current point")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: palette(dark);")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.map, 1)
        layout.addWidget(self.progress)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.hover_check)
        layout.addLayout(row)

    def cancel(self) -> None:
        self.task.release()
        self.progress.setVisible(False)

    def clear(self) -> None:
        self.encoded = None
        self.map.clear_points()

    def encode(self, model, test, label_names: list[str]) -> None:
        """Encode (the first points of) the test split with ``model`` and show the map."""
        self.cancel()
        limit = NOISE_MAP_POINTS if noise_latent(model) else MAP_MAX_POINTS
        images = test.images[:limit]
        labels = None if test.labels is None else test.labels[:limit]
        self.progress.setRange(0, len(images))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText(f"Encoding {len(images):,} test images with "
                            f"{'the new' if self.encoded is not None else 'the'} model…")
        num_classes = len(label_names)
        self.task.start(
            self.state.runner, "encode test set",
            lambda control: encode_split(model, images, labels, num_classes, control),
            on_progress=lambda record: self._on_progress(model, label_names, record),
            on_error=self._on_error)

    def _on_progress(self, model, label_names: list[str], record) -> None:
        if isinstance(record, EncodeProgress):
            self.progress.setValue(record.done)
            return
        self.progress.setVisible(False)
        self._set_encoded(model, record, label_names)

    def _on_error(self, message: str) -> None:
        self.progress.setVisible(False)
        self.status.setText(f"Could not encode the test set: {message}")

    def _set_encoded(self, model, encoded: EncodedSplit, label_names: list[str]) -> None:
        self.encoded = encoded
        self.label_names = list(label_names)
        two_d = model.latent_dim == 2
        axes = ("z0", "z1") if two_d else ("PC 1", "PC 2")
        self.map.set_points(encoded.xy, encoded.labels, label_names, axes)
        how = "the two latent dimensions" if two_d else "a PCA projection of the latent codes"
        self.status.setText(f"{len(encoded.codes):,} test images, {how}. Click a dot to decode it.")
        self.encoded_changed.emit()

    def export_codes_dialog(self) -> None:
        if self.encoded is None:
            self.state.error.emit("Nothing to export", "Wait until the map shows the encoded test set.")
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Folder for vectors.tsv and metadata.tsv (TensorBoard projector)")
        if folder:
            try:
                written = self.export_codes(folder)
            except GenAIError as error:
                self.state.error.emit("Could not export the latent codes", str(error))
                return
            self.state.status_message.emit(f"Saved {len(self.encoded.codes):,} latent codes to "
                                           + " and ".join(str(p) for p in written))

    def export_codes(self, folder: str | Path) -> list[Path]:
        """``vectors.tsv`` (one code per line) and, with labels, ``metadata.tsv`` (a header, then
        label and class name per line): the files TensorBoard's projector loads."""
        codes, labels = self.encoded.codes, self.encoded.labels
        folder = Path(folder)
        vectors = "".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in codes)
        written = [atomic_write_text(folder / "vectors.tsv", vectors)]
        if labels is not None:
            names = self.label_names
            rows = [f"{int(k)}\t{names[k] if k < len(names) else f'class {k}'}\n" for k in labels]
            written.append(atomic_write_text(folder / "metadata.tsv", "label\tclass\n" + "".join(rows)))
        return written

    def code_at(self, x: float, y: float) -> np.ndarray:
        """The latent point at map position (x, y) (the projection's inverse)."""
        return self.encoded.projection.inverse(np.array([x, y]))

    def follow(self, z: np.ndarray) -> None:
        """Put the marker where ``z`` projects."""
        if self.encoded is not None and len(z) == self.encoded.codes.shape[1]:
            x, y = self.encoded.projection(z[None])[0]
            self.map.set_marker(float(x), float(y))
