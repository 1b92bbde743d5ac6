"""Live loss curves: negative ELBO and reconstruction on one plot, KL on its own scale.

Records arrive several times a second; redrawing on each one would make the GUI thread spend
its time in pyqtgraph. Values go into buffers and a single-shot ~30 Hz timer redraws each
persistent curve once from the whole buffer. The timer only runs while there is something new
to draw, so an idle plot leaves no timer running.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer

SERIES = ("total", "recon", "kl")
COLORS = {"total": "#1f4e9c", "recon": "#e07b00", "kl": "#2a9d3f"}
NAMES = {"total": "negative ELBO", "recon": "reconstruction", "kl": "KL"}
REDRAW_MS = 33
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
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumHeight(180)
        # Loss falls and KL rises as a VAE trains: legends go where the curves are not.
        self.loss_plot = self._make_plot("Loss (nats per image)", 0, legend_offset=(-8, 8))
        self.kl_plot = self._make_plot("KL divergence (nats per image)", 1, legend_offset=(-8, -8))
        self.ci.layout.setColumnStretchFactor(0, 3)
        self.ci.layout.setColumnStretchFactor(1, 2)
        self.buffers: dict[tuple[str, str], _Buffer] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for split in ("train", "test"):
            for series in SERIES:
                plot = self.kl_plot if series == "kl" else self.loss_plot
                color = COLORS[series]
                if split == "train":
                    pen = pg.mkPen(color, width=1.5)
                    curve = plot.plot(pen=pen, name=f"{NAMES[series]} (train)")
                else:
                    pen = pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)
                    curve = plot.plot(pen=pen, symbol="o", symbolSize=7, symbolBrush=color,
                                      symbolPen="w", name=f"{NAMES[series]} (test)")
                curve.setClipToView(True)
                self.curves[split, series] = curve
                self.buffers[split, series] = _Buffer()
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setSingleShot(True)
        self.redraw_timer.setInterval(REDRAW_MS)
        self.redraw_timer.timeout.connect(self.redraw)
        self.redraws = 0  # how many times curves were redrawn (tests check it stays small)

    def _make_plot(self, title: str, column: int, legend_offset) -> pg.PlotItem:
        plot = self.addPlot(row=0, col=column)
        plot.setTitle(title, size="10pt", color="#333")
        plot.setLabel("bottom", "epoch")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMenuEnabled(False)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        plot.addLegend(offset=legend_offset, labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 200))
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)  # "epoch (x0.001)" early in a run
            plot.getAxis(axis).setTextPen("#444")
            plot.getAxis(axis).setPen("#999")
        return plot

    def add(self, split: str, x: float, total: float, recon: float, kl: float) -> None:
        """Buffer one point per series of ``split`` ('train' or 'test'); drawn on the next tick."""
        for series, value in zip(SERIES, (total, recon, kl), strict=True):
            self.buffers[split, series].append(x, value)
        if not self.redraw_timer.isActive():
            self.redraw_timer.start()

    def reset(self) -> None:
        # Not ``clear``: GraphicsLayoutWidget binds ``clear`` to its layout on each instance.
        for buffer in self.buffers.values():
            buffer.n = 0
        self.redraw()

    def points(self, split: str, series: str) -> int:
        """Points drawn (not just buffered) for one curve."""
        x, _ = self.curves[split, series].getData()
        return 0 if x is None else len(x)

    def redraw(self) -> None:
        self.redraw_timer.stop()
        for key, curve in self.curves.items():
            x, y = self.buffers[key].view()
            curve.setData(x, y)
        self._fit_loss_range()
        self.redraws += 1

    def _fit_loss_range(self) -> None:
        """Keep the first steps' huge losses from flattening the rest of the curve."""
        _, total = self.buffers["train", "total"].view()
        view = self.loss_plot.getViewBox()
        if len(total) < SPIKE_MIN_POINTS:
            view.enableAutoRange(axis="y")
            return
        values = [y for key in (("train", "recon"), ("test", "total"), ("test", "recon"))
                  for y in [self.buffers[key].view()[1]] if len(y)]
        finite = [v[np.isfinite(v)] for v in [total, *values]]
        top = max([float(np.quantile(finite[0], SPIKE_QUANTILE))]
                  + [float(v.max()) for v in finite[2:] if len(v)])
        bottom = min(float(v.min()) for v in finite if len(v))
        margin = 0.04 * max(top - bottom, 1e-6)
        view.setYRange(bottom - margin, top + margin, padding=0)
