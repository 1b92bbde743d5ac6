"""Per-dimension latent importance bars: the VAE's KL per dimension (active units in blue,
collapsed ones faint), or another family's measured sensitivity per dimension."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from desktop import style
from genai_engine.latent import sort_dims_by_kl


class KLBars(pg.PlotWidget):
    """One bar per latent dimension (mean KL on the test split); inactive units faint."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 120)
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        plot.setLabel("bottom", "latent dimension")
        plot.setLabel("left", "KL (nats)")
        plot.showGrid(y=True, alpha=0.2)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        plot.addItem(self.bars)
        self.values: np.ndarray | None = None
        self.active: np.ndarray | None = None
        style.keep_plot_styled(self, self._colour_bars)

    @property
    def active_count(self) -> int:
        return 0 if self.active is None else int(self.active.sum())

    def set_values(self, importance, kl: bool = True) -> None:
        """Bars of ``importance`` per dimension: KL in nats (units under the activity threshold
        in grey), or with ``kl=False`` a sensitivity, where no unit is called inactive."""
        values = np.asarray(importance, dtype=np.float64).ravel()
        active = sort_dims_by_kl(values)[1] if kl else np.ones(len(values), bool)
        self.getPlotItem().setLabel("left", "KL (nats)" if kl else "sensitivity")
        self.values, self.active = values, active
        self._colour_bars()
        plot = self.getPlotItem()
        plot.setXRange(-0.6, len(values) - 0.4, padding=0)
        floor = 0.05 if kl else 1e-9  # KL: a scale where the activity threshold (0.01) shows
        plot.setYRange(0, max(float(values.max(initial=0.0)) * 1.1, floor), padding=0)
        step = max(1, int(np.ceil(len(values) / 10)))
        plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(0, len(values), step)]])

    def _colour_bars(self) -> None:
        if self.values is None:
            return
        active, inactive = pg.mkBrush(style.BLUE), pg.mkBrush(style.faint_colour())
        self.bars.setOpts(x=np.arange(len(self.values)), height=self.values, width=0.8,
                          brushes=[active if a else inactive for a in self.active],
                          pens=[pg.mkPen(None)] * len(self.values))

    def clear_values(self) -> None:
        self.values = self.active = None
        # pyqtgraph 0.14 fails on empty brush/pen lists, so clear with single ones.
        self.bars.setOpts(x=[], height=[], brushes=None, pens=None, brush=style.BLUE, pen=None)
