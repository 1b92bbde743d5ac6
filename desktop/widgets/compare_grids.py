"""Compare ▸ the sample grids side by side, one per model, drawn from the same seeds."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.widgets.pixel_label import PixelLabel
from genai_engine.analysis.compare import ComparisonResult
from genai_engine.sampling import image_grid

COLUMNS = 4


class CompareGrids(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.images: list[QLabel] = []

    def set_result(self, result: ComparisonResult | None) -> None:
        while self.row.count():
            item = self.row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.images = []
        if result is None:
            return
        for model in result.rows:
            if not len(model.grid):
                continue
            grid = image_grid(model.grid, COLUMNS)
            scale = max(1, min(3, 160 // max(grid.shape[0], 1)))
            picture = PixelLabel(grid, scale)
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            picture.setToolTip(f"{model.label}: the first {len(model.grid)} of the {result.n:,} samples "
                               f"(seed {result.seed})")
            caption = QLabel(f"<b>{model.label}</b>")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            column = QVBoxLayout()
            column.addWidget(caption)
            column.addWidget(picture)
            holder = QWidget()
            holder.setLayout(column)
            self.row.addWidget(holder)
            self.images.append(picture)
        self.row.addStretch(1)
