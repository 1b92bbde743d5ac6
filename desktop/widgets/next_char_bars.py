"""The next character's distribution as horizontal bars: the model's, and after the knobs.

The top candidates by the model's own probability, most likely on top, with two bars each: what
the model predicts (before) and what a character is drawn from after temperature, top-k and
top-p. The knobs never reorder the candidates (temperature keeps the order; top-k and top-p
keep the most likely ones), so the characters a draw can give are always a run from the top.
Invisible characters get a visible stand-in (``shown_char``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from desktop import style

TOP = 20  # candidates shown
BEFORE, AFTER = style.BLUE, style.ORANGE
STAND_INS = {" ": "␣", "\n": "↵", "\t": "⇥"}


def shown_char(character: str) -> str:
    """A character as a reader can see it: '␣' for a space, '↵' a newline, '⇥' a tab, the code
    point of any other invisible one."""
    if character in STAND_INS:
        return STAND_INS[character]
    if not character.isprintable() or character.isspace():
        return f"U+{ord(character):04X}"
    return character


def top_candidates(chars: list[str], before: np.ndarray, after: np.ndarray, top: int = TOP):
    """The ``top`` most likely characters by ``before``: (chars, before, after), most likely first."""
    order = np.argsort(-np.asarray(before), kind="stable")[:top]
    return [chars[i] for i in order], np.asarray(before)[order], np.asarray(after)[order]


class NextCharBars(pg.PlotWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMouseEnabled(False, False)
        self.setTitle("Next character", size="9pt")
        self.setLabel("bottom", "probability")
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.setXRange(0, 1, padding=0.02)
        self.setMinimumHeight(220)
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=False, alpha=0.25)
        plot.invertY(True)  # the most likely on top
        # bottom right: the least likely candidates leave that corner empty
        plot.addLegend(offset=(-6, -6), labelTextSize="8pt", brush=style.legend_brush())
        self.before_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.38, brush=BEFORE, pen=None,
                                           name="the model's prediction (before the knobs)")
        self.after_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.38, brush=AFTER, pen=None,
                                          name="drawn from (after temperature, top-k, top-p)")
        self.addItem(self.before_bars)
        self.addItem(self.after_bars)
        self.chars: list[str] = []  # the candidates shown, top first
        self.before = np.zeros(0)
        self.after = np.zeros(0)
        style.keep_plot_styled(self)

    def show_distribution(self, chars: list[str], before: np.ndarray, after: np.ndarray) -> None:
        """All the model's characters and their probabilities (the top ones are shown)."""
        self.chars, self.before, self.after = top_candidates(chars, before, after)
        rows = np.arange(len(self.chars), dtype=float)
        zeros = np.zeros(len(rows))
        self.before_bars.setOpts(x0=zeros, y=rows - 0.2, width=self.before, height=0.38)
        self.after_bars.setOpts(x0=zeros, y=rows + 0.2, width=self.after, height=0.38)
        self.getAxis("left").setTicks([[(i, shown_char(c)) for i, c in enumerate(self.chars)], []])
        self.setYRange(-0.6, max(len(rows), 1) - 0.4, padding=0)
        self.setXRange(0, max(1e-3, float(max(self.before.max(initial=0), self.after.max(initial=0)))),
                       padding=0.04)

    def clear_bars(self) -> None:
        self.show_distribution([], np.zeros(0), np.zeros(0))
