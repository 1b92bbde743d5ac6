"""The app's colours: taken from the palette, so the light and the dark scheme both read well.

Every colour the desktop uses is named here, once; other modules ask for a role ("muted",
"error", a series colour), never for a literal (tests/desktop/test_style_colours.py checks).
Qt widgets take their colours from the palette by themselves; pyqtgraph plots and coloured
labels do not (a plot's background, axes and titles default to fixed colours; a style sheet
keeps the colour it was given), so they ask here, and ``keep_styled`` restyles them whenever
the application palette changes. The app follows the system's colour scheme
(``QStyleHints.colorScheme``, Qt 6.5+): Fusion's palette is light, so a dark scheme gets a dark
palette built here.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

Role = QPalette.ColorRole
PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)

# Series colours (Tableau 10): distinct hues that stay readable on white and on dark grey.
SERIES = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
BLUE, ORANGE, GREEN, RED, PURPLE = SERIES[:5]
MARK = RED  # frames and markers drawn over images: red stands out on grey images in any scheme

# Colours with a meaning, (light scheme, dark scheme): each at least 4.5:1 against its window.
_MEANINGS = {"error": ("#b00020", "#ff7b7b"), "success": ("#1b7a1b", "#7bd88f"),
             "warning": ("#8a5a00", "#f0b860")}
# Boxes that call for attention: (background, border, text or None for the palette's text).
_NOTICES = {
    "info": (("#eef3fb", "#c5d5ee", None), ("#1f2b3d", "#3b5578", None)),
    "warning": (("#fff4d6", "#e0b44c", "#5a4100"), ("#3b3220", "#8a6d2a", "#f3dca0")),
    "error": (("#fde8e8", "#f0b4b4", "#8a1020"), ("#3d2224", "#8a3a40", "#ffb8b8")),
}


def palette() -> QPalette:
    return QGuiApplication.palette()


def is_dark(pal: QPalette | None = None) -> bool:
    return (pal or palette()).color(Role.Window).lightness() < 128


def _mix(under: QColor, over: QColor, share: float) -> QColor:
    """``over`` laid on ``under`` at ``share`` opacity, as one opaque colour."""
    return QColor.fromRgbF(*(a + (b - a) * share for a, b in zip(
        under.getRgbF()[:3], over.getRgbF()[:3], strict=True)))


def plot_background() -> QColor:
    return palette().color(Role.Base)


def image_background() -> QColor:
    """Around images (grids, single images, the draw canvas): the window's own colour, so a
    light image sits on grey in the light scheme and on dark grey in the dark one."""
    return palette().color(Role.Window)


def text_colour() -> QColor:
    return palette().color(Role.WindowText)


def muted_colour() -> QColor:
    """Secondary text: captions, empty-plot hints, axis lines. Opaque (Fusion's placeholder
    colour is half-transparent black), so it also works by name in rich text."""
    placeholder = palette().color(Role.PlaceholderText)
    return _mix(palette().color(Role.Window), placeholder, placeholder.alphaF())


def faint_colour() -> QColor:
    """Marks in the background: inactive bars, curves other than the chosen one."""
    return _mix(plot_background(), text_colour(), 0.22)


def _meaning(name: str) -> QColor:
    light, dark = _MEANINGS[name]
    return QColor(dark if is_dark() else light)


def error_colour() -> QColor:
    return _meaning("error")


def success_colour() -> QColor:
    return _meaning("success")


def warning_colour() -> QColor:
    return _meaning("warning")


def legend_brush() -> QColor:
    colour = QColor(plot_background())
    colour.setAlpha(210)
    return colour


def span(html_text: str, colour: QColor | str) -> str:
    """Rich text in ``colour``. Coloured when made: a label that shows it sets it again when
    its content changes, and a scheme switch takes effect with the next message."""
    name = colour.name() if isinstance(colour, QColor) else colour
    return f"<span style='color:{name}'>{html_text}</span>"


def notice_sheet(kind: str, selector: str = "QLabel", extra: str = "") -> str:
    """A style sheet for a box that calls for attention: ``kind`` is info, warning or error."""
    background, border, text = _NOTICES[kind][is_dark()]
    colour = f" color: {text};" if text else ""
    return (f"{selector} {{ background: {background}; border: 1px solid {border}; "
            f"border-radius: 4px;{colour} {extra}}}")


class _SchemeWatcher(QWidget):
    """A window that is never shown. Windows hear of every change of the application palette
    (ApplicationPaletteChange); a child widget may not (one with a style sheet keeps its own
    palette and gets no PaletteChange), so restyling listens here rather than to each widget."""

    changed = Signal()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self.changed.emit()
        return super().event(event)


_watcher: list[_SchemeWatcher] = []  # made with the first styled widget: a QApplication exists


class _Restyler(QObject):
    """Runs ``restyle`` on each palette change; a child of the styled widget, so the
    connection goes with it."""

    def __init__(self, widget: QWidget, restyle: Callable[[], None]) -> None:
        super().__init__(widget)
        self.restyle = restyle
        if not _watcher:
            _watcher.append(_SchemeWatcher())
        _watcher[0].changed.connect(self.on_change)

    @Slot()
    def on_change(self) -> None:
        self.restyle()


def keep_styled(widget: QWidget, restyle: Callable[[], None]) -> None:
    """Call ``restyle`` now and again whenever the application palette changes."""
    restyle()
    _Restyler(widget, restyle)


def set_text_colour(label: QWidget, colour: Callable[[], QColor], extra: str = "") -> None:
    """Colour a label's text with a role of this module (e.g. ``error_colour``), kept right
    across scheme switches; ``extra`` is more style sheet (e.g. ``font-size: 11px;``)."""
    keep_styled(label, lambda: label.setStyleSheet(f"color: {colour().name()}; {extra}"))


def set_notice(widget: QWidget, kind: str, selector: str = "QLabel", extra: str = "") -> None:
    """``notice_sheet`` on ``widget``, kept right across scheme switches."""
    keep_styled(widget, lambda: widget.setStyleSheet(notice_sheet(kind, selector, extra)))


def style_plot(plot) -> None:
    """Axes, title and legend of a pyqtgraph ``PlotItem`` in the palette's colours."""
    for side in ("left", "bottom", "right"):
        axis = plot.getAxis(side)
        axis.setTextPen(text_colour())
        axis.setPen(muted_colour())
    title = plot.titleLabel
    if title.text:
        title.setText(title.text, color=text_colour().name())
    if plot.legend is not None:
        plot.legend.setBrush(legend_brush())
        plot.legend.setLabelTextColor(text_colour())
        for _sample, label in plot.legend.items:  # pyqtgraph recolours only labels added later
            label.setText(label.text)


def style_plot_widget(widget) -> None:
    """A pyqtgraph ``PlotWidget``: its background and its plot."""
    widget.setBackground(plot_background())
    style_plot(widget.getPlotItem())


def keep_plot_styled(widget, restyle_items: Callable[[], None] | None = None) -> None:
    """Style a ``PlotWidget`` now and after each scheme switch; ``restyle_items`` recolours what
    the plot draws in role colours (reference lines, faint bars)."""
    def restyle() -> None:
        if widget.getPlotItem() is None:  # closed: pyqtgraph has let its plot go
            return
        style_plot_widget(widget)
        if restyle_items is not None:
            restyle_items()
    keep_styled(widget, restyle)


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
    # A style sheet reads ``palette(role)`` once, when it is set: set those sheets again.
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if "palette(" in sheet:
            widget.setStyleSheet(sheet)


def follow_system_scheme(app: QApplication) -> None:
    """Use the system's light or dark scheme now and whenever it changes."""
    hints = app.styleHints()
    if not hasattr(hints, "colorScheme"):  # Qt before 6.5: the platform palette as it is
        return
    apply_scheme(app, hints.colorScheme())
    hints.colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))
