"""Analyze ▸ Likelihood: importance-weighted NLL estimates for several k beside the ELBO.

The estimate runs on the worker pool (``genai_engine.analysis.likelihood.estimate_nll``); its
running means arrive a few times a second and redraw the table and the NLL-against-k plot,
so a long k = 1000 run shows its numbers settling while it goes.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.capabilities import model_phrase, no_likelihood, scores_likelihood
from desktop.state import AppState
from desktop.widgets.result_stamp import ResultStamp
from desktop.widgets.task_bar import TaskBar
from genai_engine.analysis.likelihood import (
    LikelihoodProgress,
    LikelihoodResult,
    ScoredNLL,
    estimate_nll,
    importance_weighted,
    score_nll,
)
from genai_engine.families.base import DensityModel

K_CHOICES = (1, 10, 100, 1000)
DEFAULT_KS = (1, 10, 100)
COLUMNS = ("k", "NLL (nats)", "± s.e.", "bits/dim", "below ELBO by")

EXPLANATION = (
    "<b>What this measures.</b> The ELBO is only a lower bound on log p(x). Drawing k codes "
    "from the encoder and weighting them (the IWAE bound) gives tighter bounds as k grows: the "
    "NLL estimate falls towards the true negative log-likelihood, and k = 1 is the ELBO itself. "
    "<br><b>Comparing numbers.</b> These are nats per image under this model's own likelihood. "
    "A Bernoulli likelihood on continuous pixels in [0, 1] (our Fashion-MNIST) is a "
    "cross-entropy, not the probability of binarised images, so the ~86–90 nats published for "
    "VAEs on binarised MNIST do not apply.")
EXPLANATION_DIRECT = (
    "<b>What this measures.</b> An autoregressive model's −log p(x) is exact: the sum over every "
    "pixel (or character) of −log of the probability the model gave its true value, given the ones "
    "before it, with the image rounded to the model's K levels. A diffusion model's number is the "
    "variational bound of Ho et al. on the 8-bit images, an upper bound on −log p(x), estimated "
    "over the noise levels. Neither needs importance samples."
    "<br><b>Comparing numbers.</b> Bits per dimension compare only on the same quantisation: "
    "uniform guessing costs log2 K, and adding log2(256/K) puts a K-level model on the 8-bit scale "
    "of the diffusion bound. A VAE's ELBO on continuous pixels is another quantity.")
K_TIPS = {
    1: "One sample per image: a Monte-Carlo estimate of the ELBO",
    10: "Ten importance samples per image",
    100: "A hundred samples per image: most of the gain on small models",
    1000: "A thousand samples per image: slow on a CPU (about 1,000× the cost of the ELBO)",
}


class LikelihoodPanel(QWidget):
    result_ready = Signal(object)  # LikelihoodResult of a completed (not cancelled) run

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.result: LikelihoodResult | None = None
        self.scored: ScoredNLL | None = None  # of a model that scores images itself
        self._ks: tuple[int, ...] = ()
        self._model = None

        self.split_box = QComboBox()
        self.split_box.addItem("Test split", "test")
        self.split_box.addItem("Train split", "train")
        self.split_box.setToolTip("Which images to score; the test split shows how well the model "
                                  "generalises")
        self.n_spin = QSpinBox()
        self.n_spin.setRange(10, 60_000)
        self.n_spin.setSingleStep(100)
        self.n_spin.setValue(1000)
        self.n_spin.setToolTip("The first N images of the split (capped at its size)")
        self.k_checks: dict[int, QCheckBox] = {}
        k_row = QHBoxLayout()
        for k in K_CHOICES:
            check = QCheckBox(f"{k:,}")
            check.setChecked(k in DEFAULT_KS)
            check.setToolTip(K_TIPS[k])
            check.toggled.connect(self._update_ready)
            self.k_checks[k] = check
            k_row.addWidget(check)
        k_row.addStretch(1)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setToolTip("Seed of the posterior draws: the same seed repeats the numbers")
        self.task = TaskBar("Estimate")

        settings = QGroupBox("Estimate the likelihood")
        form = QFormLayout(settings)
        form.addRow("Images", self.split_box)
        form.addRow("How many", self.n_spin)
        form.addRow("Samples k", k_row)
        form.addRow("Seed", self.seed_spin)
        form.addRow(self.task)
        self.settings_form = form
        self.explanation = QLabel(EXPLANATION)
        self.explanation.setWordWrap(True)
        style.set_text_colour(self.explanation, style.muted_colour)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(settings)
        side.addWidget(self.explanation)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(380)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Each row is an upper bound on the negative log-likelihood; the "
                              "smallest is the best estimate")
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height()
                                  + 30 * (len(K_CHOICES) + 1) + 4)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.summary = QLabel("Run an estimate to see the IWAE bounds beside the ELBO.")
        self.summary.setWordWrap(True)
        self.stamp = ResultStamp(state)

        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        # x is log10(k) on a linear axis, ticked at the k values themselves.
        self.plot.getAxis("bottom").setTicks([[(np.log10(k), f"{k:,}") for k in K_CHOICES], []])
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "importance samples per image, k")
        self.plot.setLabel("left", "NLL estimate (nats per image)")
        self.plot.setTitle("The bound tightens as k grows", size="10pt")
        self.plot.addLegend(offset=(-10, 10))
        self.curve = self.plot.plot([], [], pen=pg.mkPen(style.BLUE, width=2), symbol="o",
                                    symbolSize=7, symbolBrush=style.BLUE, name="IWAE estimate −L_k")
        self.elbo_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(style.RED, width=2,
                                                               style=Qt.PenStyle.DashLine))
        self.elbo_line.setVisible(False)
        self.plot.addItem(self.elbo_line)
        self.plot.plot([], [], pen=pg.mkPen(style.RED, width=2, style=Qt.PenStyle.DashLine),
                       name="−ELBO (analytic KL)")
        style.keep_plot_styled(self.plot)

        right = QVBoxLayout()
        right.addWidget(self.table)
        right.addWidget(self.summary)
        right.addWidget(self.stamp)
        right.addWidget(self.plot, 1)
        right.addStretch(0)  # takes the room when the plot is hidden, so the text stays on top
        layout = QHBoxLayout(self)
        layout.addWidget(side_widget)
        layout.addLayout(right, 1)

        self.task.run_clicked.connect(self.start)
        state.model_changed.connect(self._update_ready)
        state.dataset_changed.connect(self._update_ready)
        self._update_ready()

    # -- state -----------------------------------------------------------------------------
    def selected_ks(self) -> tuple[int, ...]:
        return tuple(k for k, check in self.k_checks.items() if check.isChecked())

    def _update_ready(self, *_args) -> None:
        model = self.state.model
        direct = scores_directly(model)
        able = model is None or scores_likelihood(model) or direct
        for widget in (self.split_box, self.n_spin):
            widget.setEnabled(able)
        for widget in (self.seed_spin, *self.k_checks.values()):
            widget.setEnabled(able and not direct)
        # the settings and their explanation are the open model's; a result on screen stays,
        # laid out as it was, and its stamp says whose it is
        self.explanation.setText(EXPLANATION_DIRECT if direct else EXPLANATION)
        for row in (2, 3):  # samples k, seed
            self.settings_form.setRowVisible(row, not direct)
        if self.stamp.stamped:
            pass
        elif direct:
            self._lay_out_result(True)
            self.summary.setText(f"{model_phrase(model)} gives each image's negative log-likelihood "
                                 f"directly ({model.likelihood_kind}), with no importance samples k: "
                                 "press Estimate to score the images.")
        else:
            self._lay_out_result(False)
            self.summary.setText("Run an estimate to see the IWAE bounds beside the ELBO." if able
                                 else no_likelihood(model, "estimate a likelihood"))
        if model is None:
            self.task.set_ready(False, "Open or train a model first.")
        elif not able:
            self.task.set_ready(False, no_likelihood(model, "estimate a likelihood"))
        elif self.state.dataset is None:
            self.task.set_ready(False, "Open a dataset first.")
        elif not self.selected_ks() and not direct:
            self.task.set_ready(False, "Tick at least one k.")
        else:
            self.task.set_ready(True)

    # -- running ---------------------------------------------------------------------------
    def start(self) -> None:
        model, dataset, ks = self.state.model, self.state.dataset, self.selected_ks()
        if model is None or dataset is None or self.task.running or not (ks or scores_directly(model)):
            return
        part = dataset.split(self.split_box.currentData())
        n = min(self.n_spin.value(), len(part))
        images = part.images[:n]
        labels = None if part.labels is None else part.labels[:n]
        seed = self.seed_spin.value()
        self._model = model
        self.stamp.stamp(model, dataset)
        if scores_directly(model):
            self.result = None
            self.scored = None
            self._set_row_count(0)
            self.task.submit(self.state.runner, "Analyze: likelihood",
                             lambda control: score_nll(model, images, labels, control=control),
                             text=f"Scoring {n:,} images…", on_progress=self._on_scored,
                             on_error=self._on_error, on_cancelled=self._on_cancelled)
            return
        self._ks = ks
        self.result = None
        self.scored = None
        self._show(dict.fromkeys(ks, math.nan), math.nan, {}, None)
        self.task.submit(
            self.state.runner, "Analyze: likelihood",
            lambda control: estimate_nll(model, images, labels, ks, seed=seed, control=control),
            text=f"Estimating on {n:,} images with up to {max(ks):,} samples each…",
            on_progress=self._on_record, on_finished=self._on_done,
            on_error=self._on_error, on_cancelled=self._on_cancelled)

    def _on_record(self, record) -> None:
        if isinstance(record, LikelihoodProgress):
            rate = record.done / max(record.seconds, 1e-9)
            left = (record.total - record.done) / max(rate, 1e-9)
            self.task.set_progress(record.fraction, f"{record.done:,} of {record.total:,} images · "
                                   f"{record.seconds:.0f} s, about {left:.0f} s left")
            self._show(record.nll, record.elbo, {}, None)
        elif isinstance(record, LikelihoodResult):
            self.result = record
            self._show(record.nll, record.elbo, record.nll_stderr, record)

    def _on_scored(self, record: LikelihoodProgress | ScoredNLL) -> None:
        """A model that scores images itself: one row, its NLL in nats and bits/dim."""
        if isinstance(record, LikelihoodProgress):
            self.task.set_progress(record.fraction, f"{record.done:,} of {record.total:,} images · "
                                   f"{record.seconds:.0f} s")
            return
        self.scored = record
        self._lay_out_result(True)
        self._set_row_count(1)
        self._set_row(0, [record.kind, _fmt(record.nll), _fmt(record.nll_stderr),
                          _fmt(record.bits_per_dim, 4), ""], bold=True)
        partial = " (cancelled: partial)" if record.cancelled else ""
        self.summary.setText(
            f"<b>NLL = {record.nll:.2f} nats</b> per image ({record.bits_per_dim:.4f} bits/dim), "
            f"{record.kind}, over {record.n_images:,} images{partial}. Uniform guessing costs log2 of "
            "the model's levels per dimension; only models of the same quantised images compare.")
        self.task.set_progress(1.0, f"Done: {record.n_images:,} images in {record.seconds:.1f} s.")

    def _set_row_count(self, rows: int) -> None:
        self.table.setRowCount(rows)
        self.curve.setData([], [])
        self.elbo_line.setVisible(False)

    def _on_done(self, _last) -> None:
        result = self.result
        if result is None:
            return
        self.task.set_progress(1.0, f"Done: {result.n_images:,} images in {result.seconds:.1f} s.")
        if self.state.model is self._model:  # a result of an older model is not offered on
            self.result_ready.emit(result)

    def _on_cancelled(self) -> None:
        done = self.result.n_images if self.result is not None else 0
        self.task.set_progress(0.0, f"Cancelled; the table shows the {done:,} images done so far."
                               if done else "Cancelled.")

    def _on_error(self, message: str) -> None:
        self.task.set_progress(0.0, "Failed.")
        self.state.error.emit("Likelihood estimate failed", message)

    # -- display ---------------------------------------------------------------------------
    def _lay_out_result(self, direct: bool) -> None:
        """The result views of a likelihood scored directly (no bound-tightening plot, no
        'below ELBO' column) or of importance-weighted estimates beside the ELBO."""
        self.plot.setVisible(not direct)
        self.table.setColumnHidden(len(COLUMNS) - 1, direct)
        self.table.setHorizontalHeaderItem(0, QTableWidgetItem("likelihood" if direct else "k"))

    def _show(self, nll: dict, elbo: float, stderr: dict, result: LikelihoodResult | None) -> None:
        self._lay_out_result(False)
        ks = sorted(nll)
        self.table.setRowCount(len(ks) + 1)
        for row, k in enumerate(ks):
            bits = result.bits_per_dim(k) if result is not None else math.nan
            self._set_row(row, [f"{k:,}", _fmt(nll[k]), _fmt(stderr.get(k, math.nan)), _fmt(bits, 4),
                                _fmt(elbo - nll[k])])
        elbo_se = result.elbo_stderr if result is not None else math.nan
        self._set_row(len(ks), ["−ELBO", _fmt(elbo), _fmt(elbo_se), "", ""], bold=True)
        finite = [(k, nll[k]) for k in ks if math.isfinite(nll[k])]
        self.curve.setData([np.log10(k) for k, _ in finite], [v for _, v in finite])
        if ks:
            self.plot.setXRange(np.log10(min(ks)) - 0.15, np.log10(max(ks)) + 0.15, padding=0)
        self.elbo_line.setVisible(math.isfinite(elbo))
        if math.isfinite(elbo):
            self.elbo_line.setValue(elbo)
        if result is not None:
            loosest, tightest = min(ks), max(ks)
            gain = result.nll[loosest] - result.nll[tightest]
            partial = " (cancelled: partial)" if result.cancelled else ""
            self.summary.setText(
                f"<b>NLL ≈ {result.nll[tightest]:.2f} nats</b> per image with k = {tightest:,} "
                f"({result.bits_per_dim(tightest):.4f} bits/dim), {gain:.2f} nats below the k = "
                f"{loosest:,} bound; −ELBO {result.elbo:.2f}. {result.n_images:,} images, "
                f"{result.likelihood} likelihood{partial}.")

    def _set_row(self, row: int, values: list[str], bold: bool = False) -> None:
        for column, text in enumerate(values):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if bold:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(row, column, item)


def scores_directly(model) -> bool:
    """A likelihood that needs no importance weights (an autoregressive model's exact NLL, a
    diffusion model's variational bound): scored as the model gives it."""
    return isinstance(model, DensityModel) and not importance_weighted(model)


def _fmt(value: float, digits: int = 2) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:,.{digits}f}"
