"""A form built from a family's config dataclass: one editor per field, from its metadata.

Each field's ``metadata`` says how it is shown: "label", "help" (the tooltip), "choices" (a
combo; a dict maps values to their labels), "min"/"max", "presets" (on a choice field: the
values other fields take with each choice, unless the user typed their own) and "hidden"
(filled from the dataset, e.g. image_shape and num_classes). The editor follows the type:
int -> spin box, float -> spin box (stepping by factors for small positive values), bool ->
check box, str with choices -> combo, tuple of ints -> text like "400" or "512,256".
"""

from __future__ import annotations

import dataclasses
import math
import typing

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from genai_engine.errors import GenAIError

INT_LIMIT = 2**31 - 1


def form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setContentsMargins(8, 6, 8, 8)
    form.setVerticalSpacing(5)
    return form


def parse_ints(text: str) -> tuple[int, ...]:
    """'400' or '512, 256' -> (400,) or (512, 256)."""
    try:
        values = tuple(int(part) for part in str(text).replace(" ", "").split(",") if part)
    except ValueError:
        raise GenAIError(f"give whole numbers like 400 or 512,256, not {text!r}") from None
    if not values:
        raise GenAIError("give at least one number, e.g. 400")
    return values


class ScaleSpinBox(QDoubleSpinBox):
    """A float spin box for values spanning decades (1e-4 .. 1): shown as 0.0002 or 1e-05,
    and the arrows multiply or divide by 2 instead of adding a fixed step."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.setDecimals(12)
        self.setRange(low, high)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        self.setValue(self.value() * 2.0 ** steps)


def _kind(field_type) -> str:
    origin = typing.get_origin(field_type)
    if origin is tuple:
        return "ints"
    return {int: "int", float: "float", bool: "bool", str: "str"}.get(field_type, "str")


class ConfigForm(QWidget):
    """The visible fields of ``config_type`` in a form; ``config(**hidden)`` builds one."""

    changed = Signal()

    def __init__(self, config_type: type, parent=None) -> None:
        super().__init__(parent)
        self.config_type = config_type
        hints = typing.get_type_hints(config_type)
        self.fields = [f for f in dataclasses.fields(config_type) if not f.metadata.get("hidden")]
        self.kinds = {f.name: _kind(hints[f.name]) for f in self.fields}
        self.editors: dict[str, QWidget] = {}
        self.layout_ = form_layout()
        self.setLayout(self.layout_)
        for f in self.fields:
            editor = self._editor(f)
            editor.setToolTip(f.metadata.get("help", ""))
            self.editors[f.name] = editor
            label = f.metadata.get("label", f.name.replace("_", " ").capitalize())
            if self.kinds[f.name] == "bool":
                editor.setText(label)
                label = ""
            self.layout_.addRow(label, editor)
        self.reset()
        for f in self.fields:
            if "presets" in f.metadata:
                self.editors[f.name].currentIndexChanged.connect(
                    lambda _i, name=f.name: self._apply_presets(name))

    def _editor(self, f: dataclasses.Field) -> QWidget:
        kind, meta = self.kinds[f.name], f.metadata
        if "choices" in meta:
            combo = QComboBox()
            choices = meta["choices"]
            labels = choices if isinstance(choices, dict) else {c: str(c) for c in choices}
            for value, label in labels.items():
                combo.addItem(label, value)
            combo.currentIndexChanged.connect(self.changed)
            return combo
        if kind == "int":
            spin = QSpinBox()
            spin.setRange(int(meta.get("min", 0)), int(meta.get("max", INT_LIMIT)))
            spin.valueChanged.connect(self.changed)
            return spin
        if kind == "float":
            low, high = float(meta.get("min", 0.0)), float(meta.get("max", 1e6))
            spin = ScaleSpinBox(low, high) if low > 0 and high / low >= 100 else QDoubleSpinBox()
            if not isinstance(spin, ScaleSpinBox):
                # enough decimals for the default and the limits (an EMA decay of 0.9999)
                shown = [f"{v:g}".partition(".")[2] for v in (low, high, self._default(f))]
                spin.setDecimals(max(2, *(len(d) for d in shown)))
                spin.setRange(low, high)
                spin.setSingleStep(0.1 if high - low > 1 else 10.0 ** -spin.decimals())
            spin.valueChanged.connect(self.changed)
            return spin
        if kind == "bool":
            box = QCheckBox()
            box.toggled.connect(self.changed)
            return box
        edit = QLineEdit()
        if kind == "ints":
            edit.setPlaceholderText("e.g. 400 or 512,256")
        edit.textEdited.connect(self.changed)
        return edit

    # -- values ----------------------------------------------------------------------------------
    def _default(self, f: dataclasses.Field):
        if f.default is not dataclasses.MISSING:
            return f.default
        return f.default_factory()  # type: ignore[misc]

    def set_value(self, name: str, value) -> None:
        editor, kind = self.editors[name], self.kinds[name]
        if isinstance(editor, QComboBox):
            index = editor.findData(value)
            if index >= 0:
                editor.setCurrentIndex(index)
        elif kind == "int":
            editor.setValue(int(value))
        elif kind == "float":
            editor.setValue(float(value))
        elif kind == "bool":
            editor.setChecked(bool(value))
        elif kind == "ints":
            editor.setText(",".join(str(v) for v in value))
        else:
            editor.setText(str(value))

    def value(self, name: str):
        """The field's value, parsed (a tuple field raises GenAIError naming its label)."""
        editor, kind = self.editors[name], self.kinds[name]
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if kind in ("int", "float"):
            return editor.value()
        if kind == "bool":
            return editor.isChecked()
        if kind == "ints":
            try:
                return parse_ints(editor.text())
            except GenAIError as error:
                raise GenAIError(f"{self.label(name)}: {error}") from None
        return editor.text()

    def label(self, name: str) -> str:
        meta = next(f.metadata for f in self.fields if f.name == name)
        return meta.get("label", name)

    def text(self, name: str) -> str:
        """The field as plain text, for remembering between sessions."""
        editor, kind = self.editors[name], self.kinds[name]
        if isinstance(editor, QLineEdit):
            return editor.text()
        value = self.value(name)
        return str(int(value)) if kind == "bool" else str(value)

    def set_text(self, name: str, text: str) -> None:
        """Apply remembered text; anything unreadable keeps the current value."""
        kind = self.kinds[name]
        try:
            if kind == "ints":
                self.editors[name].setText(str(text))
            else:
                convert = {"int": int, "float": float, "bool": lambda t: bool(int(t))}.get(kind, str)
                value = convert(text)
                if kind == "float" and not math.isfinite(value):
                    return
                self.set_value(name, value)
        except (TypeError, ValueError):
            pass

    def reset(self) -> None:
        for f in self.fields:
            self.set_value(f.name, self._default(f))

    def set_config(self, config) -> None:
        for f in self.fields:
            self.set_value(f.name, getattr(config, f.name))

    def config(self, **hidden):
        """The config from the fields plus ``hidden`` ones (image_shape, num_classes...); the
        config's own checks are the validation."""
        values = {f.name: self.value(f.name) for f in self.fields}
        return self.config_type(**values, **hidden)

    def _apply_presets(self, name: str) -> None:
        presets = next(f.metadata["presets"] for f in self.fields if f.name == name)
        chosen = presets.get(self.value(name), {})
        for target, value in chosen.items():
            # only a field still holding one of the presets' values follows the choice
            known = {self._as_text(target, p[target]) for p in presets.values() if target in p}
            if self.text(target).replace(" ", "") in known:
                self.set_value(target, value)

    def _as_text(self, name: str, value) -> str:
        return ",".join(str(v) for v in value) if self.kinds[name] == "ints" else str(value)
