"""Every colour of the desktop comes from the palette or from ``desktop/style.py``.

A hard-coded colour (``#444``, ``background="w"``, ``mkBrush(0, 0, 0, 40)``, ``color: white``)
reads well in one scheme and badly in the other, so no module but style.py may hold one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from PySide6.QtGui import QColor

import desktop

DESKTOP = Path(desktop.__file__).parent
# (module, literal) pairs that may stay, each with its reason. None today.
ALLOWED: dict[tuple[str, str], str] = {}

HEX = re.compile(r"#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3,4})(?![0-9a-zA-Z_-])")
SHEET_COLOUR = re.compile(r"\b(?:color|background|border)[\w-]*\s*:\s*([^;}]*)")
PG_LETTERS = set("rgbcmykwdls")  # pyqtgraph's one-letter colours
NOT_COLOURS = {"transparent", "none"}
# Calls and keywords that take a colour; their string arguments are checked by name.
COLOUR_CALLS = {"setBackground", "mkPen", "mkBrush", "mkColor", "QColor", "QPen", "QBrush",
                "setTextPen", "setPen", "setBrush", "setColor", "setLabelTextColor",
                "fillRect", "setSymbolPen", "setSymbolBrush"}
COLOUR_KEYWORDS = {"background", "color", "colour", "pen", "brush", "symbolPen", "symbolBrush",
                   "labelTextColor", "foreground"}


def _is_colour_name(text: str) -> bool:
    text = text.strip()  # hex is found in every string already
    return text in PG_LETTERS or (text.lower() not in NOT_COLOURS and not text.startswith("#")
                                  and QColor.isValidColorName(text))


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def colour_literals(source: str) -> list[str]:
    """The hard-coded colours in Python source: hex in any string, colour names given to a
    colour-taking call or keyword or in a style sheet, numeric RGB(A) given to a colour call,
    and ``Qt.GlobalColor`` members."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += HEX.findall(node.value)
            for value in SHEET_COLOUR.findall(node.value):
                found += [word for word in re.findall(r"[A-Za-z]+", value)
                          if len(word) > 1 and _is_colour_name(word) and word != "palette"]
        elif isinstance(node, ast.Call):
            colour_call = _call_name(node) in COLOUR_CALLS
            args = [*(node.args if colour_call else []),
                    *(k.value for k in node.keywords if k.arg in COLOUR_KEYWORDS)]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                        and _is_colour_name(arg.value):
                    found.append(arg.value)
            numbers = [a for a in node.args if isinstance(a, ast.Constant)
                       and isinstance(a.value, int | float) and not isinstance(a.value, bool)]
            if colour_call and _call_name(node) in {"mkPen", "mkBrush", "mkColor", "QColor"} \
                    and len(numbers) >= 3:
                found.append(f"{_call_name(node)}{tuple(a.value for a in numbers)}")
        elif isinstance(node, ast.Attribute) and node.attr in _GLOBAL_COLOURS \
                and ast.unparse(node.value).endswith(("Qt", "GlobalColor")):
            found.append(ast.unparse(node))
    return found


_GLOBAL_COLOURS = {"white", "black", "red", "darkRed", "green", "darkGreen", "blue", "darkBlue",
                   "cyan", "darkCyan", "magenta", "darkMagenta", "yellow", "darkYellow", "gray",
                   "darkGray", "lightGray"}


@pytest.mark.parametrize("snippet", [
    'w = pg.PlotWidget(background="w")',
    'view.setBackground("w")',
    'label.setStyleSheet("color: #444;")',
    "text = f\"<span style='color:#b00020'>{m}</span>\"",
    'frame.setStyleSheet("border: 1px solid #c5d5ee")',
    'label.setStyleSheet("background: white")',
    'item.setBrush(pg.mkBrush(0, 0, 0, 40))',
    'plot.getAxis("left").setTextPen("black")',
    'curve = plot.plot(symbolPen="w")',
    'painter.fillRect(rect, Qt.GlobalColor.white)',
])
def test_the_check_finds_a_hard_coded_colour(snippet):
    assert colour_literals(snippet)


@pytest.mark.parametrize("snippet", [
    'label.setStyleSheet("color: palette(placeholder-text);")',
    'tile.setStyleSheet("border: 2px solid transparent;")',
    'frame.setObjectName("inception_notice"); sheet = "#inception_notice { }"',
    'view.setBackground(style.image_background())',
    'pen = pg.mkPen(style.MARK, width=2)',
    'label.setText("pixel level (0 black)")',
])
def test_the_check_passes_palette_and_style_colours(snippet):
    assert colour_literals(snippet) == []


def test_no_desktop_module_but_style_hard_codes_a_colour():
    offenders = {}
    for path in sorted(DESKTOP.rglob("*.py")):
        module = path.relative_to(DESKTOP).as_posix()
        if module == "style.py":
            continue
        literals = [c for c in colour_literals(path.read_text(encoding="utf-8"))
                    if (module, c) not in ALLOWED]
        if literals:
            offenders[module] = literals
    assert not offenders, f"take these colours from desktop/style.py or the palette: {offenders}"
