"""A 2-D map of encoded images coloured by class, for picking and hovering latent points.

One pyqtgraph ``ScatterPlotItem`` per class (uniform brush, no pen, pixel-sized symbols) keeps
drawing ~10k points fast and gives the legend its entries. Clicks and hovers are resolved here
into data coordinates or the index of the nearest point, so the owner never touches scenes.
Right-click gives pyqtgraph's own menu (Export… as PNG, SVG or CSV); ``menu`` takes more.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem

from desktop import style

PALETTE = style.SERIES
PICK_RADIUS_PX = 8.0


def class_colour(label: int) -> str:
    return PALETTE[label % len(PALETTE)]


class LatentMap(pg.PlotWidget):
    point_clicked = Signal(int)  # index of the point nearest a click
    position_clicked = Signal(float, float)  # a click away from every point (map coordinates)
    hovered = Signal(float, float)  # the cursor's map coordinates
    hover_left = Signal()  # the cursor left the plot area

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background=style.plot_background())
        plot = self.getPlotItem()
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)  # latent units, not SI quantities
        style.style_plot(plot)
        self.legend = plot.addLegend(offset=(-4, 4), labelTextSize="8pt", colCount=2,
                                     labelTextColor=style.text_colour(),
                                     brush=style.legend_brush(), pen=style.muted_colour())
        self.legend.setVisible(False)
        self.view = plot.getViewBox()
        self.menu = self.view.menu  # the right-click menu, for the owner's own entries
        self._items: list[pg.ScatterPlotItem] = []
        self.xy = np.zeros((0, 2), np.float32)
        self.marker = pg.ScatterPlotItem(size=16, symbol="star",
                                         pen=pg.mkPen(style.text_colour(), width=1.5),
                                         brush=style.legend_brush())
        self.marker.setZValue(10)
        self.marker.setVisible(False)
        plot.addItem(self.marker)
        self._inside = False
        self.scene().sigMouseMoved.connect(self._on_move)
        self.scene().sigMouseClicked.connect(self._on_click)

    @property
    def point_count(self) -> int:
        return len(self.xy)

    def set_points(self, xy: np.ndarray, labels: np.ndarray | None, class_names: list[str],
                   axis_names: tuple[str, str] = ("PC 1", "PC 2")) -> None:
        self.clear_points()
        self.xy = np.asarray(xy, np.float32)
        plot = self.getPlotItem()
        plot.setLabel("bottom", axis_names[0])
        plot.setLabel("left", axis_names[1])
        groups = [(None, np.arange(len(self.xy)))] if labels is None else [
            (int(k), np.flatnonzero(labels == k)) for k in np.unique(labels)]
        for label, index in groups:
            colour = style.muted_colour() if label is None else class_colour(label)
            name = None if label is None else (class_names[label] if label < len(class_names)
                                               else f"class {label}")
            item = pg.ScatterPlotItem(self.xy[index, 0], self.xy[index, 1], size=5, pen=None,
                                      brush=pg.mkBrush(colour), hoverable=False, name=name)
            # Cached as a pixmap while the view is unchanged: moving the marker then repaints
            # the marker only, not thousands of points.
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.addItem(item)
            self._items.append(item)
        self.legend.setVisible(labels is not None)
        self.fit()

    def fit(self) -> None:
        """Show every point, with headroom at the top so the legend does not cover any."""
        if not len(self.xy):
            return
        (x0, y0), (x1, y1) = self.xy.min(0).astype(float), self.xy.max(0).astype(float)
        dx, dy = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        top = 0.3 if self.legend.isVisible() else 0.04
        self.view.setRange(xRange=(x0 - 0.04 * dx, x1 + 0.04 * dx),
                           yRange=(y0 - 0.04 * dy, y1 + top * dy), padding=0)

    def clear_points(self) -> None:
        plot = self.getPlotItem()
        for item in self._items:
            plot.removeItem(item)  # also removes its legend entry
        self._items = []
        self.xy = np.zeros((0, 2), np.float32)
        self.marker.setVisible(False)
        self.legend.setVisible(False)  # an empty legend is a stray box

    def set_marker(self, x: float | None, y: float | None = None) -> None:
        """Mark the current latent point (None hides the mark)."""
        if x is None:
            self.marker.setVisible(False)
            return
        self.marker.setData([x], [y])
        self.marker.setVisible(True)

    # -- geometry ----------------------------------------------------------------------------
    def map_to_widget(self, x: float, y: float) -> QPointF:
        """Widget (viewport) pixel position of a map point, e.g. to click it in a test."""
        return self.mapFromScene(self.view.mapViewToScene(QPointF(x, y))).toPointF()

    def nearest_point(self, x: float, y: float, radius_px: float = PICK_RADIUS_PX) -> int:
        """Index of the point nearest (x, y) in screen distance, or -1 if none is near."""
        if not len(self.xy):
            return -1
        px, py = self.view.viewPixelSize()
        d2 = ((self.xy[:, 0] - x) / px) ** 2 + ((self.xy[:, 1] - y) / py) ** 2
        best = int(np.argmin(d2))
        return best if d2[best] <= radius_px ** 2 else -1

    # -- mouse -------------------------------------------------------------------------------
    def _in_plot(self, scene_pos) -> bool:
        return self.view.sceneBoundingRect().contains(scene_pos)

    def _on_move(self, scene_pos) -> None:
        inside = self._in_plot(scene_pos) and len(self.xy) > 0
        if inside:
            point = self.view.mapSceneToView(scene_pos)
            self.hovered.emit(float(point.x()), float(point.y()))
        elif self._inside:
            self.hover_left.emit()
        self._inside = inside

    def _on_click(self, event) -> None:
        if event.button() != Qt.LeftButton or not self._in_plot(event.scenePos()) or not len(self.xy):
            return
        point = self.view.mapSceneToView(event.scenePos())
        index = self.nearest_point(point.x(), point.y())
        if index >= 0:
            self.point_clicked.emit(index)
        else:
            self.position_clicked.emit(float(point.x()), float(point.y()))

    def changeEvent(self, event) -> None:
        # the system switched light/dark (also sent while the base class is built)
        if event.type() in style.PALETTE_EVENTS and hasattr(self, "marker"):
            self.setBackground(style.plot_background())
            style.style_plot(self.getPlotItem())
            self.legend.setBrush(style.legend_brush())
            self.legend.setLabelTextColor(style.text_colour())
            self.marker.setPen(pg.mkPen(style.text_colour(), width=1.5))
        super().changeEvent(event)

    def leaveEvent(self, event) -> None:
        if self._inside:
            self._inside = False
            self.hover_left.emit()
        super().leaveEvent(event)
