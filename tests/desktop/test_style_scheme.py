"""Switching the application to the dark scheme turns every plot and image view of the real
window dark, recolours role-coloured labels, and switching back undoes it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from desktop import style
from desktop.main_window import MainWindow
from desktop.widgets.evaluation_result import MetricTile
from desktop.widgets.kl_bars import KLBars
from desktop.widgets.sampling_form import SamplingForm

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def scheme(qtbot):
    """``scheme(dark)`` switches the application palette as the app does; the test's own
    palette comes back at the end."""
    app = QApplication.instance()
    original = app.palette()

    def switch(dark: bool) -> None:
        style.apply_scheme(app, Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
        QApplication.processEvents()

    yield switch
    app.setPalette(original)
    QApplication.processEvents()


def _views(window) -> list[pg.GraphicsView]:
    return window.findChildren(pg.GraphicsView)


def _background(view) -> int:
    return view.backgroundBrush().color().lightness()


def test_every_plot_and_image_view_of_the_window_turns_dark_and_back(qtbot, app_state, settings,
                                                                     scheme):
    settings.confirm_close = False
    window = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(window)
    window.show()
    views = _views(window)
    plots = [v for v in views if isinstance(v, pg.PlotWidget)]
    assert len(plots) >= 8 and len(views) > len(plots)  # every tab's plots and image views
    scheme(False)
    assert all(_background(v) > 192 for v in views), "a light scheme has light plots"

    scheme(True)
    light_views = [type(v).__name__ for v in views if _background(v) >= 64]
    assert not light_views, f"white boxes in the dark scheme: {light_views}"
    text = style.text_colour().name()
    for plot in plots:
        axis = plot.getPlotItem().getAxis("left")
        assert axis.textPen().color().lightness() > 160, f"{type(plot).__name__}: dark axis text"
        legend = plot.getPlotItem().legend
        for _sample, label in legend.items if legend is not None else []:
            assert text in label.item.toHtml(), f"{type(plot).__name__}: legend in the old colour"
    pixel = window.interpolate_tab.norm_plot.grab().toImage().pixelColor(3, 3)
    assert pixel.lightness() < 64  # painted dark, not only set so

    scheme(False)
    assert all(_background(v) > 192 for v in views)


def test_labels_in_role_colours_follow_a_switch(qtbot, scheme):
    form = SamplingForm()
    tile = MetricTile("FID", "")
    for widget in (form, tile):
        qtbot.addWidget(widget)
        widget.show()
    caption = tile.findChild(QLabel)  # its style sheet says palette(placeholder-text)

    def colour(label):
        return label.palette().color(label.foregroundRole())

    scheme(False)
    form.error.show()  # as a bad setting shows it
    light_error, light_caption = colour(form.error), colour(caption)
    assert light_error == style.error_colour()
    scheme(True)
    assert colour(form.error) == style.error_colour() != light_error
    form.error.hide()
    scheme(False)
    form.error.show()  # hidden while the scheme switched: right once it shows
    assert colour(form.error) == light_error
    scheme(True)
    assert colour(form.error).lightness() > 128  # readable on the dark window
    assert colour(caption) != light_caption and colour(caption).lightness() > 128
    scheme(False)
    assert colour(form.error) == light_error


def test_inactive_latent_bars_are_faint_in_either_scheme(qtbot, scheme):
    bars = KLBars()
    qtbot.addWidget(bars)
    bars.set_values(np.array([0.5, 0.0, 1.2, 0.001]))

    def inactive_colour():
        return bars.bars.opts["brushes"][1].color()

    scheme(False)
    light = inactive_colour()
    assert light == style.faint_colour() and light.lightness() > 150
    scheme(True)
    assert inactive_colour() == style.faint_colour() != light
    assert inactive_colour().lightness() < 128 and bars.bars.opts["brushes"][0].color() == \
        bars.bars.opts["brushes"][2].color()
