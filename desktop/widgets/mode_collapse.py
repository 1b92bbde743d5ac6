"""The mode-collapse monitor: which classes fresh samples fall into, and how that changes.

Fed by a family that measures ``class_histogram`` (the classes the domain classifier sees
in fresh samples) with the metrics ``coverage`` and ``diversity`` after each epoch. A
generator that collapses onto a few modes shows it here first: the histogram piles up on one
or two classes and coverage drops, and the panel says so in words.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop import style

LOW_COVERAGE = 0.5  # below this share of the classes the samples have collapsed
SHARP_DROP = 0.25  # or coverage fell this much below its best so far
COLORS = {"coverage": style.BLUE, "diversity": style.ORANGE}


def collapse_warning(coverage: list[float]) -> str | None:
    """A sentence when coverage collapsed (low, or dropping sharply), else None."""
    if not coverage:
        return None
    latest, best = coverage[-1], max(coverage)
    if latest < LOW_COVERAGE:
        return (f"Mode collapse: samples cover only {latest:.0%}\nof the classes. Try a smaller "
                "learning\nrate, hinge or wgan-gp, spectral norm.")
    if best - latest >= SHARP_DROP:
        return (f"Coverage dropped from {best:.0%} to {latest:.0%}:\nthe generator is losing "
                "modes. A\nsmaller learning rate may help.")
    return None


def _style(plot: pg.PlotItem) -> None:
    plot.setMenuEnabled(False)
    plot.getViewBox().setMouseEnabled(x=False, y=False)
    plot.showGrid(x=True, y=True, alpha=0.2)


class ModeCollapseMonitor(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.class_names: list[str] = []
        self.histogram: np.ndarray | None = None
        self.epochs: list[float] = []
        self.coverage: list[float] = []
        self.diversity: list[float] = []

        self.hist_widget = pg.PlotWidget()
        self.hist_widget.setMinimumSize(150, 110)
        self.hist_widget.setToolTip("Share of fresh samples in each class, as the domain "
                                    "classifier sees them. A healthy generator spreads over all "
                                    "classes; a collapsed one piles onto a few.")
        hist = self.hist_widget.getPlotItem()
        _style(hist)
        hist.setLabel("bottom", "share of samples")
        hist.getAxis("bottom").enableAutoSIPrefix(False)  # a "(x0.1)" suffix was cut off
        hist.getViewBox().invertY(True)  # first class on top
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.8, brush=style.BLUE, pen=None)
        hist.addItem(self.bars)
        style.keep_plot_styled(self.hist_widget)

        self.trend_widget = pg.PlotWidget()
        self.trend_widget.setMinimumSize(150, 110)
        self.trend_widget.setToolTip("Coverage: share of the classes the samples reach. "
                                     "Diversity: how different the samples are from each other. "
                                     "Both fall when the generator collapses.")
        trend = self.trend_widget.getPlotItem()
        _style(trend)
        trend.setLabel("bottom", "epoch")
        trend.addLegend(offset=(-6, -6), labelTextSize="8pt")
        self.curves = {name: trend.plot(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                                        symbolBrush=color, name=name)
                       for name, color in COLORS.items()}
        style.keep_plot_styled(self.trend_widget, self._outline_symbols)

        self.warning = QLabel("")
        self.warning.setObjectName("mode_collapse_warning")
        style.set_notice(self.warning, "error", extra="padding: 3px;")
        self.warning.hide()
        # Lines broken by hand: a word-wrapping label's height-for-width would override the
        # Train tab's stretch factors; the tooltip keeps the whole text for a narrow window.
        self.warning.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)

        plots = QHBoxLayout()
        plots.setSpacing(6)
        plots.addWidget(self.hist_widget, 1)
        plots.addWidget(self.trend_widget, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(plots, 1)
        layout.addWidget(self.warning)

    def _outline_symbols(self) -> None:
        for curve in self.curves.values():  # a ring in the background colour parts close dots
            curve.setSymbolPen(style.plot_background())

    def set_class_names(self, names) -> None:
        self.class_names = list(names or [])

    def clear_values(self) -> None:
        self.histogram = None
        self.epochs, self.coverage, self.diversity = [], [], []
        self.bars.setOpts(x0=[], y=[], width=[])
        self.hist_widget.hide()  # until a histogram arrives (a domain without a classifier has none)
        self._draw_trend()

    def set_histogram(self, histogram) -> None:
        counts = np.asarray(histogram, dtype=np.float64).ravel()
        shares = counts / max(float(counts.sum()), 1e-12)
        self.histogram = shares
        self.hist_widget.show()
        k = len(shares)
        self.bars.setOpts(x0=np.zeros(k), y=np.arange(k), width=shares, height=0.8)
        names = [self.class_names[i] if i < len(self.class_names) else str(i) for i in range(k)]
        plot = self.hist_widget.getPlotItem()
        plot.getAxis("left").setTicks([list(enumerate(names))])
        plot.setYRange(-0.6, k - 0.4, padding=0)
        top = max(float(shares.max(initial=0.0)) * 1.1, 2.0 / max(k, 1))
        plot.setXRange(0, top, padding=0)
        step = 0.5 if top > 0.6 else 0.1 if top > 0.15 else 0.05  # a few ticks on a narrow axis
        plot.getAxis("bottom").setTicks([[(t, f"{t:.0%}") for t in np.arange(0, top, step)]])

    def add_epoch(self, epoch: float, metrics: dict[str, float], histogram=None) -> None:
        """One epoch's measure: its ``coverage``/``diversity`` metrics and class histogram."""
        if histogram is not None:
            self.set_histogram(histogram)
        if "coverage" in metrics or "diversity" in metrics:
            self.epochs.append(float(epoch))
            self.coverage.append(float(metrics.get("coverage", np.nan)))
            self.diversity.append(float(metrics.get("diversity", np.nan)))
        self._draw_trend()

    def _draw_trend(self) -> None:
        for name, values in (("coverage", self.coverage), ("diversity", self.diversity)):
            finite = np.isfinite(values)  # a domain without a classifier has no coverage
            self.curves[name].setData(np.asarray(self.epochs)[finite], np.asarray(values)[finite])
        message = collapse_warning([c for c in self.coverage if np.isfinite(c)])
        self.warning.setText(message or "")
        self.warning.setToolTip(message or "")
        self.warning.setVisible(message is not None)
