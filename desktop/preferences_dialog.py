"""Edit ▸ Preferences: compute device, the quit confirmation, and resetting Train defaults."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from desktop import style
from desktop.settings import DEVICE_CHOICES, Settings
from genai_engine.devices import available_devices, describe_device, resolve_device
from genai_engine.errors import GenAIError


def device_caption(name: str) -> str:
    try:
        return f"{name} — {describe_device(resolve_device(name))}"
    except GenAIError:
        return f"{name} — not available on this computer"


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.reset_train_requested = False

        self.device_combo = QComboBox()
        present = set(available_devices()) | {"auto"}
        for name in DEVICE_CHOICES:
            self.device_combo.addItem(device_caption(name), name)
            if name not in present:
                item = self.device_combo.model().item(self.device_combo.count() - 1)
                item.setEnabled(False)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(settings.device)))
        self.device_combo.setToolTip("Where models train and run. auto picks a CUDA GPU, then "
                                     "Apple MPS, then the CPU.")
        self.confirm = QCheckBox("Ask before quitting while a task runs")
        self.confirm.setChecked(settings.confirm_close)
        self.reset_button = QPushButton("Reset Training Settings to Defaults")
        self.reset_button.clicked.connect(self._reset_train)
        self.reset_note = QLabel("")
        style.set_text_colour(self.reset_note, style.muted_colour)

        form = QFormLayout()
        form.addRow("Compute device", self.device_combo)
        form.addRow("", self.confirm)
        form.addRow("", self.reset_button)
        form.addRow("", self.reset_note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def device(self) -> str:
        return self.device_combo.currentData()

    def _reset_train(self) -> None:
        self.reset_train_requested = True
        self.reset_note.setText("The Train tab's settings return to their defaults when you press OK.")

    def accept(self) -> None:
        self.settings.confirm_close = self.confirm.isChecked()
        if self.reset_train_requested:
            self.settings.qsettings.remove("train")
        super().accept()
