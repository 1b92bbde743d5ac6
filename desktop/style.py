"""The app's colours: taken from the palette, so the light and the dark scheme both read well.

Qt widgets take their colours from the palette by themselves; pyqtgraph plots do not (their
background, axes and titles default to fixed colours), so plots ask here. The app follows the
system's colour scheme (``QStyleHints.colorScheme``, Qt 6.5+): Fusion's palette is light, so a
dark scheme gets a dark palette built here, and a plot restyles itself when the palette changes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

Role = QPalette.ColorRole
PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)

# Series colours (Tableau 10): distinct hues that stay readable on white and on dark grey.
SERIES = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def palette() -> QPalette:
    return QGuiApplication.palette()


def is_dark(pal: QPalette | None = None) -> bool:
    return (pal or palette()).color(Role.Window).lightness() < 128


def plot_background() -> QColor:
    return palette().color(Role.Base)


def text_colour() -> QColor:
    return palette().color(Role.WindowText)


def muted_colour() -> QColor:
    """Secondary text: captions, empty-plot hints, axis lines."""
    return palette().color(Role.PlaceholderText)


def legend_brush() -> QColor:
    colour = QColor(plot_background())
    colour.setAlpha(210)
    return colour


def style_plot(plot) -> None:
    """Axes and title of a pyqtgraph ``PlotItem`` in the palette's text colours."""
    for side in ("left", "bottom", "right"):
        axis = plot.getAxis(side)
        axis.setTextPen(text_colour())
        axis.setPen(muted_colour())
    title = plot.titleLabel
    if title.text:
        title.setText(title.text, color=text_colour().name())


def dark_palette() -> QPalette:
    pal = QPalette()
    colours = {Role.Window: "#2b2b2b", Role.WindowText: "#e6e6e6", Role.Base: "#1e1e1e",
               Role.AlternateBase: "#333333", Role.ToolTipBase: "#3a3a3a",
               Role.ToolTipText: "#e6e6e6", Role.PlaceholderText: "#9a9a9a", Role.Text: "#e6e6e6",
               Role.Button: "#353535", Role.ButtonText: "#e6e6e6", Role.BrightText: "#ff6b6b",
               Role.Light: "#505050", Role.Midlight: "#444444", Role.Mid: "#3a3a3a",
               Role.Dark: "#a0a0a0", Role.Shadow: "#141414", Role.Highlight: "#2f65ca",
               Role.HighlightedText: "#ffffff", Role.Link: "#6ea8fe"}
    for role, colour in colours.items():
        pal.setColor(role, QColor(colour))
    for role in (Role.WindowText, Role.Text, Role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#777777"))
    return pal


def apply_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    app.setPalette(dark_palette() if scheme == Qt.ColorScheme.Dark else app.style().standardPalette())


def follow_system_scheme(app: QApplication) -> None:
    """Use the system's light or dark scheme now and whenever it changes."""
    hints = app.styleHints()
    if not hasattr(hints, "colorScheme"):  # Qt before 6.5: the platform palette as it is
        return
    apply_scheme(app, hints.colorScheme())
    hints.colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))
