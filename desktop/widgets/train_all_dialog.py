"""Compare ▸ Train all four…: which families, and the time budget each gets."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout

from genai_engine.families import family_names, get_family


class TrainAllDialog(QDialog):
    def __init__(self, dataset_name: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train all four families")
        self.budget_spin = QSpinBox()
        self.budget_spin.setRange(1, 24 * 60)
        self.budget_spin.setValue(5)
        self.budget_spin.setSuffix(" min")
        self.budget_spin.setToolTip("Each family trains with its defaults for this long, as many "
                                    "epochs as fit, its learning-rate schedule planned over the "
                                    "time; pauses do not count")
        self.checks = {name: QCheckBox(get_family(name).title) for name in family_names()}
        for check in self.checks.values():
            check.setChecked(True)
        form = QFormLayout()
        form.addRow("Time budget per family", self.budget_spin)
        for check in self.checks.values():
            form.addRow(check)
        choice = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(choice.Ok | choice.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Train on <b>{dataset_name}</b> in the background, then compare."))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def families(self) -> list[str]:
        return [name for name, check in self.checks.items() if check.isChecked()]

    def budget_s(self) -> float:
        return 60.0 * self.budget_spin.value()
