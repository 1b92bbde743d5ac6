"""Compare ▸ the table: one column per model, one row per measure (``compare.table``)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from desktop import style
from genai_engine.analysis.compare import ComparisonResult, table

EMPTY_TEXT = ("Add up to four models (or the demo models) and press Compare: each model gets a "
              "column here, each measure a row, all measured alike on the same data; their samples "
              "appear below.")


class CompareTable(QTableWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("compare_table")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self.columnCount() == 0:  # the empty table says what will fill it
            painter = QPainter(self.viewport())
            painter.setPen(style.muted_colour())
            area = self.viewport().rect().adjusted(32, 32, -32, -32)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_TEXT)
            painter.end()

    def set_result(self, result: ComparisonResult | None) -> None:
        self.clear()
        if result is None:
            self.setRowCount(0)
            self.setColumnCount(0)
            return
        rows = table(result)
        self.setColumnCount(len(result.rows))
        self.setRowCount(len(rows))
        self.setHorizontalHeaderLabels([r.label for r in result.rows])
        self.setVerticalHeaderLabels([name for name, _ in rows])
        for i, (name, _cells) in enumerate(rows):
            if name.endswith(")") and "(" in name:  # the network a metric was computed with, in full
                self.verticalHeaderItem(i).setToolTip(result.feature_label)
        for i, (_name, cells) in enumerate(rows):
            for j, cell in enumerate(cells):
                item = QTableWidgetItem(cell)
                item.setToolTip(cell)
                self.setItem(i, j, item)
        for j, row in enumerate(result.rows):
            header = self.horizontalHeaderItem(j)
            header.setToolTip("\n".join([row.path, *row.notes]))
        self.resizeRowsToContents()

    def cell_text(self, measure: str, column: int) -> str:
        """The text of ``measure``'s row (its start) in ``column``, for tests and reading."""
        for i in range(self.rowCount()):
            if self.verticalHeaderItem(i).text().startswith(measure):
                return self.item(i, column).text()
        raise KeyError(measure)
