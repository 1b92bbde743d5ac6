"""The open model's sampling settings as a form, built from ``Snapshot.sampling_fields()``.

The settings are a dataclass whose fields carry the same metadata as a family config's, so the
Train tab's ``ConfigForm`` builds the editors. ``apply`` hands the values to the one way to
change them, ``Snapshot.configure_sampling``; a value it refuses is shown in red beside the
form and nothing changes. A field marked ``conditional`` (guidance) is disabled for a model
without classes.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop import style
from desktop.widgets.config_form import ConfigForm
from genai_engine.errors import GenAIError

NO_SETTINGS = "This model samples without settings to choose."


class SamplingForm(QWidget):
    changed = Signal()  # an editor changed (not yet applied)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = None
        self.form: ConfigForm | None = None
        self.note = QLabel(NO_SETTINGS)
        self.note.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("sampling_error")
        self.error.setWordWrap(True)
        style.set_text_colour(self.error, style.error_colour)
        self.error.hide()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.note)
        self._layout.addWidget(self.error)

    def set_model(self, model) -> None:
        """Editors for ``model``'s settings, holding its current values (none: a note)."""
        self.model = model
        settings = None if model is None else model.sampling_fields()
        if self.form is not None and (settings is None or self.form.config_type is not type(settings)):
            self._layout.removeWidget(self.form)
            self.form.hide()
            self.form.deleteLater()
            self.form = None
        if settings is not None and self.form is None:
            self.form = ConfigForm(type(settings))
            self.form.layout_.setContentsMargins(0, 0, 0, 0)
            self.form.changed.connect(self.changed)
            self._layout.insertWidget(0, self.form)
        if self.form is not None:
            self.form.blockSignals(True)
            self.form.set_config(settings)
            self.form.blockSignals(False)
            conditional = bool(getattr(model, "conditional", False))
            for f in self.form.fields:
                if f.metadata.get("conditional"):
                    self.form.editors[f.name].setEnabled(conditional)
                    if not conditional:
                        self.form.editors[f.name].setToolTip("Only a class-conditional model has "
                                                             "a guidance scale.")
        self.note.setVisible(self.form is None)
        self.error.hide()

    def values(self) -> dict:
        return {} if self.form is None else {f.name: self.form.value(f.name) for f in self.form.fields}

    def apply(self) -> bool:
        """Configure the model with the form's values; False (and the reason shown) if refused."""
        if self.model is None or self.form is None:
            return self.model is not None
        try:
            self.model.configure_sampling(**self.values())
        except GenAIError as error:
            self.error.setText(str(error))
            self.error.show()
            return False
        self.error.hide()
        return True

    def summary(self) -> str:
        """The applied settings in a few words, for captions: "DDIM, 25 steps"."""
        return describe_settings(None if self.model is None else self.model.sampling_fields())


def describe_settings(settings) -> str:
    """Sampling settings (a ``sampling_fields()`` dataclass, or None: "") in a few words, by
    their labels: "Temperature 0.8, Top-k off, Top-p 0.9"."""
    if settings is None:
        return ""
    parts = []
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        choices = f.metadata.get("choices")
        shown = choices.get(value, value) if isinstance(choices, dict) else value
        if "off" in f.metadata and value == f.metadata["off"]:
            shown = "off"
        parts.append(f"{f.metadata.get('label', f.name)} {shown:g}" if isinstance(shown, float)
                     else f"{f.metadata.get('label', f.name)} {shown}")
    return ", ".join(parts)
