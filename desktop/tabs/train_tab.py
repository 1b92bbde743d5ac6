"""The Train tab: pick data, a model family and settings, train live, watch it learn.

Training is the engine's ``train`` generator on the worker pool. Its records drive the view:
``StepRecord`` feeds the curves of the family's metrics (buffered, redrawn at ~30 Hz), the
progress bar and the family's preview (reconstructions, or fixed-noise samples);
``EpochRecord`` the test curves and the diagnostics panels its measure names (KL bars, the
mode-collapse monitor). After each epoch the worker
also loads the epoch's checkpoint as a weight snapshot so Explore and Interpolate follow the
training live, and at the end the final checkpoint becomes the app's current model.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.loaders import Loader
from desktop.run_folders import new_run_dir
from desktop.settings import Settings
from desktop.state import AppState, checkpoint_name
from desktop.task_runner import TaskHandle
from desktop.task_slot import TaskSlot
from desktop.training_work import EpochSnapshot, RunNotSaved, RunSaved, training_work
from desktop.widgets.dataset_panel import DatasetPanel
from desktop.widgets.image_view import ImageView
from desktop.widgets.loss_plot import LossPlot
from desktop.widgets.preview_text import PREVIEWS
from desktop.widgets.text_training import TextFormFit, TextPreview, is_text
from desktop.widgets.train_diagnostics import MONITORED_METRICS, TrainDiagnostics, caption
from desktop.widgets.train_settings import TrainSettings
from genai_engine.checkpoints import Checkpoint, load_checkpoint
from genai_engine.data import Dataset
from genai_engine.devices import resolve_device
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.families.base import Encoder
from genai_engine.files import atomic_write_text
from genai_engine.resources import user_data_dir
from genai_engine.sampling import sample_model
from genai_engine.training import PREVIEW_COUNT, EpochRecord, StepRecord, TrainingDone

log = logging.getLogger(__name__)

IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def has_encoder(family: str) -> bool:
    """Whether the family's models encode images (a VAE), from its snapshot's capabilities."""
    return issubclass(get_family(family).snapshot_type, Encoder)


class TrainTab(QWidget):
    run_state_changed = Signal(str)  # idle / running / paused / stopping

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.loader = Loader.for_state(state)
        self.settings = Settings()
        self.task = TaskSlot()  # the training run
        self.run_state = IDLE
        self.run_dir: Path | None = None
        self.last_checkpoint: str | None = None
        self.unsaved: Checkpoint | None = None  # a run's model its checkpoint could not hold
        self.resume_checkpoint: Checkpoint | None = None
        self._steps_per_epoch = 1.0
        self._last_x = 0.0
        self._epochs = 0
        self._minutes = 0.0  # the run's time limit (0: none)
        self._preview_generation = 0
        self._preview_kind = "reconstructions"  # what the running family's preview shows

        self.dataset_panel = DatasetPanel(self.loader)
        self.form = TrainSettings()
        self.form.set_device(state.device)
        self.form.restore(self.settings.train_defaults())
        self.text_fit = TextFormFit(self.form)  # a text corpus trains with a character model
        self.error_label = QLabel("")
        self.error_label.setObjectName("train_error")
        self.error_label.setWordWrap(True)
        style.set_text_colour(self.error_label, style.error_colour)
        self.error_label.hide()

        self.resume_banner = QFrame()
        style.set_notice(self.resume_banner, "info", selector=".QFrame")  # not its QLabels
        self.resume_label = QLabel("")
        self.resume_label.setWordWrap(True)
        self.fresh_button = QToolButton()
        self.fresh_button.setText("Start fresh")
        self.fresh_button.setToolTip("Forget the checkpoint and train a new model")
        self.fresh_button.clicked.connect(self.clear_resume)
        banner = QHBoxLayout(self.resume_banner)
        banner.setContentsMargins(6, 4, 6, 4)
        banner.addWidget(self.resume_label, 1)
        banner.addWidget(self.fresh_button)
        self.resume_banner.hide()

        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("train_start")
        self.start_button.setDefault(True)
        self.start_button.setToolTip("Train a new model with these settings, or continue the "
                                     "checkpoint chosen with Resume")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("train_pause")
        self.pause_button.setToolTip("Pause or resume the running training (Space)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("train_stop")
        self.stop_button.setToolTip("Stop training and save a checkpoint (Esc)")
        self.resume_button = QToolButton()
        self.resume_button.setText("Resume from checkpoint")
        self.resume_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.resume_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.resume_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.resume_menu = QMenu(self)
        self.resume_current = self.resume_menu.addAction("The current model")
        self.resume_current.triggered.connect(self._resume_current)
        self.resume_menu.addAction("Open checkpoint…").triggered.connect(self._choose_resume)
        self.resume_button.setMenu(self.resume_menu)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.setSpacing(8)
        left_layout.addWidget(self.dataset_panel)
        left_layout.addWidget(self.form)
        left_layout.addWidget(self.resume_banner)
        left_layout.addWidget(self.error_label)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.resume_button)
        left_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(340)

        # Right: progress, curves, reconstructions and KL bars, run folder.
        # The bar carries its own text (epoch, speed, time left), so no label competes for room.
        self.progress = QProgressBar()
        self.progress.setObjectName("train_progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setMinimumHeight(24)
        self.progress.setValue(0)  # a reset bar (value -1) hides its text
        self._set_progress_text("Ready to train: choose settings and press Start")

        self.plot = LossPlot()
        self.plot.setToolTip("Solid lines: the family's training metrics, averaged over a few "
                             "steps. Dashed with dots: its test measure after each epoch.")
        self.plot.export_history_requested.connect(self.export_history_dialog)

        self.recon_view = ImageView(min_size=80)
        self.preview_box = QGroupBox("Preview")
        recon_layout = QVBoxLayout(self.preview_box)
        recon_layout.setContentsMargins(6, 4, 6, 6)
        recon_layout.addWidget(self.recon_view, 1)
        self.recon_caption = caption("")
        recon_layout.addWidget(self.recon_caption)
        self.text_preview = TextPreview(state)  # in place of the images for a text corpus
        recon_layout.addWidget(self.text_preview, 1)
        self.diagnostics = TrainDiagnostics()
        # The stretch factors share the height, not the plots' size hints.
        for widget in (self.plot, self.preview_box, self.diagnostics):
            widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)

        lower = QHBoxLayout()
        lower.setSpacing(8)
        lower.addWidget(self.preview_box, 2)
        lower.addWidget(self.diagnostics, 3)

        self.run_label = QLabel("Checkpoints are saved after every epoch and on Stop.")
        self.run_label.setObjectName("train_run_folder")
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        style.set_text_colour(self.run_label, style.muted_colour)
        self.open_folder_button = QPushButton("Open Run Folder")
        self.open_folder_button.setToolTip("Show the run folder (checkpoint.pt) in the file manager")
        self.open_folder_button.setEnabled(False)
        self.open_folder_button.clicked.connect(self.open_run_folder)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_label, 1)
        run_row.addWidget(self.open_folder_button)

        right = QVBoxLayout()
        right.setSpacing(8)
        right.addWidget(self.progress)
        right.addWidget(self.plot, 1)
        right.addLayout(lower, 1)
        right.addLayout(run_row)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 8)
        layout.setSpacing(10)
        layout.addWidget(scroll)
        layout.addLayout(right, 1)

        self.form.changed.connect(self._clear_error)
        self.form.family.currentIndexChanged.connect(lambda _i: self._family_changed())
        state.dataset_changed.connect(self._dataset_changed)
        state.model_changed.connect(self._model_changed)
        state.checkpoint_changed.connect(self._checkpoint_changed)
        self._family_changed()
        self._dataset_changed(state.dataset)
        if state.checkpoint is not None:
            self._checkpoint_changed(state.checkpoint)
        self._set_run_state(IDLE)

    # -- state ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.run_state != IDLE

    @property
    def handle(self) -> TaskHandle | None:
        """The running training's handle (None when idle)."""
        return self.task.handle

    def _set_run_state(self, run_state: str) -> None:
        self.run_state = run_state
        idle = run_state == IDLE
        self.start_button.setEnabled(idle and self.state.dataset is not None)
        self.pause_button.setEnabled(run_state in (RUNNING, PAUSED))
        self.pause_button.setText("Resume" if run_state == PAUSED else "Pause")
        self.stop_button.setEnabled(run_state in (RUNNING, PAUSED))
        self.form.setEnabled(idle)
        self.form.set_model_editable(self.resume_checkpoint is None)
        self.dataset_panel.setEnabled(idle)
        self.resume_button.setEnabled(idle)
        self.fresh_button.setEnabled(idle)
        self.run_state_changed.emit(run_state)

    def _set_progress_text(self, text: str) -> None:
        self.progress.setFormat(text)  # only %p, %v and %m are placeholders; "45% ·" is literal

    @property
    def progress_text(self) -> str:
        return self.progress.text()

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.hide()
        self.error_label.setText("")

    # -- dataset and model from the rest of the app --------------------------------------------
    def _dataset_changed(self, dataset: Dataset | None) -> None:
        self.dataset_panel.set_dataset(dataset)
        self.form.set_dataset(dataset)
        self.text_fit.set_dataset(dataset)
        for widget in (self.recon_view, self.recon_caption):
            widget.setVisible(not is_text(dataset))
        self.text_preview.setVisible(is_text(dataset))
        if self.run_state == IDLE:
            self.start_button.setEnabled(dataset is not None)
            self._refresh_idle_preview()

    def _model_changed(self, _model) -> None:
        if self.run_state == IDLE:
            self._refresh_idle_preview()

    def _checkpoint_changed(self, checkpoint: Checkpoint) -> None:
        epoch = checkpoint.epoch
        self.resume_current.setText(f"The current model ({checkpoint_name(checkpoint)}, "
                                    f"epoch {epoch})")
        if self.run_state == IDLE and self.handle is None:
            if self.resume_checkpoint is None:  # a resume keeps the form on the resumed run
                self.form.show_model(checkpoint)
            self._show_history(checkpoint)

    def _family_changed(self) -> None:
        """The form's family changed while idle: set the views up for it."""
        if self.run_state == IDLE and self.handle is None:
            self._prepare_views(self.form.family_name)

    def _prepare_views(self, family: str) -> None:
        spec = get_family(family)
        self.plot.set_family(spec.headline, spec.loss_unit, excluded=MONITORED_METRICS)
        encoder = has_encoder(family)
        dataset = self.state.dataset
        self.diagnostics.start(encoder, dataset.class_names if dataset is not None else [])
        self.diagnostics.clear()

    def _show_history(self, checkpoint: Checkpoint) -> None:
        """Idle view of a loaded model: its per-epoch curves (history keys ``train_<metric>``
        and ``test_<metric>``) and its diagnostics."""
        self._prepare_views(checkpoint.family)
        history = checkpoint.history
        epochs = history.get("epoch") or list(range(1, len(history.get("test_loss", [])) + 1))
        for split in ("train", "test"):
            columns = {key[len(split) + 1:]: values for key, values in history.items()
                       if key.startswith(f"{split}_")}
            for i, x in enumerate(epochs):
                self.plot.add(split, float(x), {m: v[i] for m, v in columns.items() if i < len(v)})
        self.plot.redraw()
        self.diagnostics.start(has_encoder(checkpoint.family), checkpoint.dataset.get("class_names") or [])
        self.diagnostics.show_history(history, checkpoint.diagnostics)

    def _refresh_idle_preview(self) -> None:
        """The current model's preview, computed off-thread: test images over their
        reconstructions for a model with an encoder, else seeded samples."""
        dataset, model = self.state.dataset, self.state.model
        if dataset is None or is_text(dataset):  # the text preview follows the model itself
            return
        images = dataset.test.images[:PREVIEW_COUNT]
        self._preview_generation += 1
        generation = self._preview_generation
        if model is None or tuple(model.config.image_shape) != tuple(dataset.image_shape):
            self.recon_view.set_images(images, columns=len(images))
            self.preview_box.setTitle("Test images")
            self.recon_view.setToolTip("")
            self.recon_caption.setText("test images (open or train a model to see its preview)")
            return
        encoder = isinstance(model, Encoder)
        kind = "reconstructions" if encoder else "samples"
        if encoder:
            labels = dataset.test.labels[:PREVIEW_COUNT] if model.conditional else None

            def work():
                mean, _ = model.encode(images, labels)
                return np.concatenate([images, model.decode(mean, labels)])
        else:
            def work():
                return sample_model(model, 2 * PREVIEW_COUNT, seed=0)

        def shown(preview) -> None:
            if generation == self._preview_generation and self.run_state == IDLE:
                self._show_preview(preview, kind)

        self.state.runner.call("Preview", work, on_finished=shown)

    def _show_preview(self, preview: np.ndarray, kind: str) -> None:
        if not len(preview):  # a character model's: it draws no images
            return
        text = PREVIEWS[kind]
        # Inputs over outputs pair each image with its output; samples fill rows of 8.
        columns = len(preview) // 2 if text.paired else min(len(preview), PREVIEW_COUNT)
        self.recon_view.set_images(preview, columns=max(1, columns))
        self.preview_box.setTitle(text.title)
        self.recon_view.setToolTip(text.tooltip)
        self.recon_caption.setText(text.caption)

    # -- resume ----------------------------------------------------------------------------------
    def _resume_current(self) -> None:
        if self.state.checkpoint is None:
            self._show_error("There is no current model to resume; open a checkpoint or train one.")
            return
        self.set_resume(self.state.checkpoint)

    def _choose_resume(self) -> None:
        start = str(user_data_dir() / "runs")
        path, _ = QFileDialog.getOpenFileName(self, "Resume from a checkpoint", start,
                                              "GenAI Lab checkpoints (*.pt);;All files (*)")
        if path:
            self.resume_from(path)

    def resume_from(self, path: str | Path) -> TaskHandle:
        """Load ``path`` off-thread and make it the checkpoint the next Start continues."""
        def failed(message: str) -> None:
            self._show_error(f"Could not resume: {message}")

        return self.state.runner.call("Opening checkpoint", lambda: load_checkpoint(path),
                                      on_finished=self.set_resume, on_error=failed)

    def set_resume(self, checkpoint: Checkpoint) -> None:
        self.resume_checkpoint = checkpoint
        self.form.show_checkpoint(checkpoint)
        self.form.set_model_editable(False)
        dataset = checkpoint.dataset.get("name", "?")
        self.resume_label.setText(f"Continuing <b>{checkpoint_name(checkpoint)}</b> from epoch "
                                  f"{checkpoint.epoch} (trained on {dataset}). Start trains up "
                                  "to the epochs set above.")
        self.resume_banner.show()
        self._clear_error()
        self._show_history(checkpoint)

    def clear_resume(self) -> None:
        self.resume_checkpoint = None
        self.resume_banner.hide()
        self.form.set_model_editable(True)

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> TaskHandle | None:
        if self.running:
            return None
        dataset = self.state.dataset
        if dataset is None:
            self._show_error("Open a dataset first.")
            return None
        try:
            family, model_config, train_config = self.form.configs(dataset)
            resolve_device(train_config.device)
        except GenAIError as error:
            self._show_error(str(error))
            return None
        resume = self.resume_checkpoint
        if resume is not None:
            family, model_config = resume.family, None
            if train_config.epochs <= resume.epoch:
                self._show_error(f"The checkpoint already has {resume.epoch} epochs; set Epochs "
                                 "higher to continue it.")
                return None
        self._clear_error()
        self.settings.set_train_defaults(self.form.values())
        try:
            self.run_dir = new_run_dir(dataset.name)
        except OSError as error:  # StorageError included: a full or read-only home
            self._show_error(str(error))
            return None

        self._epochs = train_config.epochs
        self._minutes = train_config.minutes
        self._steps_per_epoch = 1.0
        self._last_x = float(resume.epoch) if resume else 0.0
        self.last_checkpoint = None
        self.unsaved = None
        self._preview_generation += 1  # drop idle previews still in flight
        if resume is not None:
            self._show_history(resume)
        else:
            self._prepare_views(family)
        self._preview_kind = get_family(family).preview_kind
        self.progress.setValue(0)
        self._set_progress_text("Starting…")
        self.run_label.setText(f"Run folder: {self.run_dir}")
        self.run_label.setToolTip(str(self.run_dir))
        self.open_folder_button.setEnabled(True)

        work = training_work(dataset, family, model_config, train_config, self.run_dir, resume)
        handle = self.task.start(
            self.state.runner, "Training", work, on_progress=self._on_record,
            on_finished=self._on_finished, on_error=self._on_error, on_cancelled=self._on_cancelled)
        self._set_run_state(RUNNING)
        self.state.status_message.emit(f"Training on {dataset.name}; checkpoints go to {self.run_dir}")
        return handle

    def toggle_pause(self) -> None:
        if self.handle is None:
            return
        if self.run_state == RUNNING:
            self.task.pause()
            self._set_run_state(PAUSED)
            self._set_progress_text("Paused: press Resume (or Space) to go on")
        elif self.run_state == PAUSED:
            self.task.resume()
            self._set_run_state(RUNNING)
            self._set_progress_text("Resuming…")

    def stop(self) -> None:
        if self.handle is None or self.run_state not in (RUNNING, PAUSED):
            return
        self.task.cancel()
        self._set_run_state(STOPPING)
        self._set_progress_text("Stopping: saving a checkpoint…")

    def _on_record(self, record) -> None:
        if isinstance(record, StepRecord):
            self._on_step(record)
        elif isinstance(record, EpochRecord):
            self._on_epoch(record)
        elif isinstance(record, EpochSnapshot):
            self.state.set_model(record.model, record.latent_importance)
        elif isinstance(record, TrainingDone):
            self._on_done(record)
        elif isinstance(record, RunSaved):
            self.state.set_checkpoint(record.checkpoint)
        elif isinstance(record, RunNotSaved):
            self.unsaved = record.checkpoint
            self.state.set_checkpoint(record.checkpoint)

    def _on_step(self, record: StepRecord) -> None:
        self._steps_per_epoch = record.total_steps / max(self._epochs, 1)
        x = record.step / max(self._steps_per_epoch, 1e-9)
        self._last_x = x
        self.plot.add("train", x, record.metrics)
        self.progress.setValue(int(round(1000 * record.progress)))
        if self.run_state == RUNNING:
            of = f" of {self._minutes:g} min" if self._minutes else ""
            epoch = f"Epoch {record.epoch}" + ("" if self._minutes else f" of {self._epochs}")
            self._set_progress_text(
                f"{epoch} · {100 * record.progress:.0f}%{of} · {record.images_per_s:,.0f} images/s · "
                f"{format_duration(record.eta_s)} left")
        if record.preview is not None:
            self._show_preview(record.preview, self._preview_kind)

    def _on_epoch(self, record: EpochRecord) -> None:
        # A stopped, partial epoch is tested where training stopped, not at a whole epoch.
        x = min(float(record.epoch), self._last_x) if self._last_x else float(record.epoch)
        self.plot.add("test", x, record.test)
        self.diagnostics.show_epoch(x, record.diagnostics, record.test)
        if record.preview is not None:
            self._show_preview(record.preview, self._preview_kind)
        if record.checkpoint:
            self.last_checkpoint = record.checkpoint
            self.run_label.setText(f"Epoch {record.epoch} saved: {record.checkpoint}")
            self.run_label.setToolTip(record.checkpoint)

    def _on_done(self, done: TrainingDone) -> None:
        self.plot.redraw()
        self.last_checkpoint = done.checkpoint or self.last_checkpoint
        finished = {"completed": "Finished", "time limit": "Time limit reached:"}.get(done.reason, "Stopped")
        spec = get_family(done.family)
        unit = f" {spec.loss_unit}" if spec.loss_unit else ""
        loss = f" · test {spec.headline} {done.test_loss:.4g}{unit}" if np.isfinite(done.test_loss) else ""
        epochs = f"{done.epochs} epoch" + ("" if done.epochs == 1 else "s")
        self._set_progress_text(f"{finished} after {epochs} in {format_duration(done.seconds)}{loss}")
        if done.checkpoint:
            self.run_label.setText(f"Saved: {done.checkpoint}")
        if done.reason != "cancelled":
            self.progress.setValue(1000)

    def _on_finished(self, _last) -> None:
        self._end_run()

    def _on_cancelled(self) -> None:
        self._end_run()

    def _on_error(self, message: str) -> None:
        saved = f"\n\nThe last checkpoint is kept: {self.last_checkpoint}" if self.last_checkpoint else ""
        if self.unsaved is not None:
            saved += ("\n\nThe trained model is still open: save it elsewhere with File ▸ Save "
                      "Checkpoint As…")
        self._set_progress_text("Training stopped by an error.")
        self._end_run()
        self.state.error.emit("Training stopped", message + saved)

    def _end_run(self) -> None:
        self.plot.redraw()
        # A finished resume continues from the new checkpoint, not the old one.
        self.clear_resume()
        self._set_run_state(IDLE)
        self._refresh_idle_preview()  # the trained model's own preview (an AR model's: samples)
        if self.last_checkpoint:
            self.state.status_message.emit(f"Training ended; checkpoint: {self.last_checkpoint}")

    def export_history_dialog(self) -> None:
        checkpoint = self.state.checkpoint
        if checkpoint is None or not checkpoint.history:
            self._show_error("No loss history to export: open or train a model first.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export loss history as CSV",
                                              str(Path.home() / "loss_history.csv"),
                                              "CSV files (*.csv)")
        if path:
            try:
                self.export_history_csv(path)
            except GenAIError as error:
                self._show_error(str(error))
                return
            self.state.status_message.emit(f"Saved the loss history to {path}")

    def export_history_csv(self, path: str | Path) -> Path:
        """The current checkpoint's per-epoch history: an ``epoch`` column, then one column per
        history key (``train_<metric>``, ``test_<metric>``); a missing value is left empty."""
        history = self.state.checkpoint.history
        keys = [key for key in history if key != "epoch"]
        rows = max((len(values) for values in history.values()), default=0)
        epochs = history.get("epoch") or list(range(1, rows + 1))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["epoch", *keys])
        for i in range(rows):
            writer.writerow([_cell(epochs, i)] + [_cell(history[key], i) for key in keys])
        return atomic_write_text(path, out.getvalue())

    def open_run_folder(self) -> None:
        if self.run_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.run_dir)))


def _cell(values: list, i: int) -> str:
    return "" if i >= len(values) else f"{values[i]:.10g}"
