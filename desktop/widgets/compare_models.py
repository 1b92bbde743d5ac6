"""Compare ▸ the models: up to four checkpoints, the sample count and seed, and the Run bar.

Checkpoints are loaded as they are added, so a model trained on other data is named at once,
with the reason shown in place of a run (``compare.check_same_data``'s sentence).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.state import AppState
from desktop.widgets.task_bar import TaskBar
from genai_engine.analysis.compare import MAX_MODELS, check_same_data
from genai_engine.errors import GenAIError


class CompareModelsPanel(QWidget):
    changed = Signal()  # the list of models changed

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.checkpoints: list = []

        self.list = QListWidget()
        self.list.setObjectName("compare_models")
        self.list.setMaximumHeight(110)
        self.add_file_button = QPushButton("Add checkpoint…")
        self.add_file_button.setToolTip("Pick checkpoint files (.pt) of any family")
        self.add_open_button = QPushButton("Add the open model")
        self.add_demos_button = QPushButton("Add the demo models")
        self.add_demos_button.setToolTip("The demo model of every family that ships with the app "
                                         "(trained on Fashion-MNIST with each family's defaults)")
        self.remove_button = QPushButton("Remove")
        self.train_all_button = QPushButton("Train all four…")
        self.train_all_button.setToolTip("Train one model of each family on the open dataset, each "
                                         "within a time budget, then compare them")
        self.reason = QLabel()
        self.reason.setObjectName("compare_reason")
        self.reason.setWordWrap(True)
        style.set_text_colour(self.reason, style.error_colour)
        self.reason.hide()

        self.n_spin = QSpinBox()
        self.n_spin.setRange(16, 50_000)
        self.n_spin.setSingleStep(500)
        self.n_spin.setValue(1000)
        self.n_spin.setToolTip("Samples per model: every model gets the same number, the same seed "
                               "and the same real statistics (the test split)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setToolTip("Seed of the samples (latent families decode the same z)")
        self.task = TaskBar("Compare")

        buttons = QGridLayout()  # two rows: four buttons in one are cut off at the panel's width
        for index, button in enumerate((self.add_file_button, self.add_open_button,
                                        self.add_demos_button, self.remove_button)):
            buttons.addWidget(button, *divmod(index, 2))
        box = QGroupBox(f"Models (up to {MAX_MODELS}, trained on the same data)")
        inner = QVBoxLayout(box)
        inner.addWidget(self.list)
        inner.addLayout(buttons)
        inner.addWidget(self.reason)
        inner.addWidget(self.train_all_button)
        settings = QGroupBox("Measured alike")
        form = QFormLayout(settings)
        form.addRow("Samples per model", self.n_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow(self.task)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addWidget(settings)

        self.add_file_button.clicked.connect(self._pick_files)
        self.add_open_button.clicked.connect(self.add_open_model)
        self.add_demos_button.clicked.connect(self.add_demo_models)
        self.remove_button.clicked.connect(self.remove_selected)
        state.checkpoint_changed.connect(lambda _c: self.refresh())
        state.dataset_changed.connect(lambda _d: self.refresh())
        self.refresh()

    # --- the list --------------------------------------------------------------------------
    def add_demo_models(self) -> None:
        from genai_engine.resources import demo_checkpoints

        for path in demo_checkpoints().values():
            if len(self.checkpoints) >= MAX_MODELS:
                break
            if all(str(getattr(c, "path", "")) != str(path) for c in self.checkpoints):
                self.add_path(path)

    def add_path(self, path) -> None:
        from genai_engine.checkpoints import load_checkpoint

        try:
            self.add_checkpoint(load_checkpoint(path))
        except GenAIError as error:
            self.state.error.emit("Cannot add this checkpoint", str(error))

    def add_checkpoint(self, checkpoint) -> None:
        if len(self.checkpoints) >= MAX_MODELS:
            self.state.error.emit("Four models at most", f"Compare takes up to {MAX_MODELS} models; "
                                  "remove one first.")
            return
        self.checkpoints.append(checkpoint)
        self.refresh()

    def add_open_model(self) -> None:
        if self.state.checkpoint is not None:
            self.add_checkpoint(self.state.checkpoint)

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.checkpoints):
            del self.checkpoints[row]
            self.refresh()

    def set_checkpoints(self, checkpoints) -> None:
        self.checkpoints = list(checkpoints)[:MAX_MODELS]
        self.refresh()

    def _pick_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add checkpoints", "",
                                                "Checkpoints (*.pt);;All files (*)")
        for path in paths:
            self.add_path(path)

    # --- state -----------------------------------------------------------------------------
    def mismatch(self) -> str | None:
        """Why these models cannot be compared (one sentence), or None."""
        try:
            check_same_data(self.checkpoints)
        except GenAIError as error:
            return str(error)
        return None

    def refresh(self) -> None:
        from genai_engine.families import get_family
        from genai_engine.resources import demo_checkpoints

        self.list.clear()
        for c in self.checkpoints:
            where = f"{Path(c.path).parent.name}/{Path(c.path).name}" if c.path else "not saved"
            self.list.addItem(f"{get_family(c.family).title} — {where}")
            self.list.item(self.list.count() - 1).setToolTip(str(c.path or "the open model, not saved"))
        reason = self.mismatch() if self.checkpoints else None
        self.reason.setText(reason or "")
        self.reason.setVisible(bool(reason))
        opened = self.state.checkpoint
        self.add_open_button.setEnabled(opened is not None and len(self.checkpoints) < MAX_MODELS
                                        and all(c is not opened for c in self.checkpoints))
        self.add_open_button.setToolTip("" if opened is not None else "Open or train a model first")
        self.add_file_button.setEnabled(len(self.checkpoints) < MAX_MODELS)
        self.add_demos_button.setEnabled(len(self.checkpoints) < MAX_MODELS and bool(demo_checkpoints()))
        self.remove_button.setEnabled(bool(self.checkpoints))
        ready_reason = ("Add the models to compare." if not self.checkpoints else
                        "The models were trained on different data." if reason else "")
        self.task.set_ready(not ready_reason, ready_reason)
        self.train_all_button.setEnabled(self.state.dataset is not None and not self.task.running)
        self.train_all_button.setToolTip(self.train_all_button.toolTip() if self.state.dataset is not None
                                         else "Open a dataset first")
        self.changed.emit()
