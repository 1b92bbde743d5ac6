"""The latest evaluation at a glance: FID large, the other metrics beside it, warnings in view."""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from desktop import style
from desktop.widgets.evaluation_history import COMPARABILITY_NOTE, HistoryRow


def _fmt(value: float, digits: int = 2) -> str:
    return "—" if not math.isfinite(value) else f"{value:.{digits}f}"


class MetricTile(QFrame):
    """A small captioned number."""

    def __init__(self, caption: str, tooltip: str, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setToolTip(tooltip)
        self.value = QLabel("—")
        self.value.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.detail = QLabel("")
        self.detail.setStyleSheet("color: palette(placeholder-text);")
        caption_label = QLabel(caption)
        caption_label.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(0)
        layout.addWidget(caption_label)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)

    def set(self, value: str, detail: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)


class EvaluationResult(QWidget):
    """Shows one ``HistoryRow``: FID with its interval, KID, IS, precision/recall, sample
    counts, the feature network, and any warnings (e.g. too few samples)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.stale = False  # the row measured a model or dataset that is no longer open
        self.model_label = QLabel()  # which model the numbers are of
        self.model_label.setWordWrap(True)
        style.keep_styled(self.model_label, self._style_model_label)
        self.fid_caption = QLabel("FID")
        self.fid_caption.setStyleSheet("color: palette(placeholder-text);")
        self.fid_value = QLabel("—")
        self.fid_value.setStyleSheet("font-size: 30pt; font-weight: 700;")
        self.fid_value.setToolTip("Fréchet distance between the real and generated feature "
                                  "distributions: lower is better. " + COMPARABILITY_NOTE)
        self.fid_interval = QLabel("")
        self.fid_interval.setToolTip("95% bootstrap interval: how much FID moves when the "
                                     "same number of samples is drawn again")
        self.kid_tile = MetricTile("KID ×10³", "Kernel inception distance (unbiased, polynomial "
                                   "kernel), mean ± std over subsets, times 1000. Lower is "
                                   "better; unlike FID it is not biased by small N.")
        self.is_tile = MetricTile("IS", "Inception score from the feature network's classifier "
                                  "(higher: confident and varied classes)")
        self.precision_tile = MetricTile("Precision", "Share of samples on the real images' "
                                         "manifold (k-NN balls): fidelity")
        self.recall_tile = MetricTile("Recall", "Share of real images on the samples' "
                                      "manifold: diversity")
        self.features_label = QLabel()
        self.features_label.setWordWrap(True)
        self.features_label.setToolTip(COMPARABILITY_NOTE)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        style.set_notice(self.warning_label, "warning", extra="padding: 6px;")
        self.warning_label.setVisible(False)
        self.placeholder = QLabel("Run an evaluation to measure the model: FID, KID, Inception "
                                  "score, precision and recall appear here.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: palette(placeholder-text);")

        fid_box = QVBoxLayout()
        fid_box.setSpacing(0)
        fid_box.addWidget(self.fid_caption)
        fid_box.addWidget(self.fid_value)
        fid_box.addWidget(self.fid_interval)
        fid_box.addStretch(1)
        tiles = QGridLayout()
        tiles.addWidget(self.kid_tile, 0, 0)
        tiles.addWidget(self.is_tile, 0, 1)
        tiles.addWidget(self.precision_tile, 1, 0)
        tiles.addWidget(self.recall_tile, 1, 1)
        self.numbers = QWidget()  # hidden until there is a result
        top = QGridLayout(self.numbers)
        top.setContentsMargins(0, 0, 0, 0)
        top.addLayout(fid_box, 0, 0)
        top.addLayout(tiles, 0, 1)
        top.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.model_label)
        layout.addWidget(self.numbers)
        layout.addWidget(self.features_label)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.warning_label)
        layout.addStretch(1)
        self.row: HistoryRow | None = None
        self.clear()

    def clear(self) -> None:
        self.row = None
        self.placeholder.setVisible(True)
        self.numbers.setVisible(False)
        self.model_label.setVisible(False)
        for widget in (self.fid_value, self.fid_interval, self.features_label, self.counts_label):
            widget.setText("—" if widget is self.fid_value else "")
        for tile in (self.kid_tile, self.is_tile, self.precision_tile, self.recall_tile):
            tile.set("—")
        self.warning_label.setVisible(False)

    def show_row(self, row: HistoryRow) -> None:
        self.row = row
        self.placeholder.setVisible(False)
        self.numbers.setVisible(True)
        self.fid_caption.setText(f"FID ({row.features} features)")
        self.fid_value.setText(_fmt(row.fid))
        if math.isfinite(row.fid_low) and math.isfinite(row.fid_high):
            self.fid_interval.setText(f"95% interval {row.fid_low:.2f} – {row.fid_high:.2f}")
        else:
            self.fid_interval.setText("")
        kid_detail = f"± {row.kid_std * 1e3:.2f}" if math.isfinite(row.kid_std) else ""
        self.kid_tile.set(_fmt(row.kid_mean * 1e3), kid_detail)
        self.is_tile.set(_fmt(row.inception_score))
        self.precision_tile.set(_fmt(row.precision, 3))
        self.recall_tile.set(_fmt(row.recall, 3))
        self.features_label.setText(f"<b>Feature network:</b> {html.escape(row.features_label)}")
        took = f" · {row.seconds:.1f} s" if math.isfinite(row.seconds) else ""
        self.counts_label.setText(
            f"<b>Real:</b> {html.escape(row.real)}, N = {row.n_real:,} · "
            f"<b>Generated:</b> {html.escape(row.fake)}, N = {row.n_fake:,}{took}")
        self.warning_label.setText("⚠ " + row.warnings if row.warnings else "")
        self.warning_label.setVisible(bool(row.warnings))
        self.warning_label.setTextFormat(Qt.TextFormat.PlainText)
        self.set_stale(self.stale)

    def set_stale(self, stale: bool) -> None:
        """Name the measured model, marked when it is not the model open now."""
        self.stale = stale
        row = self.row
        if row is None:
            return
        if row.model == "—":  # generated images read from files: no model to name
            self.model_label.setVisible(False)
            return
        epoch = f", epoch {row.epoch}" if row.epoch is not None else ""
        text = f"Measured for <b>{html.escape(row.model)}{epoch}</b> on {html.escape(row.real)}"
        self.model_label.setText(text + (": an earlier model or dataset, not the one open now."
                                         if stale else "."))
        self._style_model_label()
        self.model_label.setVisible(True)

    def _style_model_label(self) -> None:
        self.model_label.setStyleSheet(style.notice_sheet("warning") if self.stale
                                       else f"QLabel {{ color: {style.muted_colour().name()}; }}")
