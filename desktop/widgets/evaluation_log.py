"""The Evaluate tab's results side: the latest result, FID over time and the saved history.

Every completed evaluation is appended to the history file; the table and the plot follow it,
selecting a row shows that result, and the history exports as CSV or is cleared. Further
result views (FID per epoch) are added as tabs beside the history.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.state import AppState
from desktop.widgets.evaluation_history import (
    FidPlot,
    HistoryModel,
    HistoryRow,
    export_with_dialog,
    load_history,
    save_history,
    show_export,
)
from desktop.widgets.evaluation_result import EvaluationResult


class EvaluationLog(QWidget):
    exported = Signal(bool, str)  # CSV export: success, message

    def __init__(self, state: AppState, history_path: Path, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.history_path = history_path
        self.result_view = EvaluationResult()
        self.history = HistoryModel(self)
        self.table = QTableView()
        self.table.setModel(self.history)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.viewport().installEventFilter(self)
        self.plot = FidPlot()
        self.export_button = QPushButton("Export CSV…")
        self.clear_button = QPushButton("Clear history")
        self.export_message = QLabel()
        self.export_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QSplitter(Qt.Orientation.Horizontal)
        result_holder = QGroupBox("Latest result")
        QVBoxLayout(result_holder).addWidget(self.result_view)
        top.addWidget(result_holder)
        top.addWidget(self.plot)
        top.setSizes([480, 420])
        history_group = QWidget()  # the tab names it
        history_layout = QVBoxLayout(history_group)
        history_layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_message, 1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.clear_button)
        history_layout.addLayout(buttons)
        self.results_tabs = QTabWidget()
        self.results_tabs.addTab(history_group, "History")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(self.results_tabs)
        right.setSizes([330, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(right)

        self.export_button.clicked.connect(lambda: self.export_csv())
        self.clear_button.clicked.connect(self.clear_history)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_selected)
        # The row of this session's latest run and the model it sampled: unsaved weights have
        # no name to match a row by, so the row is of the open model while that model is open.
        self._live: tuple[HistoryRow, object] | None = None
        for signal in (state.model_changed, state.dataset_changed, state.checkpoint_changed):
            signal.connect(self._mark_stale)
        self._set_rows(load_history(self.history_path))

    def add(self, row: HistoryRow, model=None) -> None:
        """Record a completed evaluation of ``model``: saved, plotted, selected and shown."""
        self._live = (row, model)
        self.history.append(row)
        save_history(self.history.rows, self.history_path)
        self.plot.set_rows(self.history.rows)
        self._fit_columns()
        self.table.selectRow(len(self.history.rows) - 1)
        self.table.scrollToBottom()
        self.result_view.show_row(row)
        self._mark_stale()

    def _set_rows(self, rows: list[HistoryRow]) -> None:
        self.history.set_rows(rows)
        self.plot.set_rows(rows)
        self._fit_columns()
        if rows:
            self.result_view.show_row(rows[-1])
            self.table.selectRow(len(rows) - 1)
            self._mark_stale()
        else:
            self.result_view.clear()

    def _fit_columns(self) -> None:
        """Numbers fit exactly; the checkpoint and data names share what is left."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        spare = self.table.viewport().width() - header.length()
        if spare < 0:
            for column in (1, 3):  # long names: elide in the middle, full text in tooltips
                header.resizeSection(column, max(90, header.sectionSize(column) + spare // 2))
        else:
            header.resizeSection(1, header.sectionSize(1) + spare)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _on_row_selected(self, current, _previous) -> None:
        if current.isValid() and current.row() < len(self.history.rows):
            self.result_view.show_row(self.history.rows[current.row()])
            self._mark_stale()

    def measures_open_model(self, row: HistoryRow) -> bool:
        """Whether ``row`` measured the model and dataset open now."""
        dataset = self.state.dataset
        if row.real.endswith((" (test)", " (train)")) and (
                dataset is None or row.real != f"{dataset.name} ({row.real.rsplit(' (', 1)[1]}"):
            return False
        if row.model == "—":
            return True
        who = self.state.model_identity()
        if who is not None and who.saved and (row.model, row.epoch) == (who.name, who.epoch):
            return True
        return self._live is not None and self._live[0] is row and self.state.model is self._live[1]

    def _mark_stale(self, *_args) -> None:
        row = self.result_view.row
        if row is not None:
            self.result_view.set_stale(not self.measures_open_model(row))

    def clear_history(self, confirm: bool = True) -> None:
        if not self.history.rows:
            return
        if confirm and QMessageBox.question(
                self, "Clear history", f"Forget all {len(self.history.rows)} evaluations?"
        ) != QMessageBox.StandardButton.Yes:
            return
        self._set_rows([])
        save_history([], self.history_path)

    def export_csv(self, path: str | None = None) -> Path | None:
        """Write the history as CSV; ``path=None`` asks with a file dialog."""
        outcome = export_with_dialog(self, self.history.rows, path)
        if outcome is None:
            return None
        ok, message, target = outcome
        show_export(self.export_message, self.state, ok, message)
        self.exported.emit(ok, message)
        return target
