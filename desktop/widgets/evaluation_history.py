"""The record of evaluation runs: a table model, a FID-over-epochs plot, CSV and JSON files.

Rows are plain dictionaries of numbers and strings, so they go to CSV and JSON unchanged. The
history persists in the user's data folder (a small JSON file), so FID over a run's epochs can
be followed across sessions.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QFileDialog

from desktop import style
from genai_engine.files import atomic_write_text

log = logging.getLogger(__name__)

COMPARABILITY_NOTE = (
    "FIDs only compare when they use the same feature network and similar sample counts. "
    "Domain-network FIDs do not compare with Inception FIDs, nor with FIDs published by other "
    "tools (which use Inception).")


@dataclass
class HistoryRow:
    when: str  # local time the run finished, ISO 8601 (seconds)
    model: str  # checkpoint file (or its run folder), or the generated-images path
    epoch: int | None
    real: str  # e.g. "fashion-mnist (test)"
    fake: str  # e.g. "model samples (seed 0)" or a folder
    features: str  # short network name: "domain" / "inception"
    features_label: str  # the engine's full label of the network
    n_real: int
    n_fake: int
    fid: float
    fid_low: float = math.nan  # bootstrap confidence interval
    fid_high: float = math.nan
    kid_mean: float = math.nan
    kid_std: float = math.nan
    inception_score: float = math.nan
    precision: float = math.nan
    recall: float = math.nan
    seconds: float = math.nan
    warnings: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> HistoryRow:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("fid_low", "fid_high", "kid_mean", "kid_std", "inception_score",
                     "precision", "recall", "seconds"):
            values[name] = _float(values.get(name))
        values["fid"] = _float(values.get("fid"))
        epoch = values.get("epoch")
        values["epoch"] = None if epoch in (None, "") else int(epoch)
        return cls(**values)


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _short_time(when: str) -> str:
    """'2026-11-25T12:17:33' -> '11-25 12:17' (the full time is in the CSV)."""
    date, _, clock = when.partition("T")
    return f"{date[5:]} {clock[:5]}".strip() if clock else when


def _fmt(value: float, digits: int = 2) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


# (header, tooltip, text of a row)
COLUMNS = (
    ("When", "When the evaluation finished", lambda r: _short_time(r.when)),
    ("Checkpoint", "The model (checkpoint) or image folder that was evaluated",
     lambda r: r.model),
    ("Epoch", "The checkpoint's training epoch", lambda r: "—" if r.epoch is None else str(r.epoch)),
    ("Real data", "The images the samples were compared with", lambda r: r.real),
    ("Features", "The feature network. " + COMPARABILITY_NOTE, lambda r: r.features),
    ("N", "Generated samples (real images in the tooltip)", lambda r: f"{r.n_fake:,}"),
    ("FID", "Fréchet distance: lower is better. " + COMPARABILITY_NOTE, lambda r: _fmt(r.fid)),
    ("KID ×10³", "Kernel inception distance (mean), times 1000: lower is better",
     lambda r: _fmt(r.kid_mean * 1e3, 2)),
    ("IS", "Inception score from the feature network's classifier: higher is better",
     lambda r: _fmt(r.inception_score)),
    ("Precision", "Share of samples that fall on the real data's manifold (fidelity)",
     lambda r: _fmt(r.precision, 3)),
    ("Recall", "Share of real images covered by the samples' manifold (diversity)",
     lambda r: _fmt(r.recall, 3)),
    ("Time (s)", "How long the evaluation took", lambda r: _fmt(r.seconds, 1)),
)
FID_COLUMN = 6


class HistoryModel(QAbstractTableModel):
    """Evaluation runs, newest last; the view shows them newest first via a sort."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[HistoryRow] = []

    def rowCount(self, parent=None) -> int:  # noqa: N802 - Qt override
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent=None) -> int:  # noqa: N802 - Qt override
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][1]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[column][2](row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and row.warnings and column == FID_COLUMN:
            return style.warning_colour()
        return None

    @staticmethod
    def _tooltip(row: HistoryRow, column: int) -> str:
        lines = [f"Features: {row.features_label}", f"Real: {row.real}, N = {row.n_real:,}",
                 f"Generated: {row.fake}, N = {row.n_fake:,}"]
        if math.isfinite(row.fid_low) and math.isfinite(row.fid_high):
            lines.append(f"FID {row.fid:.2f}, 95% interval {row.fid_low:.2f}–{row.fid_high:.2f}")
        if math.isfinite(row.kid_mean):
            lines.append(f"KID {row.kid_mean:.5f} ± {row.kid_std:.5f}")
        if row.warnings:
            lines.append("Warning: " + row.warnings)
        if column == 0:
            lines.insert(0, row.when.replace("T", " "))
        if column in (4, FID_COLUMN):
            lines.append(COMPARABILITY_NOTE)
        return "\n".join(lines)

    def append(self, row: HistoryRow) -> None:
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
        self.rows.append(row)
        self.endInsertRows()

    def set_rows(self, rows: list[HistoryRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()


# -- files ----------------------------------------------------------------------------------
CSV_FIELDS = [f.name for f in fields(HistoryRow)]


def write_csv(rows: list, path: str | os.PathLike, row_type: type = HistoryRow) -> Path:
    """One line per row (dataclasses of ``row_type``, default evaluation runs) with every
    field; empty cells where a metric was not computed."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=[f.name for f in fields(row_type)])
    writer.writeheader()
    for row in rows:
        values = asdict(row)
        writer.writerow({k: ("" if isinstance(v, float) and not math.isfinite(v) else
                             "" if v is None else v) for k, v in values.items()})
    return atomic_write_text(path, text.getvalue())


def export_with_dialog(parent, rows: list, path: str | None, *, row_type: type = HistoryRow,
                       title: str = "Export evaluations", file_name: str = "evaluations.csv",
                       noun: str = "evaluations") -> tuple[bool, str, Path | None] | None:
    """Write ``rows`` as CSV to ``path`` (None: ask with a file dialog; a missing suffix
    becomes .csv). Returns (ok, message for the user, path written), or None when the user
    closed the dialog."""
    if not rows:
        return False, f"No {noun} to export yet.", None
    if path is None:
        path, _ = QFileDialog.getSaveFileName(parent, title, str(Path.home() / file_name),
                                              "CSV files (*.csv)")
        if not path:
            return None
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(".csv")
    try:
        write_csv(rows, target, row_type)
    except OSError as error:
        return False, f"Could not write {target}: {error.strerror or error}", None
    return True, f"Saved {len(rows)} {noun} to {target}", target


def show_export(label, state, ok: bool, message: str) -> None:
    """The outcome of an export: green or red in ``label``, in the status bar, and in an
    error dialog when it failed."""
    color = style.success_colour() if ok else style.error_colour()
    label.setText(style.span(html.escape(message), color))
    state.status_message.emit(message)
    if not ok:
        state.error.emit("Export failed", message)


def load_history(path: Path) -> list[HistoryRow]:
    """Rows saved by ``save_history``; a missing or damaged file gives an empty history."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [HistoryRow.from_dict(item) for item in data.get("runs", [])]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError, AttributeError) as error:
        log.warning("ignoring unreadable evaluation history %s: %s", path, error)
        return []


def save_history(rows: list[HistoryRow], path: Path) -> None:
    def clean(value):
        return None if isinstance(value, float) and not math.isfinite(value) else value

    payload = {"format": "genai-lab-evaluations", "version": 1,
               "runs": [{k: clean(v) for k, v in asdict(row).items()} for row in rows]}
    try:
        atomic_write_text(path, json.dumps(payload, indent=1))
    except OSError as error:  # the history is a convenience: never fail a run over it
        log.warning("could not save the evaluation history to %s: %s", path, error)


# -- plot -----------------------------------------------------------------------------------
SERIES_STYLES = ((style.BLUE, "o"), (style.RED, "s"), (style.GREEN, "t"), (style.PURPLE, "d"),
                 (style.ORANGE, "+"))


class FidPlot(pg.PlotWidget):
    """FID against epoch: one series per feature network, sample count and training run, since
    FIDs only compare within one."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)  # right-click: Export…
        self.hideButtons()
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setLabel("bottom", "epoch")
        self.setLabel("left", "FID (lower is better)")
        self.setTitle("FID over checkpoints", size="10pt")
        self.legend = self.addLegend(offset=(-10, 10))
        self.setToolTip(COMPARABILITY_NOTE + " Runs without an epoch (image folders) are not "
                        "plotted.")
        self.empty_text = pg.TextItem("Evaluate checkpoints of several epochs\nto follow FID "
                                      "as the model trains\n(or see “FID per epoch” below)",
                                      anchor=(0.5, 0.5))
        self.addItem(self.empty_text)
        style.keep_plot_styled(self, lambda: self.empty_text.setColor(style.muted_colour()))
        self.empty_text.setPos(0.5, 0.5)
        self.series: dict[tuple[str, int, str], pg.PlotDataItem] = {}

    def set_rows(self, rows: list[HistoryRow]) -> None:
        for item in self.series.values():
            self.removeItem(item)
        self.legend.clear()
        self.series.clear()
        groups: dict[tuple[str, int, str], dict[int, float]] = {}
        for row in rows:  # the latest run of an epoch wins
            if row.epoch is not None and math.isfinite(row.fid):
                key = (row.features, row.n_fake, _run_name(row.model))
                groups.setdefault(key, {})[row.epoch] = row.fid
        several_runs = len({run for _, _, run in groups}) > 1
        for number, (key, points) in enumerate(sorted(groups.items())):
            color, symbol = SERIES_STYLES[number % len(SERIES_STYLES)]
            epochs = sorted(points)
            features, n, run = key
            name = f"{features}, N={n:,}" + (f" · {run}" if several_runs else "")
            self.series[key] = self.plot(
                epochs, [points[e] for e in epochs], name=name, pen=pg.mkPen(color, width=2),
                symbol=symbol, symbolSize=8, symbolBrush=color, symbolPen=None)
        self.empty_text.setVisible(not groups)
        if groups:
            self.enableAutoRange()
        else:
            self.setRange(xRange=(0, 1), yRange=(0, 1))


def _run_name(model: str) -> str:
    """Checkpoints of one training run share a folder: group them by it."""
    path = Path(model)
    return path.parent.name if path.suffix == ".pt" and path.parent.name else path.name
