"""The same prompt and seed written at several temperatures, side by side: one column each.

The temperatures are typed as a list ("0.3, 0.7, 1.0, 1.5"); ``temperatures()`` reads them or
raises ``GenAIError`` naming what is wrong. One task writes every column in turn
(``text_stream.stream_work``), so the columns differ only by the temperature.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.widgets.text_knobs import TEMPERATURE_RANGE
from desktop.widgets.text_stream import StreamView, TextChunk
from genai_engine.errors import GenAIError

DEFAULT_TEMPERATURES = "0.3, 0.7, 1.0, 1.5"
MAX_COLUMNS = 6


def parse_temperatures(text: str) -> list[float]:
    """'0.3, 0.7, 1' -> [0.3, 0.7, 1.0], each within the temperature range, 1 to 6 of them."""
    low, high = TEMPERATURE_RANGE
    parts = [part for part in text.replace(";", ",").replace(" ", ",").split(",") if part]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise GenAIError(f"Temperatures: give numbers separated by commas, like {DEFAULT_TEMPERATURES}, "
                         f"not {text!r}") from None
    if not 1 <= len(values) <= MAX_COLUMNS:
        raise GenAIError(f"Temperatures: give 1 to {MAX_COLUMNS} of them, like {DEFAULT_TEMPERATURES}")
    outside = [v for v in values if not low <= v <= high]
    if outside:
        raise GenAIError(f"Temperatures: each must be from {low:g} to {high:g}, got {outside[0]:g}")
    return values


class TemperatureColumns(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(DEFAULT_TEMPERATURES)
        self.edit.setToolTip("The temperatures to compare, separated by commas")
        self.run_button = QPushButton("Write at each temperature")
        self.run_button.setObjectName("language_compare_temperatures")
        self.run_button.setToolTip("Write the prompt's continuation at each temperature, with the same "
                                   "seed, length, top-k and top-p")
        self.note = QLabel("Write the same prompt with the same seed at each temperature: low ones "
                           "repeat the likeliest words, high ones drift into invented spellings.")
        self.note.setWordWrap(True)
        style.set_text_colour(self.note, style.muted_colour)
        self.columns: list[StreamView] = []
        self.boxes: list[QGroupBox] = []
        self.row = QHBoxLayout()
        self.row.setSpacing(6)
        top = QHBoxLayout()
        top.addWidget(QLabel("Temperatures"))
        top.addWidget(self.edit, 1)
        top.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addLayout(self.row, 1)

    def temperatures(self) -> list[float]:
        return parse_temperatures(self.edit.text())

    def start(self, prompt: str, temperatures: list[float]) -> None:
        """One empty column per temperature, each starting with the prompt."""
        for box in self.boxes:
            self.row.removeWidget(box)
            box.deleteLater()
        self.columns, self.boxes = [], []
        for temperature in temperatures:
            box = QGroupBox(f"Temperature {temperature:g}")
            view = StreamView()
            view.start(prompt)
            inner = QVBoxLayout(box)
            inner.setContentsMargins(4, 4, 4, 4)
            inner.addWidget(view)
            self.row.addWidget(box, 1)
            self.columns.append(view)
            self.boxes.append(box)

    def add_chunk(self, chunk: TextChunk) -> None:
        self.columns[chunk.column].append_text(chunk.text)

    def clear(self) -> None:
        self.start("", [])
