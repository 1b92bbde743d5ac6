"""Analyze ▸ Report: export the open run as one self-contained HTML file.

The page is built on the worker pool by ``genai_engine.report``; it can include the latest
likelihood estimate from the Likelihood section and the Evaluate tab's saved FID runs of this
checkpoint (read from its history file, with their feature network and sample counts).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.state import AppState
from desktop.widgets.task_bar import TaskBar
from genai_engine.families.base import Encoder, LatentDecoder
from genai_engine.report import export_report
from genai_engine.resources import user_data_dir

log = logging.getLogger(__name__)
EVALUATIONS_FILE = "evaluations.json"  # written by the Evaluate tab

CONTENTS = (
    "The report holds the model and training settings, loss curves, samples and what the model "
    "can show besides (the KL of each latent dimension, reconstructions, an interpolation), as "
    "one .html file with everything inline: it opens offline, can be mailed as is, and prints to "
    "PDF from a browser.")


def evaluation_runs(checkpoint) -> list[dict]:
    """The Evaluate tab's saved runs for this checkpoint (same run folder and file name)."""
    if checkpoint is None or checkpoint.path is None:
        return []
    name = f"{checkpoint.path.parent.name}/{checkpoint.path.name}"
    path = user_data_dir() / EVALUATIONS_FILE
    try:
        runs = json.loads(path.read_text(encoding="utf-8")).get("runs", [])
    except FileNotFoundError:
        return []
    except (OSError, ValueError, AttributeError) as error:
        log.warning("cannot read the evaluation history %s: %s", path, error)
        return []
    return [run for run in runs if isinstance(run, dict) and run.get("model") == name
            and run.get("fid") is not None]


class ReportPanel(QWidget):
    exported = Signal(str)  # path of the written report

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.likelihood = None
        self.last_path: Path | None = None
        self._export_dir = Path.home()

        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("the run folder's name")
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(4, 256)
        self.samples_spin.setValue(64)
        self.samples_spin.setToolTip("Prior samples in the report's grid")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.likelihood_check = QCheckBox("Likelihood estimate")
        self.likelihood_check.setEnabled(False)
        self.likelihood_check.setToolTip("Run an estimate in the Likelihood section to include it")
        self.metrics_check = QCheckBox("FID runs from the Evaluate tab")
        self.metrics_check.setChecked(True)
        self.task = TaskBar("Export HTML…")
        self.open_button = QPushButton("Open in browser")
        self.open_button.setEnabled(False)
        self.open_button.setToolTip("Open the last exported report")

        box = QGroupBox("Export a report")
        form = QFormLayout(box)
        form.addRow("Title", self.title_edit)
        form.addRow("Samples", self.samples_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Include", self.likelihood_check)
        form.addRow("", self.metrics_check)
        form.addRow(self.task)
        form.addRow(self.open_button)
        box.setMaximumWidth(520)
        contents = QLabel(CONTENTS)
        contents.setWordWrap(True)
        style.set_text_colour(contents, style.muted_colour)
        contents.setMaximumWidth(520)
        self.context = QLabel()
        self.context.setWordWrap(True)
        self.context.setMaximumWidth(520)

        self.contents_list = QLabel()  # what the page will hold, updated as options change
        self.contents_list.setWordWrap(True)
        self.contents_list.setTextFormat(Qt.TextFormat.RichText)
        contents_box = QGroupBox("The report will contain")
        contents_layout = QVBoxLayout(contents_box)
        contents_layout.addWidget(self.contents_list)
        contents_layout.addStretch(1)
        contents_box.setMinimumWidth(360)
        contents_box.setMaximumWidth(560)

        column = QVBoxLayout()
        column.addWidget(box)
        column.addWidget(self.context)
        column.addWidget(contents)
        column.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(column)
        layout.addWidget(contents_box, 0, Qt.AlignmentFlag.AlignTop)
        layout.addStretch(1)

        for check in (self.likelihood_check, self.metrics_check):
            check.toggled.connect(self._update_contents)
        self.samples_spin.valueChanged.connect(self._update_contents)
        self.task.run_clicked.connect(self.choose_and_export)
        self.open_button.clicked.connect(self.open_last)
        state.checkpoint_changed.connect(self._context_changed)
        state.model_changed.connect(self._context_changed)
        state.dataset_changed.connect(self._context_changed)
        self._context_changed()

    def set_likelihood(self, result) -> None:
        """Offer a finished likelihood estimate for the report (from the Likelihood section)."""
        self.likelihood = result
        self.likelihood_check.setEnabled(result is not None)
        self.likelihood_check.setChecked(result is not None)
        if result is None:
            self.likelihood_check.setText("Likelihood estimate")
        if result is not None:
            k = max(result.ks)
            self.likelihood_check.setText(f"Likelihood estimate (NLL {result.nll[k]:.1f} nats, "
                                          f"k = {k:,}, {result.n_images:,} images)")

    def _context_changed(self, *_args) -> None:
        checkpoint = self.state.checkpoint
        if checkpoint is None:
            self.task.set_ready(False, "Open or train a model first: the report describes a saved "
                                "checkpoint.")
            self.context.setText("")
            self._update_contents()
            return
        self.task.set_ready(True)
        runs = evaluation_runs(checkpoint)
        self.metrics_check.setText(f"FID runs from the Evaluate tab ({len(runs)} for this checkpoint)")
        self.metrics_check.setEnabled(bool(runs))
        if not runs:
            self.metrics_check.setChecked(False)
        where = checkpoint.path or "unsaved model"
        dataset = self.state.dataset
        note = ""
        if dataset is None:
            note = " Open its dataset to include reconstructions."
        elif checkpoint.dataset.get("fingerprint") not in (None, "", dataset.fingerprint):
            note = (f" The open dataset ({dataset.name}) is not the one it was trained on; its "
                    "images are used for the reconstructions.")
        self.context.setText(f"<b>Run:</b> {where} · epoch {checkpoint.epoch}.{note}")
        self._update_contents()

    def _update_contents(self, *_args) -> None:
        checkpoint, dataset = self.state.checkpoint, self.state.dataset
        if checkpoint is None:
            self.contents_list.setText("<i>Open a checkpoint first.</i>")
            return
        epochs = len(checkpoint.history.get("test_loss", []))
        kl = checkpoint.diagnostics.get("latent_importance")
        model = self.state.checkpoint_model
        encoder, latent = isinstance(model, Encoder), isinstance(model, LatentDecoder)
        dims = getattr(checkpoint.model_config, "latent_dim", "")
        items = [
            (epochs > 0, f"Loss curves over {epochs} epoch{'s' * (epochs != 1)} (train and test)"),
            (encoder and kl is not None, f"KL of each of the {dims} latent dimensions"),
            (True, f"{self.samples_spin.value()} samples"),
            (encoder and dataset is not None, "Test images beside their reconstructions"),
            (latent, "An interpolation strip"
             + (" between two test images" if dataset and encoder else "")),
            (self.metrics_check.isChecked(), "FID runs with their feature network and sample counts"),
            (self.likelihood_check.isChecked(), "The likelihood estimate (IWAE per k and the ELBO)"),
            (True, "Model, training and dataset settings"),
        ]
        self.contents_list.setText("<br>".join(
            f"{style.span('✔', style.success_colour())}&nbsp;{text}" if present else
            style.span(f"✘&nbsp;{text}", style.muted_colour()) for present, text in items))

    def choose_and_export(self) -> None:
        checkpoint = self.state.checkpoint
        if checkpoint is None or self.task.running:
            return
        run = checkpoint.path.parent.name if checkpoint.path else "run"
        suggested = self._export_dir / f"{run}-report.html"
        path, _ = QFileDialog.getSaveFileName(self, "Export report", str(suggested),
                                              "HTML report (*.html)")
        if path:
            if not path.lower().endswith((".html", ".htm")):
                path += ".html"
            self.export_to(path)

    def export_to(self, path: str | Path) -> None:
        """Build and write the report to ``path`` on the worker pool."""
        checkpoint, dataset = self.state.checkpoint, self.state.dataset
        if checkpoint is None or self.task.running:
            return
        path = Path(path)
        self._export_dir = path.parent
        options = {
            "metrics": evaluation_runs(checkpoint) if self.metrics_check.isChecked() else None,
            "likelihood": self.likelihood if self.likelihood_check.isChecked() else None,
            "n_samples": self.samples_spin.value(),
            "seed": self.seed_spin.value(),
            "title": self.title_edit.text().strip() or None,
        }
        options["metrics"] = options["metrics"] or None

        def work(control):
            yield export_report(path, checkpoint, dataset, **options)

        def done(written) -> None:
            self.last_path = Path(written)
            self.open_button.setEnabled(True)
            size = self.last_path.stat().st_size / 1024
            self.task.set_progress(1.0, f"Wrote {self.last_path} ({size:.0f} KiB).")
            self.state.status_message.emit(f"Report written to {self.last_path}")
            self.exported.emit(str(self.last_path))

        def failed(message: str) -> None:
            self.task.set_progress(0.0, "Failed.")
            self.state.error.emit("Report export failed", message)

        self.task.submit(self.state.runner, "Analyze: report", work, text=f"Writing {path.name}…",
                         on_finished=done, on_error=failed,
                         on_cancelled=lambda: self.task.set_progress(0.0, "Cancelled."))

    def open_last(self) -> None:
        if self.last_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_path)))
