"""The Compare tab: up to four models of any families, measured alike on the same data.

A thin view over ``genai_engine.analysis.compare`` (and ``train_all``), composed of panels:

- **Models** (``CompareModelsPanel``): the checkpoints, samples per model, seed and the Run bar;
  a dataset mismatch shows its reason in place. "Train all four…" trains one model of each
  family on the open dataset within a time budget, then compares them.
- **Table** (``CompareTable``): one column per model, one row per measure.
- **Samples** (``CompareGrids``): a grid per model from the same seeds.
- **Guide** (``DecisionGuideView``): the course's decision guide as measured here.

Every run's result is kept with the settings that produced it (``results``); Export writes the
latest as HTML or CSV.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.state import AppState
from desktop.widgets.compare_grids import CompareGrids
from desktop.widgets.compare_models import CompareModelsPanel
from desktop.widgets.compare_table import CompareTable
from desktop.widgets.decision_guide_view import DecisionGuideView
from desktop.widgets.train_all_dialog import TrainAllDialog
from genai_engine.analysis.compare import CompareProgress, ComparisonResult, compare
from genai_engine.analysis.train_all import FamilyRecord, TrainAllDone, train_all
from genai_engine.training import TrainingDone

TITLE = "Compare"


class CompareTab(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.results: list[ComparisonResult] = []  # every run, with its own n, seed and models
        self.trained: dict[str, str] = {}  # family -> checkpoint of the latest "Train all four"

        self.models = CompareModelsPanel(state)
        self.table = CompareTable()
        self.grids = CompareGrids()
        self.guide = DecisionGuideView()
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("The latest comparison as an HTML page (table, grids, guide) or CSV")
        self.export_button.setEnabled(False)

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.models)
        guide_box = QGroupBox("Which family for which task?")
        guide_layout = QVBoxLayout(guide_box)
        guide_scroll = QScrollArea()
        guide_scroll.setWidgetResizable(True)
        guide_scroll.setWidget(self.guide)
        guide_layout.addWidget(guide_scroll)
        side.addWidget(guide_box, 1)
        side.addWidget(self.export_button)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(380)

        grids_scroll = QScrollArea()
        grids_scroll.setWidgetResizable(True)
        grids_scroll.setWidget(self.grids)
        grids_scroll.setMinimumHeight(200)
        right = QSplitter()
        right.setOrientation(right.orientation().Vertical)
        right.addWidget(self.table)
        right.addWidget(grids_scroll)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(side_widget)
        layout.addWidget(right, 1)

        self.models.task.run_clicked.connect(self.run)
        self.models.train_all_button.clicked.connect(self._ask_train_all)
        self.export_button.clicked.connect(self._export_dialog)

    @property
    def task(self):
        return self.models.task

    # --- compare ---------------------------------------------------------------------------
    def run(self) -> None:
        checkpoints = list(self.models.checkpoints)
        if not checkpoints or self.task.running or self.models.mismatch():
            return
        opened = self.state.dataset
        fingerprint = next((c.dataset.get("fingerprint") for c in checkpoints
                            if c.dataset.get("fingerprint")), None)
        # the open dataset when the models were trained on it, else the one they record
        dataset = opened if opened is not None and opened.fingerprint == fingerprint else None
        n, seed, device = self.models.n_spin.value(), self.models.seed_spin.value(), self.state.device

        def work(control):
            from genai_engine.devices import resolve_device

            # Inception FID (when installed) only on a GPU: on a CPU it takes minutes per model
            return compare(checkpoints, dataset, n=n, seed=seed, device=device, control=control,
                           inception=resolve_device(device).type == "cuda")

        self.task.submit(self.state.runner, "Compare", work,
                         text=f"Measuring {len(checkpoints)} models on {n:,} samples each…",
                         on_progress=self._on_compare_record, on_finished=self._on_compared,
                         on_error=self._on_error, on_cancelled=self._on_cancelled)
        self.models.refresh()

    def _on_compare_record(self, record) -> None:
        if isinstance(record, CompareProgress):
            self.task.set_progress(record.fraction, record.message)

    def _on_compared(self, result) -> None:
        self.models.refresh()
        if not isinstance(result, ComparisonResult):
            return
        self.results.append(result)
        self.task.set_progress(1.0, f"Done in {result.seconds:.1f} s ({result.n:,} samples per model, "
                               f"seed {result.seed}).")
        self.show_result(result)

    def show_result(self, result: ComparisonResult | None) -> None:
        self.table.set_result(result)
        self.grids.set_result(result)
        self.guide.set_result(result)
        self.export_button.setEnabled(result is not None)

    def _on_error(self, message: str) -> None:
        self.models.refresh()
        self.task.set_progress(0.0, "Failed.")
        self.state.error.emit("Compare failed", message)

    def _on_cancelled(self) -> None:
        self.models.refresh()
        self.task.set_progress(0.0, "Cancelled.")

    # --- train all four --------------------------------------------------------------------
    def _ask_train_all(self) -> None:
        if self.state.dataset is None:
            return
        dialog = TrainAllDialog(self.state.dataset.name, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.families():
            self.train_all(dialog.budget_s(), dialog.families())

    def train_all(self, budget_s: float, families: list[str]) -> None:
        """Train ``families`` on the open dataset, ``budget_s`` each, then compare them."""
        from desktop.run_folders import new_run_dir

        dataset = self.state.dataset
        if dataset is None or self.task.running:
            return
        out_dir = new_run_dir(f"compare-{dataset.name}")
        device = self.state.device
        self.trained = {}

        def work(control):
            return train_all(dataset, families, budget_s=budget_s, out_dir=out_dir, device=device,
                             control=control)

        self.task.submit(self.state.runner, "Compare: train all", work,
                         text=f"Training {len(families)} families, {budget_s:.0f} s each…",
                         on_progress=self._on_train_record, on_finished=self._on_trained,
                         on_error=self._on_error, on_cancelled=self._on_train_cancelled)
        self.models.refresh()

    def _on_train_record(self, record) -> None:
        if isinstance(record, FamilyRecord):
            if isinstance(record.record, TrainingDone) and record.record.checkpoint:
                self.trained[record.family] = record.record.checkpoint
            self.task.set_progress(record.fraction, f"Training {record.family} ({record.index + 1} of "
                                   f"{record.count}): {record.seconds:.0f} of {record.budget_s:.0f} s")

    def _load_trained(self, paths) -> None:
        from genai_engine.checkpoints import load_checkpoint

        self.models.set_checkpoints([load_checkpoint(p) for p in paths])

    def _on_trained(self, done) -> None:
        self.models.refresh()
        if isinstance(done, TrainAllDone) and done.checkpoints:
            self._load_trained(done.checkpoints.values())
            self.run()

    def _on_train_cancelled(self) -> None:
        self._on_cancelled()
        if self.trained:  # the checkpoints saved so far are kept: compare them when you like
            self._load_trained(self.trained.values())
            self.task.set_progress(0.0, "Cancelled; the checkpoints trained so far are in the list.")

    # --- export ----------------------------------------------------------------------------
    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the comparison", "comparison.html",
                                              "HTML page (*.html);;CSV table (*.csv)")
        if path:
            self.export(path)

    def export(self, path) -> Path | None:
        from genai_engine.analysis.compare_report import write_comparison_csv, write_comparison_html
        from genai_engine.errors import GenAIError

        if not self.results:
            return None
        write = write_comparison_csv if str(path).lower().endswith(".csv") else write_comparison_html
        try:
            return write(self.results[-1], path)
        except (GenAIError, OSError) as error:
            self.state.error.emit("Export failed", str(error))
            return None
