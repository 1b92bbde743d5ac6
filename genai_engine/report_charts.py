"""Small inline SVG charts for the HTML report: line charts and bar charts, no dependencies.

The SVG is written for embedding in HTML5 (no XML namespace needed, no external fonts or
scripts), with round "nice" axis ticks and every label escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
MARGIN = {"left": 64, "right": 16, "top": 34, "bottom": 46}
GRID = 'stroke="#e4e4e4" stroke-width="1"'
AXIS = 'stroke="#666" stroke-width="1"'


@dataclass
class Series:
    name: str
    x: Sequence[float]
    y: Sequence[float]
    color: str | None = None
    dashed: bool = False


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 × 10^n steps) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        low, high = low - 0.5, high + 0.5
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10_000 or magnitude < 0.01:
        return f"{value:.2g}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3g}"


def _label(x: float, y: float, text: str, *, size: int = 11, anchor: str = "middle",
           fill: str = "#444", bold: bool = False, rotate: bool = False) -> str:
    """SVG text with presentation attributes (renderers without CSS support draw it too)."""
    weight = ' font-weight="600"' if bold else ""
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="sans-serif" font-size="{size}" '
            f'text-anchor="{anchor}" fill="{fill}"{weight}{turn}>{escape(text)}</text>')


class _Frame:
    """Maps data coordinates into the plotting area and draws axes, grid and titles."""

    def __init__(self, width, height, x_ticks, y_ticks):
        self.width, self.height = width, height
        self.x0, self.x1 = MARGIN["left"], width - MARGIN["right"]
        self.y0, self.y1 = height - MARGIN["bottom"], MARGIN["top"]
        self.x_ticks, self.y_ticks = x_ticks, y_ticks

    def px(self, x: float) -> float:
        low, high = self.x_ticks[0], self.x_ticks[-1]
        return self.x0 + (x - low) / (high - low or 1) * (self.x1 - self.x0)

    def py(self, y: float) -> float:
        low, high = self.y_ticks[0], self.y_ticks[-1]
        return self.y0 - (y - low) / (high - low or 1) * (self.y0 - self.y1)

    def axes(self, title: str, x_label: str, y_label: str, x_tick_labels=None) -> list[str]:
        parts = [_label(self.width / 2, 20, title, size=13, fill="#222", bold=True)]
        for y in self.y_ticks:
            py = self.py(y)
            parts.append(f'<line x1="{self.x0}" x2="{self.x1}" y1="{py:.1f}" y2="{py:.1f}" {GRID}/>')
            parts.append(_label(self.x0 - 6, py + 4, _fmt(y), anchor="end"))
        labels = x_tick_labels or [(x, _fmt(x)) for x in self.x_ticks]
        for x, text in labels:
            px = self.px(x)
            parts.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{self.y0}" y2="{self.y0 + 4}" {AXIS}/>')
            parts.append(_label(px, self.y0 + 17, text))
        parts.append(f'<line x1="{self.x0}" x2="{self.x1}" y1="{self.y0}" y2="{self.y0}" {AXIS}/>')
        parts.append(f'<line x1="{self.x0}" x2="{self.x0}" y1="{self.y0}" y2="{self.y1}" {AXIS}/>')
        parts.append(_label((self.x0 + self.x1) / 2, self.height - 8, x_label, size=12, fill="#222"))
        parts.append(_label(16, (self.y0 + self.y1) / 2, y_label, size=12, fill="#222", rotate=True))
        return parts


def _svg(width: int, height: int, parts: list[str], description: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="{escape(description)}">{"".join(parts)}</svg>')


def _finite_points(series: Series) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in zip(series.x, series.y, strict=False)
            if x is not None and y is not None and math.isfinite(float(x)) and math.isfinite(float(y))]


def line_chart(series: Sequence[Series], *, title: str, x_label: str, y_label: str,
               width: int = 560, height: int = 300, integer_x: bool = True,
               x_tick_labels: Sequence[tuple[float, str]] | None = None) -> str:
    """A line chart with markers and a legend; NaN points are skipped. ``x_tick_labels``
    ((value, text) pairs) replace the automatic x ticks, e.g. k values on a log axis."""
    points = {id(s): _finite_points(s) for s in series}
    xs = [x for pts in points.values() for x, _ in pts]
    ys = [y for pts in points.values() for _, y in pts]
    if not xs:
        return _svg(width, height, [_label(width / 2, height / 2, f"{title}: no data", size=13)], title)
    x_low, x_high = min(xs), max(xs)
    if x_tick_labels:
        x_ticks = sorted({float(v) for v, _ in x_tick_labels} | {x_low, x_high})
    elif integer_x and x_high - x_low < 4:
        x_ticks = [float(v) for v in range(int(math.floor(x_low)), int(math.ceil(x_high)) + 1)]
        if len(x_ticks) == 1:
            x_ticks = [x_ticks[0] - 1, x_ticks[0], x_ticks[0] + 1]
    else:
        x_ticks = nice_ticks(x_low, x_high)
        if integer_x:
            x_ticks = [t for t in x_ticks if float(t).is_integer()] or x_ticks
    if x_ticks[-1] <= x_ticks[0]:  # one x value: centre it
        x_ticks = [x_ticks[0] - 1, x_ticks[0], x_ticks[0] + 1]
    pad = (max(ys) - min(ys)) * 0.05
    frame = _Frame(width, height, x_ticks, nice_ticks(min(ys) - pad, max(ys) + pad))
    parts = frame.axes(title, x_label, y_label,
                       x_tick_labels=[(float(v), t) for v, t in x_tick_labels] if x_tick_labels else None)
    legend_x = frame.x1 - 4
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        pts = points[id(s)]
        if not pts:
            continue
        path = " ".join(f"{frame.px(x):.1f},{frame.py(y):.1f}" for x, y in pts)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        if len(pts) <= 60:
            parts += [f'<circle cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="2.5" fill="{color}"/>'
                      for x, y in pts]
        ly = frame.y1 + 6 + 16 * i
        parts.append(f'<line x1="{legend_x - 150}" x2="{legend_x - 130}" y1="{ly}" y2="{ly}" '
                     f'stroke="{color}" stroke-width="2"{dash}/>')
        parts.append(_label(legend_x - 125, ly + 4, s.name, anchor="start", fill="#222"))
    return _svg(width, height, parts, title)


def bar_chart(values: Sequence[float], *, title: str, x_label: str, y_label: str,
              labels: Sequence[str] | None = None, width: int = 560, height: int = 260,
              color: str = PALETTE[0], highlight_below: float | None = None,
              muted_color: str = "#c7c7c7") -> str:
    """Vertical bars; bars below ``highlight_below`` (e.g. inactive latent units) are muted."""
    values = [float(v) if math.isfinite(float(v)) else 0.0 for v in values]
    if not values:
        return _svg(width, height, [_label(width / 2, height / 2, f"{title}: no data", size=13)], title)
    n = len(values)
    labels = list(labels) if labels is not None else [str(i) for i in range(n)]
    frame = _Frame(width, height, [-0.5, n - 0.5], nice_ticks(min(0.0, min(values)), max(values) or 1.0))
    every = max(1, math.ceil(n / 20))
    parts = frame.axes(title, x_label, y_label,
                       x_tick_labels=[(i, labels[i]) for i in range(0, n, every)])
    slot = (frame.x1 - frame.x0) / n
    base = frame.py(0.0)
    for i, value in enumerate(values):
        fill = muted_color if highlight_below is not None and value < highlight_below else color
        top = frame.py(value)
        x = frame.px(i) - slot * 0.4
        parts.append(f'<rect x="{x:.1f}" y="{min(top, base):.1f}" width="{slot * 0.8:.1f}" '
                     f'height="{abs(base - top):.1f}" fill="{fill}"><title>{escape(labels[i])}: '
                     f'{value:.3g}</title></rect>')
    return _svg(width, height, parts, title)
