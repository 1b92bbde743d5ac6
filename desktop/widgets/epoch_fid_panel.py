"""Evaluate ▸ FID per epoch: FID of every per-epoch decoder snapshot of the open checkpoint.

The numbers come from ``genai_engine.analysis.timeline_fid`` on the worker pool; each epoch's
row arrives on a progress record, so the table and the FID-against-epoch plot fill in while
the run goes. The settings (real images, N, feature network, seed, device) are the Evaluate
tab's: the tab hands over a request when the run starts and says, through ``set_problem``,
when those settings cannot be used.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.state import AppState
from desktop.widgets.evaluation_history import COMPARABILITY_NOTE, export_with_dialog, show_export
from desktop.widgets.result_stamp import ResultStamp
from desktop.widgets.task_bar import TaskBar
from genai_engine.analysis.timeline_fid import (
    EpochFid,
    TimelineFidProgress,
    TimelineFidResult,
    has_timeline,
    timeline_fid,
)
from genai_engine.checkpoints import Checkpoint
from genai_engine.data import Dataset
from genai_engine.metrics.evaluate import EvalProgress

COLUMNS = (("Epoch", "The training epoch whose decoder made the samples"),
           ("FID", "Fréchet distance to the real images: lower is better. " + COMPARABILITY_NOTE),
           ("KID ×10³", "Kernel inception distance (mean over subsets), times 1000: lower is "
                        "better"),
           ("N", "Generated samples per epoch (the same latent points every epoch)"))
STAGE_SPANS = {"loading": (0.0, 0.02), "real features": (0.02, 0.15), "epoch": (0.15, 1.0)}
NO_CHECKPOINT = "Open a checkpoint (or train one) to measure FID at each of its epochs."
NO_TIMELINE = ("This checkpoint keeps no per-epoch snapshots (it was saved by an older "
               "version), so there is no FID per epoch. Train again to record them.")
READY_TIP = ("FID of the decoder after each training epoch, on the same prior samples, with "
             "the settings on the left (real images, N per epoch, features, seed)")


@dataclass
class EpochFidRequest:
    """A run's settings, captured in the GUI thread."""

    checkpoint: Checkpoint
    checkpoint_name: str
    real: object  # a Dataset (its ``real_split``) or a built-in name / folder / file
    real_split: str
    real_text: str
    n: int
    seed: int
    features: str
    kid: bool
    device: str
    inception_weights: str | None = None
    domain_weights: str | None = None


@dataclass
class EpochFidRow:
    """One exported line: an epoch's numbers with what they were measured on."""

    checkpoint: str
    epoch: int
    fid: float
    kid_mean: float
    kid_std: float
    n_fake: int
    n_real: int
    real: str
    features: str
    features_label: str
    seed: int
    seconds: float


def _num(value) -> float:
    return math.nan if value is None else float(value)


def _fmt(value: float, digits: int = 2) -> str:
    return "—" if not math.isfinite(value) else f"{value:,.{digits}f}"


class EpochFidPanel(QWidget):
    finished = Signal(object)  # TimelineFidResult of a completed run
    exported = Signal(bool, str)  # CSV export: success, message

    def __init__(self, state: AppState, request_source, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self._request_source = request_source  # () -> EpochFidRequest
        self._problem: str | None = None  # from the Evaluate tab's settings
        self._request: EpochFidRequest | None = None
        self.result: TimelineFidResult | None = None
        self.rows: list[EpochFidRow] = []
        self._label = ""

        self.task = TaskBar("Measure every epoch")
        self.task.run_button.setDefault(False)
        self.task.progress.setMaximumHeight(16)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([name for name, _ in COLUMNS])
        for column, (_, tip) in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

        self.plot = pg.PlotWidget()  # right-click: Export…
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "FID (lower is better)")
        self.plot.setToolTip(COMPARABILITY_NOTE)
        self.curve = self.plot.plot([], [], pen=pg.mkPen(style.BLUE, width=2), symbol="o",
                                    symbolSize=8, symbolBrush=style.BLUE, symbolPen=None)
        self.empty_text = pg.TextItem("Press “Measure every epoch” to see FID\nfall as the "
                                      "model trained", anchor=(0.5, 0.5))
        self.plot.addItem(self.empty_text)
        self._set_title()
        style.keep_plot_styled(self.plot, lambda: self.empty_text.setColor(style.muted_colour()))

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: palette(placeholder-text)")
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_message = QLabel()
        self.export_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.plot)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 600])
        bottom = QHBoxLayout()
        bottom.addWidget(self.caption, 1)
        bottom.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addWidget(self.task)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        self.stamp = ResultStamp(state)
        layout.addWidget(self.stamp)
        layout.addWidget(self.export_message)
        self.export_message.setVisible(False)

        self.task.run_clicked.connect(self.start)
        self.export_button.clicked.connect(lambda: self.export_csv())
        state.checkpoint_changed.connect(self._update_ready)
        state.model_changed.connect(self._update_ready)
        self._show_rows()
        self._update_ready()

    # -- readiness ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.task.running

    def set_problem(self, problem: str | None) -> None:
        """Why the Evaluate tab's settings cannot be used now (None: they can)."""
        self._problem = problem
        self._update_ready()

    def problem(self) -> str | None:
        checkpoint = self.state.checkpoint
        if checkpoint is None:
            return NO_CHECKPOINT
        if not has_timeline(checkpoint):
            return NO_TIMELINE
        return self._problem

    def _update_ready(self, *_args) -> None:
        problem = self.problem()
        self.task.set_ready(problem is None, problem or "")
        if problem is None:
            self.task.run_button.setToolTip(READY_TIP)
            if not self.running and not self.rows:
                epochs = len(self.state.checkpoint.timeline)
                self.task.message.setText(
                    f"This checkpoint keeps {epochs} per-epoch snapshot"
                    f"{'s' if epochs != 1 else ''}; each is measured on N prior samples with "
                    "the settings on the left.")

    # -- running -----------------------------------------------------------------------------
    def start(self):
        """Start a run with the Evaluate tab's settings; returns its handle (None: not now)."""
        if self.running or self.problem() is not None:
            return None
        request = self._request_source()
        if request.real == "":
            self.task.message.setText("Choose the folder or file to read the real images from.")
            return None
        self._request, self.result, self.rows = request, None, []
        self._label = ""
        self._show_rows()
        self._set_title(request)
        self.export_message.clear()
        self.export_message.setVisible(False)
        self.caption.setText(f"{html.escape(request.checkpoint_name)} against "
                             f"{html.escape(request.real_text)}, N = {request.n:,} per epoch, "
                             f"seed {request.seed}.")
        self.stamp.stamp(self.state.checkpoint_model,
                         request.real if isinstance(request.real, Dataset) else None)
        self.state.status_message.emit("Measuring FID per epoch…")
        return self.task.submit(
            self.state.runner, "Evaluate: FID per epoch",
            lambda control: timeline_fid(
                request.checkpoint, request.real, n=request.n, features=request.features,
                real_split=request.real_split, seed=request.seed, kid=request.kid,
                inception_weights=request.inception_weights,
                domain_weights=request.domain_weights, device=request.device, control=control),
            text="Starting…", on_progress=self._on_record, on_finished=self._on_finished,
            on_error=self._on_error, on_cancelled=self._on_cancelled)

    def cancel(self) -> None:
        self.task.cancel()

    def _on_record(self, record) -> None:
        if isinstance(record, TimelineFidResult):
            self.result = record
            return
        if not isinstance(record, EvalProgress) or record.stage not in STAGE_SPANS:
            return
        if record.stage == "loading" and record.done and record.message.startswith("features: "):
            self._label = record.message[len("features: "):]
        low, high = STAGE_SPANS[record.stage]
        fraction = low + (high - low) * min(1.0, record.fraction)
        text = record.message[:1].upper() + record.message[1:]
        if isinstance(record, TimelineFidProgress):
            epochs = len(self._request.checkpoint.timeline)
            finished = len(self.rows) + (record.row is not None)
            text = f"Epoch {record.epoch} ({finished} of {epochs} done) · {record.seconds:.0f} s"
            if finished and finished < epochs:  # epochs cost about the same: extrapolate
                left = record.seconds / finished * (epochs - finished)
                text += f", about {left:.0f} s left"
            if record.row is not None:
                self._add(record.row, record.seconds)
        self.task.set_progress(fraction, text)

    def _add(self, epoch_fid: EpochFid, seconds: float) -> None:
        request = self._request
        self.rows.append(EpochFidRow(
            checkpoint=request.checkpoint_name, epoch=epoch_fid.epoch, fid=epoch_fid.fid,
            kid_mean=_num(epoch_fid.kid_mean), kid_std=_num(epoch_fid.kid_std),
            n_fake=epoch_fid.n, n_real=0, real=request.real_text, features=request.features,
            features_label=self._label, seed=request.seed, seconds=epoch_fid.seconds))
        self._show_rows()

    def _on_finished(self, _last) -> None:
        result = self.result
        if result is None:
            self.task.set_progress(0.0, "The run ended without a result.")
            return
        for row in self.rows:
            row.n_real, row.features_label = result.n_real, result.feature_label
        self._show_rows()
        best = min(result.rows, key=lambda row: row.fid)
        self.task.set_progress(0.0, f"Done: {len(result.rows)} epochs in {result.seconds:.1f} s. "
                               f"Lowest FID {best.fid:.2f} at epoch {best.epoch}.")
        warnings = "".join(f" ⚠ {html.escape(w)}." for w in result.warnings)
        self.caption.setText(
            f"{html.escape(self._request.checkpoint_name)} against "
            f"{html.escape(self._request.real_text)} ({result.n_real:,} images), N = "
            f"{result.n_fake:,} per epoch, seed {result.seed}. Features: "
            f"{html.escape(result.feature_label)}.{warnings}")
        self.state.status_message.emit(f"FID per epoch: {len(result.rows)} epochs, lowest "
                                       f"{best.fid:.2f} at epoch {best.epoch}")
        self.finished.emit(result)

    def _on_cancelled(self) -> None:
        done = len(self.rows)
        self.task.set_progress(0.0, f"Cancelled after {done} epoch{'s' if done != 1 else ''}; "
                               "the table keeps them." if done else "Cancelled.")
        self.state.status_message.emit("FID per epoch cancelled")

    def _on_error(self, message: str) -> None:
        self.task.set_progress(0.0, "Failed.")
        self.state.status_message.emit("FID per epoch failed")
        self.state.error.emit("FID per epoch failed", message)

    # -- display -----------------------------------------------------------------------------
    def _set_title(self, request: EpochFidRequest | None = None) -> None:
        title = "FID per epoch" if request is None else (
            f"FID per epoch · {request.features} features, N = {request.n:,}")
        self.plot.setTitle(title, color=style.text_colour().name(), size="10pt")

    def _show_rows(self) -> None:
        rows = self.rows
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            values = ((str(row.epoch), row.epoch), (_fmt(row.fid), row.fid),
                      (_fmt(row.kid_mean * 1e3), row.kid_mean), (f"{row.n_fake:,}", row.n_fake))
            for column, (text, value) in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, value)  # the engine's number, unrounded
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 2 and math.isfinite(row.kid_std):
                    item.setToolTip(f"KID {row.kid_mean:.5f} ± {row.kid_std:.5f}")
                self.table.setItem(index, column, item)
        if rows:
            self.table.scrollToItem(self.table.item(len(rows) - 1, 0))
        self.curve.setData([row.epoch for row in rows], [row.fid for row in rows])
        self.plot.getAxis("bottom").setTicks(
            [[(row.epoch, str(row.epoch)) for row in rows]] if 0 < len(rows) <= 20 else None)
        self.empty_text.setVisible(not rows)
        if rows:
            self.plot.enableAutoRange()
        else:
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1))
            self.empty_text.setPos(0.5, 0.5)
        self.export_button.setEnabled(bool(rows))

    # -- export ------------------------------------------------------------------------------
    def export_csv(self, path: str | None = None) -> Path | None:
        """Write the rows shown as CSV; ``path=None`` asks with a file dialog."""
        outcome = export_with_dialog(self, self.rows, path, row_type=EpochFidRow,
                                     title="Export FID per epoch", file_name="fid_per_epoch.csv",
                                     noun="epochs")
        if outcome is None:
            return None
        ok, message, target = outcome
        show_export(self.export_message, self.state, ok, message)
        self.export_message.setVisible(True)
        self.exported.emit(ok, message)
        return target
