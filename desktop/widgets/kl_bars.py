"""Per-dimension KL bars: which latent units carry information (active) and which collapsed."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from genai_engine.latent import sort_dims_by_kl

ACTIVE = "#1f4e9c"
INACTIVE = "#c8c8c8"


class KLBars(pg.PlotWidget):
    """One bar per latent dimension (mean KL on the test split); inactive units in grey."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setMinimumSize(160, 120)
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        plot.setLabel("bottom", "latent dimension")
        plot.setLabel("left", "KL (nats)")
        plot.showGrid(y=True, alpha=0.2)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#444")
            plot.getAxis(axis).setPen("#999")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        plot.addItem(self.bars)
        self.values: np.ndarray | None = None
        self.active: np.ndarray | None = None

    @property
    def active_count(self) -> int:
        return 0 if self.active is None else int(self.active.sum())

    def set_values(self, kl_per_dim) -> None:
        values = np.asarray(kl_per_dim, dtype=np.float64).ravel()
        _, active = sort_dims_by_kl(values)
        self.values, self.active = values, active
        brushes = [pg.mkBrush(ACTIVE if a else INACTIVE) for a in active]
        self.bars.setOpts(x=np.arange(len(values)), height=values, width=0.8, brushes=brushes,
                          pens=[pg.mkPen(None)] * len(values))
        plot = self.getPlotItem()
        plot.setXRange(-0.6, len(values) - 0.4, padding=0)
        plot.setYRange(0, max(float(values.max(initial=0.0)) * 1.1, 0.05), padding=0)
        step = max(1, int(np.ceil(len(values) / 16)))
        plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(0, len(values), step)]])

    def clear_values(self) -> None:
        self.values = self.active = None
        # pyqtgraph 0.14 fails on empty brush/pen lists, so clear with single ones.
        self.bars.setOpts(x=[], height=[], brushes=None, pens=None, brush=ACTIVE, pen=None)
