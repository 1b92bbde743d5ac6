"""Live training curves of whatever metrics a family reports, one persistent curve per series.

A series is a (split, metric) pair: solid lines for training (averaged over a few steps),
dashed lines with dots for the test measure after each epoch, one colour per metric. The
family's headline metric and the metrics on its scale share the left pane; a metric whose
first value is 10x larger or smaller (the VAE's KL beside its ELBO) gets the right pane, so
neither flattens the other. The choice is made once per metric, when it first appears.

Records arrive several times a second; redrawing on each one would make the GUI thread spend
its time in pyqtgraph. Values go into buffers and a single-shot ~30 Hz timer redraws each
persistent curve once from the whole buffer. The timer only runs while there is something new
to draw, so an idle plot leaves no timer running.

Right-click gives pyqtgraph's own menu (Export… as PNG, SVG or CSV) and, when the owner
connects ``export_history_requested``, "Export loss history as CSV…".
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal

from desktop import style

PALETTE = style.SERIES
REDRAW_MS = 33
SCALE_GAP = 10.0  # a metric this many times larger or smaller than the headline gets its own pane
SPIKE_MIN_POINTS = 30  # with fewer points the whole curve is shown
SPIKE_QUANTILE = 0.95  # above this the training loss is the first steps' transient


class _Buffer:
    """Growable float64 columns (x, value) with amortised O(1) appends."""

    def __init__(self) -> None:
        self.data = np.empty((256, 2))
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.data):
            self.data = np.concatenate([self.data, np.empty_like(self.data)])
        self.data[self.n] = (x, y)
        self.n += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self.data[:self.n, 0], self.data[:self.n, 1]


class LossPlot(pg.GraphicsLayoutWidget):
    export_history_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground(style.plot_background())
        self.setMinimumHeight(180)
        self.headline = "loss"
        self.unit = ""
        self.excluded: set[str] = set()  # metrics another panel shows (e.g. coverage)
        self.buffers: dict[tuple[str, str], _Buffer] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.panes: dict[str, int] = {}  # metric -> 0 (headline's scale) or 1 (its own scale)
        self.colors: dict[str, str] = {}
        self.plots: list[pg.PlotItem] = [self._make_plot(0, legend_offset=(-8, 8))]
        self._headline_scale: float | None = None
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setSingleShot(True)
        self.redraw_timer.setInterval(REDRAW_MS)
        self.redraw_timer.timeout.connect(self.redraw)
        self.redraws = 0  # how many times curves were redrawn (tests check it stays small)
        self._retitle()

    def _make_plot(self, column: int, legend_offset) -> pg.PlotItem:
        plot = self.addPlot(row=0, col=column)
        plot.setLabel("bottom", "epoch  (solid: training · dashed with dots: test)")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        export = plot.getViewBox().menu.addAction("Export loss history as CSV…")
        export.triggered.connect(self.export_history_requested)
        plot.addLegend(offset=legend_offset, labelTextSize="8pt", brush=style.legend_brush(),
                       labelTextColor=style.text_colour())
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)  # "epoch (x0.001)" early in a run
        style.style_plot(plot)
        return plot

    def changeEvent(self, event) -> None:
        # the system switched light/dark (also sent while the base class is built: no plots yet)
        if event.type() in style.PALETTE_EVENTS and hasattr(self, "plots"):
            self.setBackground(style.plot_background())
            for plot in self.plots:
                style.style_plot(plot)
                plot.legend.setBrush(style.legend_brush())
                plot.legend.setLabelTextColor(style.text_colour())
        super().changeEvent(event)

    def _retitle(self) -> None:
        for pane, plot in enumerate(self.plots):
            metrics = [m for m, p in self.panes.items() if p == pane]
            names = ", ".join(metrics) or self.headline
            unit = f" ({self.unit})" if self.unit and pane == 0 else ""
            plot.setTitle(f"{names}{unit}", size="10pt", color=style.text_colour().name())
            plot.legend.setVisible(len(metrics) > 1)  # one metric: the title names it

    def set_family(self, headline: str, unit: str = "", excluded=()) -> None:
        """Start over for a family: its headline metric, its unit, metrics not to plot here."""
        self.headline, self.unit, self.excluded = headline, unit, set(excluded)
        for curve in self.curves.values():
            curve.getViewBox().removeItem(curve)
        for plot in self.plots:
            plot.legend.clear()
        if len(self.plots) > 1:
            self.ci.removeItem(self.plots.pop())
        self.buffers.clear()
        self.curves.clear()
        self.panes.clear()
        self.colors.clear()
        self._headline_scale = None
        self._retitle()
        self.redraw()

    def add(self, split: str, x: float, metrics: dict[str, float]) -> None:
        """Buffer one point per metric of ``split`` ('train' or 'test'); drawn on the next tick."""
        if self._headline_scale is None and math.isfinite(metrics.get(self.headline, math.nan)):
            self._headline_scale = abs(metrics[self.headline])
        for name, value in metrics.items():
            if name in self.excluded:
                continue
            key = (split, name)
            buffer = self.buffers.get(key)
            if buffer is None:
                buffer = self.buffers[key] = _Buffer()
                self._place(name, value)
            buffer.append(x, value)
        if not self.redraw_timer.isActive():
            self.redraw_timer.start()

    def _place(self, name: str, value: float) -> None:
        if name in self.panes:
            return
        self.colors[name] = PALETTE[len(self.colors) % len(PALETTE)]
        scale = self._headline_scale
        far = (name != self.headline and scale and math.isfinite(value)
               and not 1 / SCALE_GAP <= abs(value) / scale <= SCALE_GAP)
        self.panes[name] = 1 if far else 0

    def _curve(self, split: str, name: str) -> pg.PlotDataItem:
        pane = self.panes[name]
        if pane == 1 and len(self.plots) == 1:
            # Loss falls and KL rises as a VAE trains: the legend goes where the curves are not.
            self.plots.append(self._make_plot(1, legend_offset=(-8, -8)))
            self.ci.layout.setColumnStretchFactor(0, 3)
            self.ci.layout.setColumnStretchFactor(1, 2)
        color = self.colors[name]
        # one legend entry per metric (its first curve): the axis label tells the splits apart
        label = None if any(metric == name for _, metric in self.curves) else name
        if split == "train":
            curve = self.plots[pane].plot(pen=pg.mkPen(color, width=1.5), name=label)
        else:
            curve = self.plots[pane].plot(pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine),
                                          symbol="o", symbolSize=7, symbolBrush=color,
                                          symbolPen=style.plot_background(),
                                          name=label)
        curve.setClipToView(True)
        self._retitle()
        return curve

    def reset(self) -> None:
        # Not ``clear``: GraphicsLayoutWidget binds ``clear`` to its layout on each instance.
        for buffer in self.buffers.values():
            buffer.n = 0
        self.redraw()

    def series(self) -> list[tuple[str, str]]:
        """(split, metric) of every curve drawn so far."""
        return list(self.curves)

    def points(self, split: str, metric: str) -> int:
        """Points drawn (not just buffered) for one curve."""
        curve = self.curves.get((split, metric))
        x = None if curve is None else curve.getData()[0]
        return 0 if x is None else len(x)

    def redraw(self) -> None:
        self.redraw_timer.stop()
        for key, buffer in self.buffers.items():
            if key not in self.curves:
                if not buffer.n:
                    continue
                self.curves[key] = self._curve(*key)
            self.curves[key].setData(*buffer.view())
        self._fit_loss_range()
        self.redraws += 1

    def _fit_loss_range(self) -> None:
        """Keep the first steps' huge losses from flattening the rest of the left pane."""
        headline = self.buffers.get(("train", self.headline))
        view = self.plots[0].getViewBox()
        if headline is None or headline.n < SPIKE_MIN_POINTS:
            view.enableAutoRange(axis="y")
            return
        tops, bottoms = [], []
        for (split, name), buffer in self.buffers.items():
            values = buffer.view()[1]
            values = values[np.isfinite(values)]
            if self.panes.get(name) != 0 or not len(values):
                continue
            train = split == "train"
            tops.append(float(np.quantile(values, SPIKE_QUANTILE) if train else values.max()))
            bottoms.append(float(values.min()))
        if not tops:
            return
        top, bottom = max(tops), min(bottoms)
        margin = 0.04 * max(top - bottom, 1e-6)
        view.setYRange(bottom - margin, top + margin, padding=0)
