"""Analyze ▸ Memorisation: does the model copy its training images?

Generates samples and shows each beside its nearest training images with their distances, in
pixel space or in a feature space (the VAE encoder's means; the domain CNN's features when they
are installed). One run searches every space, so the space buttons only switch the view. A
baseline from held-out test images says what "close" means: a sample nearer to a training image
than 95 % of test images are is framed in red.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.capabilities import lacks_encoder
from desktop.state import AppState
from desktop.widgets.neighbour_grid import NeighbourGrid
from desktop.widgets.result_stamp import ResultStamp
from desktop.widgets.task_bar import TaskBar
from genai_engine.analysis.memorisation import (
    MemorisationProgress,
    MemorisationResult,
    domain_features,
    memorisation_check,
)
from genai_engine.families.base import Encoder

SPACE_BUTTONS = (("pixel", "Pixels"), ("encoder", "Encoder features"), ("domain", "Domain CNN"))
SPACE_TIPS = {
    "pixel": "Euclidean distance between pixel values in [0, 1]: catches near-exact copies",
    "encoder": "Distance between the encoder's posterior means: what the model itself treats as "
               "similar (same garment, pose and shade)",
    "domain": "Distance between features of the domain CNN (a classifier trained on the data): "
              "similar in the eyes of an independent network",
}
FLAG_SHARE = 0.05  # a sample closer than 95 % of test images are to the training set


class MemorisationPanel(QWidget):
    shown = Signal(str)  # the space now displayed

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.result: MemorisationResult | None = None
        self.space = "pixel"
        self._cache: dict = {}  # training-set features of the current model and dataset
        self._cache_key = None

        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(1, 64)
        self.samples_spin.setValue(16)
        self.samples_spin.setToolTip("How many samples to draw from the prior")
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 8)
        self.k_spin.setValue(5)
        self.k_spin.setToolTip("Nearest training images shown per sample")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setToolTip("Seed of the prior samples")
        self.domain_check = QCheckBox("Also search domain-CNN features")
        installed = self.domain_installed()
        self.domain_check.setEnabled(installed)
        self.domain_check.setToolTip(
            "Slower the first time: features of every training image are computed once per model "
            "and dataset" if installed else "The domain CNN's weights are not installed")
        self.task = TaskBar("Find neighbours")

        settings = QGroupBox("Nearest training images of samples")
        form = QFormLayout(settings)
        form.addRow("Samples", self.samples_spin)
        form.addRow("Neighbours", self.k_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow(self.domain_check)
        form.addRow(self.task)

        self.space_buttons: dict[str, QPushButton] = {}
        self.space_group = QButtonGroup(self)
        self.space_group.setExclusive(True)
        view_box = QGroupBox("Distance measured in")
        view_layout = QVBoxLayout(view_box)
        for space, title in SPACE_BUTTONS:
            button = QPushButton(title)
            button.setCheckable(True)
            button.setToolTip(SPACE_TIPS[space])
            button.setEnabled(False)
            button.clicked.connect(lambda _checked=False, s=space: self.show_space(s))
            self.space_group.addButton(button)
            self.space_buttons[space] = button
            view_layout.addWidget(button)
        self.space_buttons["pixel"].setChecked(True)

        self.summary = QLabel(
            "Draw samples and compare each with its nearest training images. A model that "
            "memorises shows near-identical neighbours at distances far below those of real "
            "held-out images.")
        self.summary.setWordWrap(True)
        style.set_text_colour(self.summary, style.muted_colour)
        self.stamp = ResultStamp(state)
        self._result_dataset = None  # the dataset the shown neighbours were searched in

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(settings)
        side.addWidget(view_box)
        side.addWidget(self.summary)
        side.addWidget(self.stamp)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(340)

        self.grid = NeighbourGrid()
        layout = QHBoxLayout(self)
        layout.addWidget(side_widget)
        layout.addWidget(self.grid, 1)

        self.task.run_clicked.connect(self.start)
        state.model_changed.connect(self._context_changed)
        state.dataset_changed.connect(self._context_changed)
        self._context_changed()

    def _context_changed(self, *_args) -> None:
        reason = self.state.missing_model_or_data()
        self.task.set_ready(reason is None, reason or "")
        model = self.state.model
        self.space_buttons["encoder"].setToolTip(
            SPACE_TIPS["encoder"] if model is None or isinstance(model, Encoder) else
            f"{lacks_encoder(model)}, so samples are compared in pixels (and the "
            "domain CNN's features) only.")

    @staticmethod
    def domain_installed() -> bool:
        try:
            from genai_engine.metrics.features.domain import default_weights_path
        except ImportError:
            return False
        return default_weights_path().is_file()

    def start(self) -> None:
        model, dataset = self.state.model, self.state.dataset
        if model is None or dataset is None or self.task.running:
            return
        key = (id(model), dataset.fingerprint)
        if key != self._cache_key:  # features belong to one model and one dataset
            self._cache, self._cache_key = {}, key
        spaces = (["pixel"] + (["encoder"] if isinstance(model, Encoder) else [])
                  + (["domain"] if self.domain_check.isChecked() else []))
        n, k, seed = self.samples_spin.value(), self.k_spin.value(), self.seed_spin.value()
        cache = self._cache
        train, test = dataset.train, dataset.test

        def work(control):  # on the worker: loading the domain CNN is model code too
            if "domain" in spaces and "domain_fn" not in cache:
                cache["domain_fn"] = domain_features(dataset.image_shape)
            domain = cache.get("domain_fn")
            return memorisation_check(model, train.images, train_labels=train.labels,
                                      test_images=test.images, test_labels=test.labels,
                                      n_samples=n, k=k, seed=seed, spaces=spaces, domain=domain,
                                      feature_cache=cache, control=control)

        self.task.submit(self.state.runner, "Analyze: memorisation", work,
                         text=f"Searching {len(train):,} training images…",
                         on_progress=self._on_record,
                         on_finished=lambda result: self._on_done(result, model, dataset),
                         on_error=self._on_error,
                         on_cancelled=lambda: self.task.set_progress(0.0, "Cancelled."))

    def _on_record(self, record) -> None:
        if isinstance(record, MemorisationProgress):
            self.task.set_progress(record.fraction, record.message)

    def _on_done(self, result, model, dataset) -> None:
        if not isinstance(result, MemorisationResult):
            return
        self.result, self._result_dataset = result, dataset
        self.stamp.stamp(model, dataset)
        self.task.set_progress(1.0, f"Done in {result.seconds:.1f} s.")
        for space, button in self.space_buttons.items():
            button.setEnabled(space in result.spaces)
        self.show_space(self.space if self.space in result.spaces else "pixel")

    def _on_error(self, message: str) -> None:
        self.task.set_progress(0.0, "Failed.")
        self.state.error.emit("Memorisation check failed", message)

    def show_space(self, space: str) -> None:
        """Display the neighbours found in ``space`` (after a run)."""
        result, dataset = self.result, self._result_dataset
        if result is None or space not in result.spaces or dataset is None:
            return
        self.space = space
        self.space_buttons[space].setChecked(True)
        search = result.spaces[space]
        train = dataset.train
        neighbours = train.images[search.indices]
        names = dataset.class_names or []
        labels = train.labels

        def class_of(index: int) -> str:
            if labels is None:
                return ""
            label = int(labels[index])
            return names[label] if label < len(names) else str(label)

        share = search.percentile()
        flags = share < FLAG_SHARE
        captions = [[f"d = {d:#.3g}" for d in row] for row in search.distances]
        tooltips = [[f"training image #{i:,} · {class_of(i)} · distance {d:.4g}"
                     for i, d in zip(idx_row, d_row, strict=True)]
                    for idx_row, d_row in zip(search.indices, search.distances, strict=True)]
        sample_captions = [f"closer than {100 * (1 - s):.0f}% of test" if f else f"sample {q + 1}"
                           for q, (s, f) in enumerate(zip(share, flags, strict=True))]
        h, w = result.samples.shape[1:3]
        k = search.indices.shape[1]
        # As large as the width allows for 1 + k columns, crisp integer scaling, at most 3x.
        room = (self.grid.viewport().width() - 40) // (k + 1) - 16
        scale = int(max(1, min(3, room // max(w, 1), 96 // max(h, 1))))
        self.grid.set_rows(result.samples, neighbours, captions, sample_captions, flags=flags,
                           tooltips=tooltips, scale=scale,
                           headers=["Sample"] + [f"#{j + 1}" for j in range(search.indices.shape[1])])
        baseline = np.median(search.baseline) if len(search.baseline) else float("nan")
        nearest = search.distances[:, 0]
        self.summary.setText(
            f"<b>{search.label}</b><br>Nearest training image of a sample: median distance "
            f"{np.median(nearest):.3g} (min {nearest.min():.3g}). Real held-out test images: "
            f"median {baseline:.3g}.<br>{int(flags.sum())} of {len(flags)} samples are closer to "
            f"the training set than {100 * (1 - FLAG_SHARE):.0f}% of test images are (red frame)."
            "<br>" + style.span(f"Search: {search.seconds * 1000:.0f} ms over {len(train):,} images.",
                                style.muted_colour()))
        self.shown.emit(space)
