"""Analyze ▸ Anomalies: a model with an encoder and a likelihood (the VAE) as an anomaly detector.

Scores every image of a split (reconstruction error or negative ELBO) on the worker pool, then
shows a histogram per class (as a share of each class, so small classes stay visible), the most
and least typical images, and — after scoring a second set (a transformed copy of the data, or
any dataset from disk) — how well the scores separate the two: its histogram, the ROC curve and
the ROC AUC.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.capabilities import no_likelihood, scores_likelihood
from desktop.state import AppState
from desktop.widgets.image_view import ImageView
from desktop.widgets.result_stamp import ResultStamp
from desktop.widgets.task_bar import TaskBar
from genai_engine.analysis.anomaly import (
    OUTLIER_KINDS,
    SCORE_METHODS,
    AnomalyScores,
    ScoreProgress,
    class_histograms,
    roc_auc,
    roc_curve,
    score_images,
    separation,
    synthetic_outliers,
    typical,
)

TYPICAL_COUNT = 16
FILE_SOURCE = "file"
SCORE_TIPS = {
    "recon": "How badly the image is rebuilt from its code (−log p(x | z = mean)): high for images "
             "unlike the training data",
    "elbo": "Reconstruction plus the KL cost of the code: also penalises codes far from the prior",
}


@dataclass
class ScoredSet:
    """Scores of one set of images, with what they were computed on."""

    name: str
    images: np.ndarray
    labels: np.ndarray | None
    scores: np.ndarray
    method: str


class AnomalyPanel(QWidget):
    scored = Signal(object)  # ScoredSet of the dataset
    compared = Signal(float)  # ROC AUC against the second set

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.base: ScoredSet | None = None
        self._base_names: list[str] = []  # class names of the dataset the scores are of
        self.stamp = ResultStamp(state)  # which model and dataset the scores on screen are of
        self.foreign: ScoredSet | None = None
        self.auc: float | None = None

        # -- scoring the open dataset
        self.split_box = QComboBox()
        self.split_box.addItem("Test split", "test")
        self.split_box.addItem("Train split", "train")
        self.method_box = QComboBox()
        for method, title in SCORE_METHODS.items():
            self.method_box.addItem(title.capitalize(), method)
            self.method_box.setItemData(self.method_box.count() - 1, SCORE_TIPS[method],
                                        Qt.ItemDataRole.ToolTipRole)
        self.method_box.setToolTip("\n\n".join(SCORE_TIPS.values()))
        self.n_spin = QSpinBox()
        self.n_spin.setRange(100, 60_000)
        self.n_spin.setSingleStep(1000)
        self.n_spin.setValue(10_000)
        self.n_spin.setToolTip("The first N images of the split (capped at its size)")
        self.task = TaskBar("Score images")
        score_box = QGroupBox("Score every image")
        score_form = QFormLayout(score_box)
        score_form.addRow("Images", self.split_box)
        score_form.addRow("How many", self.n_spin)
        score_form.addRow("Score", self.method_box)
        score_form.addRow(self.task)

        # -- a second set
        self.source_box = QComboBox()
        for kind, title in OUTLIER_KINDS.items():
            self.source_box.addItem(f"Same images, {title}", kind)
        self.source_box.addItem("A dataset from disk…", FILE_SOURCE)
        self.source_box.setToolTip("The set to tell apart from the scored images. The transformed "
                                   "copies need no download; any IDX folder, .npz or image folder "
                                   "of the same image size works too (e.g. MNIST digits).")
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("folder, .npz or IDX file")
        self.browse_button = QPushButton("Browse…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        self.path_widget = QWidget()
        self.path_widget.setLayout(path_row)
        path_row.setContentsMargins(0, 0, 0, 0)
        self.compare_task = TaskBar("Score and compare")
        self.auc_label = QLabel("ROC AUC: —")
        self.auc_label.setStyleSheet("font-size: 15px; font-weight: 600")
        self.auc_label.setToolTip(
            "Chance that an image of the second set scores higher than one of the first: 1.0 "
            "separates them perfectly, 0.5 not at all; below 0.5 the model finds the foreign "
            "images *more* typical — a known failure of likelihood models on simpler images.")
        compare_box = QGroupBox("Compare with a second set")
        compare_form = QFormLayout(compare_box)
        compare_form.addRow("Second set", self.source_box)
        compare_form.addRow(self.path_widget)
        compare_form.addRow(self.compare_task)
        compare_form.addRow(self.auc_label)

        self.roc_plot = pg.PlotWidget()
        self.roc_plot.setMenuEnabled(False)
        self.roc_plot.setMouseEnabled(False, False)
        self.roc_plot.hideButtons()
        self.roc_plot.setAspectLocked(True)
        self.roc_plot.setXRange(0, 1, padding=0.02)
        self.roc_plot.setYRange(0, 1, padding=0.02)
        self.roc_plot.setLabel("bottom", "false positive rate")
        self.roc_plot.setLabel("left", "true positive rate")
        self.roc_plot.setTitle("ROC curve", size="9pt")
        chance = self.roc_plot.plot([0, 1], [0, 1])
        self.roc_curve = self.roc_plot.plot([], [], pen=pg.mkPen(style.RED, width=2))
        style.keep_plot_styled(self.roc_plot, lambda: chance.setPen(
            pg.mkPen(style.faint_colour(), style=Qt.PenStyle.DashLine)))
        self.roc_plot.setMinimumHeight(200)

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(score_box)
        side.addWidget(compare_box)
        side.addWidget(self.roc_plot, 1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(360)

        # -- right: histograms and typical images
        self.class_box = QComboBox()
        self.class_box.setToolTip("Pick a class to highlight its histogram and show its most and "
                                  "least typical images")
        self.class_box.setMinimumContentsLength(14)
        self.hist_plot = pg.PlotWidget()
        self.hist_plot.setMenuEnabled(False)
        self.hist_plot.hideButtons()
        self.hist_plot.showGrid(x=True, y=True, alpha=0.2)
        self.hist_plot.setLabel("left", "% of the class")
        self.hist_plot.setLabel("bottom", "anomaly score (nats)")
        self.legend_label = QLabel()  # colour key under the plot: an in-plot legend hides data
        self.legend_label.setWordWrap(True)
        self.class_curves: list[pg.PlotDataItem] = []
        self.foreign_curve: pg.PlotDataItem | None = None
        style.keep_plot_styled(self.hist_plot, self._refresh_view)  # curves in role colours

        self.most_view = ImageView(min_size=120)
        self.least_view = ImageView(min_size=120)
        for view in (self.most_view, self.least_view):
            view.setFixedHeight(150)  # two rows of eight: no empty band around them
        self.most_caption = QLabel("Most typical (lowest scores)")
        self.least_caption = QLabel("Least typical (highest scores)")
        for caption in (self.most_caption, self.least_caption):
            caption.setWordWrap(True)
        typical_row = QHBoxLayout()
        for caption, view in ((self.most_caption, self.most_view),
                              (self.least_caption, self.least_view)):
            column = QVBoxLayout()
            column.addWidget(caption)
            column.addWidget(view, 1)
            typical_row.addLayout(column, 1)

        header = QHBoxLayout()
        self.hist_title = QLabel("<b>Score histogram per class</b>")
        self.hist_title.setWordWrap(True)  # it also carries why a model cannot be scored
        header.addWidget(self.hist_title, 1)
        header.addWidget(QLabel("Class"))
        header.addWidget(self.class_box)
        right = QVBoxLayout()
        right.addLayout(header)
        right.addWidget(self.stamp)
        right.addWidget(self.hist_plot, 1)
        right.addWidget(self.legend_label)
        right.addLayout(typical_row)
        layout = QHBoxLayout(self)
        layout.addWidget(side_widget)
        layout.addLayout(right, 1)

        self.task.run_clicked.connect(self.start)
        self.compare_task.run_clicked.connect(self.compare)
        self.class_box.currentIndexChanged.connect(self._refresh_view)
        self.source_box.currentIndexChanged.connect(self._update_source)
        self.browse_button.clicked.connect(self._browse)
        state.model_changed.connect(self._context_changed)
        state.dataset_changed.connect(self._context_changed)
        self._update_source()
        self._context_changed()

    # -- state ---------------------------------------------------------------------------
    def _context_changed(self, *_args) -> None:
        model = self.state.model
        able = model is None or scores_likelihood(model)
        for widget in (self.split_box, self.n_spin, self.method_box, self.source_box,
                       self.path_edit, self.browse_button, self.class_box):
            widget.setEnabled(able)
        reason = self.state.missing_model_or_data() if able else no_likelihood(model, "score images")
        self.task.set_ready(reason is None, reason or "")
        if not able:
            self.hist_title.setText(f"<b>{reason}</b>")
        self._update_compare_ready()

    def _update_compare_ready(self) -> None:
        if self.base is None:
            self.compare_task.set_ready(False, "Score the images first.")
        elif self.stamp.stale:
            self.compare_task.set_ready(False, "The scores on screen are of an earlier model or "
                                        "dataset: score the images again first.")
        elif self.source_box.currentData() == FILE_SOURCE and not self.path_edit.text().strip():
            self.compare_task.set_ready(False, "Choose a dataset file or folder.")
        else:
            self.compare_task.set_ready(True)

    def _update_source(self, *_args) -> None:
        self.path_widget.setVisible(self.source_box.currentData() == FILE_SOURCE)
        self._update_compare_ready()

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a dataset folder", str(Path.home()))
        if path:
            self.path_edit.setText(path)
            self._update_compare_ready()

    # -- scoring -------------------------------------------------------------------------
    def start(self) -> None:
        model, dataset = self.state.model, self.state.dataset
        if model is None or dataset is None or self.task.running:
            return
        split = self.split_box.currentData()
        part = dataset.split(split)
        n = min(self.n_spin.value(), len(part))
        images = part.images[:n]
        labels = None if part.labels is None else part.labels[:n]
        method = self.method_box.currentData()
        name = f"{dataset.name} ({split}, {n:,})"

        def done(result) -> None:
            if isinstance(result, AnomalyScores):
                self._base_names = list(dataset.class_names or [])
                self.stamp.stamp(model, dataset)
                self._set_base(ScoredSet(name, images, labels, result.scores, method))
                self.task.set_progress(1.0, f"Scored {n:,} images in {result.seconds:.1f} s.")

        self.task.submit(
            self.state.runner, "Analyze: anomaly scores",
            lambda control: score_images(model, images, labels, method, control=control),
            text=f"Scoring {n:,} images…", on_progress=self._progress(self.task),
            on_finished=done, on_error=self._error,
            on_cancelled=lambda: self.task.set_progress(0.0, "Cancelled."))

    def compare(self) -> None:
        model, base = self.state.model, self.base
        if model is None or base is None or self.compare_task.running:
            return
        source = self.source_box.currentData()
        path = self.path_edit.text().strip()
        shape = base.images.shape
        size = shape[1] if shape[1] == shape[2] else None

        def work(control):
            if source == FILE_SOURCE:
                from genai_engine.data import read_image_set

                images = read_image_set(path, image_size=size).images[:len(base.images)]
                title = Path(path).name
            else:
                images = synthetic_outliers(base.images, source)
                title = OUTLIER_KINDS[source]
            yield ("loaded", title, images)
            yield from score_images(model, images, None, base.method, control=control)

        loaded: dict = {}

        def progress(record) -> None:
            if isinstance(record, tuple):
                loaded["title"], loaded["images"] = record[1], record[2]
            else:
                self._progress(self.compare_task)(record)

        def done(result) -> None:
            if isinstance(result, AnomalyScores) and "images" in loaded:
                self._set_foreign(ScoredSet(loaded["title"], loaded["images"], None, result.scores,
                                            base.method))

        self.compare_task.submit(
            self.state.runner, "Analyze: compare sets", work, text="Scoring the second set…",
            on_progress=progress, on_finished=done, on_error=self._error,
            on_cancelled=lambda: self.compare_task.set_progress(0.0, "Cancelled."))

    @staticmethod
    def _progress(bar: TaskBar):
        def show(record) -> None:
            if isinstance(record, ScoreProgress):
                bar.set_progress(record.fraction, f"{record.done:,} of {record.total:,} images · "
                                 f"{record.seconds:.0f} s")
        return show

    def _error(self, message: str) -> None:
        self.state.error.emit("Anomaly scoring failed", message)

    def _set_base(self, scored: ScoredSet) -> None:
        self.base, self.foreign, self.auc = scored, None, None
        self.auc_label.setText("ROC AUC: —")
        self.roc_curve.setData([], [])
        names = self._base_names
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem("All classes", -1)
        if scored.labels is not None:
            for label in np.unique(scored.labels):
                self.class_box.addItem(names[label] if label < len(names) else str(label), int(label))
        self.class_box.blockSignals(False)
        self._update_compare_ready()
        self._refresh_view()
        self.scored.emit(scored)

    def _set_foreign(self, scored: ScoredSet) -> None:
        base = self.base
        self.foreign = scored
        self.auc = roc_auc(base.scores, scored.scores)
        fpr, tpr = roc_curve(base.scores, scored.scores)
        self.roc_curve.setData(fpr, tpr)
        verdict = separation(self.auc)
        self.auc_label.setText(f"ROC AUC: {self.auc:.3f} <span style='font-weight:400; "
                               f"color:{style.muted_colour().name()}'>({verdict})</span>")
        self.compare_task.set_progress(1.0, f"{len(scored.scores):,} images of “{scored.name}” "
                                       f"scored against {base.name}.")
        self._refresh_view()
        self.compared.emit(self.auc)

    # -- display -------------------------------------------------------------------------
    def _refresh_view(self, *_args) -> None:
        base = self.base
        for curve in self.class_curves:
            self.hist_plot.removeItem(curve)
        if self.foreign_curve is not None:
            self.hist_plot.removeItem(self.foreign_curve)
        self.class_curves, self.foreign_curve = [], None
        self.legend_label.setText("")
        if base is None:
            return
        chosen = self.class_box.currentData()
        chosen = -1 if chosen is None else int(chosen)
        pooled = base.scores if self.foreign is None else np.concatenate([base.scores,
                                                                          self.foreign.scores])
        edges = class_histograms(pooled, None, bins=50).edges
        hist = class_histograms(base.scores, base.labels, list(self.class_box_names()), edges=edges)
        key = []
        for i, (name, counts) in enumerate(zip(hist.class_names, hist.counts, strict=True)):
            if counts.sum() == 0:
                continue
            share = 100.0 * counts / counts.sum()
            highlight = chosen in (-1, i) if base.labels is not None else True
            color = style.SERIES[i % len(style.SERIES)] if highlight else style.faint_colour()
            curve = pg.PlotDataItem(edges, share, stepMode="center",
                                    pen=pg.mkPen(color, width=2.5 if chosen == i else 1.5))
            key.append(f"{style.span('■', color)}&nbsp;{name}")
            self.hist_plot.addItem(curve)
            self.class_curves.append(curve)
        if self.foreign is not None:
            counts = class_histograms(self.foreign.scores, None, edges=edges).total
            share = 100.0 * counts / max(counts.sum(), 1)
            foreign = style.text_colour()  # the second set stands apart from every class colour
            fill = QColor(foreign)
            fill.setAlpha(40)
            self.foreign_curve = pg.PlotDataItem(
                edges, share, stepMode="center", fillLevel=0, brush=pg.mkBrush(fill),
                pen=pg.mkPen(foreign, width=2))
            self.hist_plot.addItem(self.foreign_curve)
            key.append(f"{style.span('■', foreign)}&nbsp;<b>second set: "
                       f"{self.foreign.name}</b>")
        self.legend_label.setText(" &nbsp; ".join(key))
        overflow = f" · last bin also counts {hist.overflow} higher scores" if hist.overflow else ""
        self.hist_title.setText(f"<b>{SCORE_METHODS[base.method].capitalize()} per class</b> — "
                                f"{base.name}{overflow}")
        self.hist_plot.setLabel("bottom", SCORE_METHODS[base.method])

        mask = np.ones(len(base.scores), bool)
        if chosen >= 0 and base.labels is not None:
            mask = base.labels == chosen
        picks = np.flatnonzero(mask)
        most, least = typical(base.scores[picks], TYPICAL_COUNT)
        most, least = picks[most], picks[least]
        if len(most):
            self.most_view.set_images(base.images[most], columns=8)
            self.least_view.set_images(base.images[least], columns=8)
            self.most_caption.setText(f"<b>Most typical</b> (lowest scores {base.scores[most[0]]:.1f}"
                                      f"–{base.scores[most[-1]]:.1f})")
            self.least_caption.setText(f"<b>Least typical</b> (highest scores "
                                       f"{base.scores[least[-1]]:.1f}–{base.scores[least[0]]:.1f})")

    def class_box_names(self) -> list[str]:
        """Names of every class index up to the highest label (for the histogram legend)."""
        names = self._base_names
        if self.base is None or self.base.labels is None:
            return names
        top = int(self.base.labels.max()) + 1
        return names[:top] + [str(i) for i in range(len(names), top)]
