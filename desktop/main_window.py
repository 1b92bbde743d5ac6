"""The main window: four tabs over one ``AppState``, menus, shortcuts and the status bar.

It also owns the session: on start it reopens the last dataset and checkpoint (falling back
to the embedded Fashion-MNIST and the demo model, so every tab works at once, offline), and
on close it asks when a task runs, cancels everything through ``TaskRunner.shutdown()`` and
waits, so a training run still writes its checkpoint before the window goes.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
)

from desktop.loaders import DEFAULT_DATASET, Loader, builtin_datasets, dataset_title, path_kind
from desktop.loading_window import MENU_TITLES, TAB_NAMES, place_window
from desktop.preferences_dialog import PreferencesDialog
from desktop.settings import Settings
from desktop.state import AppState
from desktop.tabs.compare_tab import TITLE as COMPARE_TITLE
from desktop.tabs.compare_tab import CompareTab
from desktop.tabs.evaluate_tab import EvaluateTab
from desktop.tabs.explore_tab import ExploreTab
from desktop.tabs.generate_tab import TITLE as GENERATE_TITLE
from desktop.tabs.generate_tab import GenerateTab
from desktop.tabs.interpolate_tab import InterpolateTab
from desktop.tabs.language_tab import TITLE as LANGUAGE_TITLE
from desktop.tabs.language_tab import LanguageTab
from desktop.tabs.train_tab import TrainTab
from desktop.widgets.tab_cover import TabCover
from genai_engine import __version__
from genai_engine.checkpoints import atomic_torch_save
from genai_engine.devices import describe_device, resolve_device
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.files import atomic_write, make_folder
from genai_engine.resources import demo_checkpoint_path, demo_checkpoints, user_data_dir

log = logging.getLogger(__name__)

EXPORT_COUNT = 64
RUN_KEY = QKeySequence("Ctrl+Return")

QUICK_GUIDE = """
<h3>GenAI Lab in five steps</h3>
<ol>
<li><b>Train</b>: the embedded Fashion-MNIST is already open. Keep the defaults (an MLP VAE
with 20 latent dimensions) and press <b>Start</b>. Watch the loss fall: the solid lines are
training batches, the dots the test set after each epoch. Pause with <b>Space</b>, stop with
<b>Esc</b>; a checkpoint is saved after every epoch and on stop.</li>
<li><b>Explore</b>: drag a slider to move along one latent dimension and watch the decoded
image change. Dimensions are sorted by KL, so the ones the model uses come first. The
<b>Training timeline</b> replays how the model decoded the point after each epoch; a
conditional model shows the same point as <b>All classes</b>.</li>
<li><b>Interpolate</b>: pick two images and walk between their codes (lerp or slerp);
export the strip as PNG or an animated GIF.</li>
<li><b>Evaluate</b>: measure the model with FID against real images, or every epoch's
snapshot with <b>FID per epoch</b>.</li>
<li><b>File ▸ Save Checkpoint As…</b> keeps a model; <b>File ▸ Open Checkpoint…</b> brings it
back. The demo model opens when no other is available.</li>
</ol>
<p><b>Terms.</b> The loss is the <b>negative ELBO</b> (evidence lower bound) in nats per image:
reconstruction error plus <b>KL</b>, the distance of each image's code distribution from the
N(0, I) prior. <b>β</b> weights the KL term (β-VAE). A latent dimension is <i>active</i> when
its KL is above 0.01 nats; inactive ones are ignored by the decoder.</p>
"""


class MainWindow(QMainWindow):
    def __init__(self, state: AppState | None = None, settings: Settings | None = None,
                 restore_session: bool = True) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.state = state or AppState(device=self.settings.device)
        self.state.device = self.settings.device if state is None else self.state.device
        self.loader = Loader.for_state(self.state)
        # Tests and the self-test switch this off; it is also a preference.
        self.confirm_close = self.settings.confirm_close
        self.closing = False
        self.last_error: tuple[str, str] | None = None
        self._error_boxes: list[QMessageBox] = []
        self.setWindowTitle("GenAI Lab")

        self.tabs = QTabWidget()
        self.tabs.setObjectName("main_tabs")
        self.tabs.setDocumentMode(True)
        self.train_tab = TrainTab(self.state)
        self.explore_tab = ExploreTab(self.state)
        self.interpolate_tab = InterpolateTab(self.state)
        self.evaluate_tab = EvaluateTab(self.state)
        for name, tab in zip(TAB_NAMES, (self.train_tab, self.explore_tab,
                                         self.interpolate_tab, self.evaluate_tab), strict=True):
            self.tabs.addTab(tab, name)
        self.analyze_tab = _optional_analyze_tab(self.state)
        if self.analyze_tab is not None:
            self.tabs.addTab(self.analyze_tab, "Analyze")
        self.compare_tab = CompareTab(self.state)
        self.tabs.addTab(self.compare_tab, COMPARE_TITLE)
        self.generate_tab = GenerateTab(self.state)  # View ▸ Generate, Ctrl+<its position>
        self.tabs.addTab(self.generate_tab, GENERATE_TITLE)
        self.language_tab = LanguageTab(self.state)  # a character model writing text
        self.tabs.addTab(self.language_tab, LANGUAGE_TITLE)
        image_tabs = {"Explore": self.explore_tab, "Interpolate": self.interpolate_tab,
                      "Evaluate": self.evaluate_tab, "Analyze": self.analyze_tab,
                      COMPARE_TITLE: self.compare_tab, GENERATE_TITLE: self.generate_tab}
        self.image_covers = [
            TabCover(self.state, tab, name, needs_latent=name in ("Explore", "Interpolate"),
                     show_pixel_views=self.show_generation_view)
            for name, tab in image_tabs.items() if tab is not None]
        self.setCentralWidget(self.tabs)

        self._build_status_bar()
        self._build_menus()
        self.state.error.connect(self.show_error)
        self.state.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.state.runner.task_started.connect(self._tasks_changed)
        self.state.runner.task_ended.connect(self._tasks_changed)
        self.state.checkpoint_changed.connect(self._remember_checkpoint)
        self.state.model_changed.connect(lambda _m: self._update_actions())
        self.loader.dataset_opened.connect(self._remember_dataset)
        self.setAcceptDrops(True)
        self.train_tab.run_state_changed.connect(lambda _s: self._update_actions())
        self.train_tab.run_state_changed.connect(self._tasks_changed)
        self._update_actions()

        place_window(self, self.settings)
        self._restore_splitters()
        if restore_session:
            QTimer.singleShot(0, self.restore_session)

    # -- building --------------------------------------------------------------------------------
    def show_generation_view(self) -> None:
        """Generate ▸ Generation view: where a pixel-by-pixel model writes an image."""
        self.tabs.setCurrentWidget(self.generate_tab)
        self.generate_tab.family_views.setCurrentWidget(self.generate_tab.pixels)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(True)
        self.task_label = QLabel("Ready")
        self.task_label.setObjectName("status_task")
        self.task_label.setContentsMargins(8, 0, 8, 0)
        self.device_label = QLabel("")
        self.device_label.setObjectName("status_device")
        self.device_label.setContentsMargins(8, 0, 8, 0)
        self.device_label.setToolTip("Compute device (Edit ▸ Preferences to change)")
        bar.addPermanentWidget(self.task_label)
        bar.addPermanentWidget(self.device_label)
        self._update_device_label()

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        if menu is not None:
            menu.addAction(action)
        else:
            self.addAction(action)  # a shortcut with no menu entry
        return action

    def _build_menus(self) -> None:
        file_menu, edit_menu, view_menu, train_menu, help_menu = (
            self.menuBar().addMenu(title) for title in MENU_TITLES)
        self.dataset_menu = self.loader.dataset_menu(self)
        file_menu.addMenu(self.dataset_menu)
        self._action(file_menu, "Open &Text Corpus…", lambda: self.loader.choose_text(self), None,
                     "Open a UTF-8 .txt file to train a character model on")
        self.open_checkpoint_action = self._action(
            file_menu, "&Open Checkpoint…", lambda: self.loader.choose_checkpoint(self),
            QKeySequence.StandardKey.Open, "Open a trained model (.pt)")
        self.demo_menu = file_menu.addMenu("Open &Demo Model")
        for family, path in demo_checkpoints().items():
            action = self.demo_menu.addAction(get_family(family).title)
            action.setToolTip(f"The shipped {family} demo, trained on Fashion-MNIST")
            action.triggered.connect(lambda _=False, p=str(path): self.loader.open_checkpoint(p))
        self.demo_menu.setEnabled(not self.demo_menu.isEmpty())
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        self.save_checkpoint_action = self._action(
            file_menu, "&Save Checkpoint As…", self.save_checkpoint_dialog,
            QKeySequence.StandardKey.Save, "Save a copy of the current model's checkpoint")
        self.export_action = self._action(
            file_menu, "&Export Samples…", self.export_samples_dialog, "Ctrl+E",
            f"Save {EXPORT_COUNT} samples from the current model as a PNG grid or .npz")
        file_menu.addSeparator()
        self.open_runs_action = self._action(
            file_menu, "Show &Runs Folder", self.open_runs_folder, None,
            "Open the folder where training runs keep their checkpoints")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        self.preferences_action = self._action(
            edit_menu, "&Preferences…", self.show_preferences, QKeySequence.StandardKey.Preferences)
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)

        self.tab_actions = []
        for index in range(self.tabs.count()):
            name = self.tabs.tabText(index)
            self.tab_actions.append(self._action(
                view_menu, name, lambda i=index: self.tabs.setCurrentIndex(i), f"Ctrl+{index + 1}"))

        self.start_action = self._action(train_menu, "&Start", self._start_training, RUN_KEY)
        self.tabs.currentChanged.connect(lambda _i: self._give_run_key())
        self._give_run_key()
        # Space is no shortcut: shortcuts beat key presses, so it would never reach a focused
        # checkbox or button. keyPressEvent gets the Space that no focused control took; the
        # text after the tab is the menu's shortcut column.
        self.pause_action = self._action(train_menu, "&Pause / Resume\tSpace",
                                         self.train_tab.toggle_pause)
        self.stop_action = self._action(train_menu, "S&top and Save", self.train_tab.stop,
                                        Qt.Key.Key_Escape)

        self._action(help_menu, "&Quick Guide", self.show_quick_guide,
                     QKeySequence.StandardKey.HelpContents)
        about = self._action(help_menu, "&About GenAI Lab", self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)

    def _update_actions(self) -> None:
        run_state = self.train_tab.run_state
        self.start_action.setEnabled(run_state == "idle")
        # Space and Esc only mean something while training, so they never steal keys otherwise.
        self.pause_action.setEnabled(run_state in ("running", "paused"))
        self.stop_action.setEnabled(run_state in ("running", "paused"))
        self.save_checkpoint_action.setEnabled(self.state.checkpoint is not None)
        self.export_action.setEnabled(self.state.model is not None)

    def _give_run_key(self) -> None:
        """Ctrl+Return runs the visible tab's own primary button when it has one (Evaluate's
        Measure), else Training ▸ Start: two owners at once would make Qt fire neither."""
        tab_owns_it = any(button.shortcut() == RUN_KEY
                          for button in self.tabs.currentWidget().findChildren(QAbstractButton))
        self.start_action.setShortcut(QKeySequence() if tab_owns_it else RUN_KEY)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (event.key() == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier
                and not event.isAutoRepeat() and self.pause_action.isEnabled()):
            self.pause_action.trigger()
            event.accept()
            return
        super().keyPressEvent(event)

    def _start_training(self) -> None:
        self.tabs.setCurrentWidget(self.train_tab)
        self.train_tab.start()

    # -- status bar ------------------------------------------------------------------------------
    def _update_device_label(self) -> None:
        try:
            label = describe_device(resolve_device(self.state.device))
        except GenAIError:
            label = f"{self.state.device} (unavailable)"
        self.device_label.setText(f"Device: {label}")

    def _tasks_changed(self, _handle=None) -> None:
        names = [handle.name for handle in self.state.runner.active if not handle.quiet]
        if not names:
            self.task_label.setText("Ready")
            return
        paused = self.train_tab.run_state == "paused" and names[0] == "Training"
        first = f"{names[0]} (paused)" if paused else f"{names[0]}…"
        more = f" +{len(names) - 1} more" if len(names) > 1 else ""
        self.task_label.setText(first + more)
        self.task_label.setToolTip("\n".join(names))

    # -- session ---------------------------------------------------------------------------------
    def restore_session(self) -> None:
        """Reopen the last dataset and model, else the embedded data and the demo model."""
        dataset = self.settings.last_dataset or DEFAULT_DATASET
        self.loader.open_dataset(dataset, fallback=DEFAULT_DATASET if dataset != DEFAULT_DATASET
                                 else None)
        demo = demo_checkpoint_path()
        demo_spec = str(demo) if demo.is_file() else None
        last = self.settings.last_checkpoint
        if last and Path(last).is_file():
            self.loader.open_checkpoint(last, fallback=demo_spec)
        elif last:
            self.show_error("Could not open the last checkpoint",
                            f"{last}: the file is no longer there."
                            + (" Opening the demo model instead." if demo_spec else ""))
            if demo_spec:
                self.loader.open_checkpoint(demo_spec)
        elif demo_spec:
            self.loader.open_checkpoint(demo_spec)

    def _remember_dataset(self, spec: str) -> None:
        self.settings.last_dataset = spec
        self.settings.add_recent("datasets", spec)

    def _remember_checkpoint(self, checkpoint) -> None:
        if checkpoint.path is not None:
            self.settings.last_checkpoint = str(checkpoint.path)
            self.settings.add_recent("checkpoints", str(checkpoint.path))
        self._update_actions()

    # -- recent files and drops ------------------------------------------------------------------
    def _fill_recent_menu(self) -> None:
        """Rebuilt each time it opens: datasets, then checkpoints, newest first."""
        self.recent_menu.clear()
        for kind in ("datasets", "checkpoints"):
            specs = self.settings.recent(kind)
            if specs and not self.recent_menu.isEmpty():
                self.recent_menu.addSeparator()
            for spec in specs:
                title = dataset_title(spec) if kind == "datasets" else spec
                action = self.recent_menu.addAction(title)
                action.setStatusTip(spec)
                action.triggered.connect(lambda _=False, k=kind, p=spec: self.open_recent(k, p))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    def open_recent(self, kind: str, spec: str) -> None:
        """Open a recent entry; one that is gone leaves the list with a status message."""
        builtin = kind == "datasets" and spec in builtin_datasets()
        if not builtin and not Path(spec).exists():
            self.settings.set_recent(kind, [s for s in self.settings.recent(kind) if s != spec])
            self._fill_recent_menu()
            self.statusBar().showMessage(f"{spec} is no longer there; removed from Open Recent.", 8000)
            return
        if kind == "checkpoints":
            self.loader.open_checkpoint(spec)
        else:
            self.loader.open_dataset(spec)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(path_kind(path) for path in _local_paths(event.mimeData())):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Each dropped dataset or checkpoint opens in turn; other files are ignored."""
        paths = [path for path in _local_paths(event.mimeData()) if path_kind(path)]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        for path in paths:
            self.loader.open_path(path)

    # -- splitters -------------------------------------------------------------------------------
    def _splitters(self) -> dict[str, QSplitter]:
        """Every splitter, keyed by its tab's position and its order in the tab (stable as
        long as the tab builds the same layout)."""
        found = {}
        for index in range(self.tabs.count()):
            tab = self.tabs.widget(index)
            for order, splitter in enumerate(tab.findChildren(QSplitter)):
                found[f"{type(tab).__name__}/{order}"] = splitter
        return found

    def _restore_splitters(self) -> None:
        for key, splitter in self._splitters().items():
            saved = self.settings.splitter_state(key)
            if saved is not None:
                splitter.restoreState(saved)

    def _save_splitters(self) -> None:
        for key, splitter in self._splitters().items():
            self.settings.set_splitter_state(key, splitter.saveState())

    # -- errors ----------------------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> QMessageBox | None:
        """A non-blocking warning box (tests read ``last_error``)."""
        log.warning("%s: %s", title, message)
        self.last_error = (title, message)
        if self.closing:
            return None
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                          self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self._error_boxes = [b for b in self._error_boxes if _alive(b)] + [box]
        box.finished.connect(lambda _r, b=box: self._forget_box(b))
        box.open()
        return box

    def _forget_box(self, box: QMessageBox) -> None:
        if box in self._error_boxes:
            self._error_boxes.remove(box)

    @property
    def error_boxes(self) -> list[QMessageBox]:
        return [b for b in self._error_boxes if _alive(b) and b.isVisible()]

    # -- file actions ----------------------------------------------------------------------------
    def save_checkpoint_dialog(self) -> None:
        checkpoint = self.state.checkpoint
        if checkpoint is None:
            self.show_error("Nothing to save", "Open or train a model first.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save checkpoint as",
                                              str(Path.home() / "vae.pt"),
                                              "GenAI Lab checkpoints (*.pt)")
        if path:
            self.save_checkpoint_as(path)

    def save_checkpoint_as(self, path: str | Path):
        """Copy the current checkpoint file to ``path`` on the worker pool; a model whose own
        checkpoint could not be written (a full disk) is written from memory."""
        checkpoint = self.state.checkpoint
        target = Path(path)
        if target.suffix.lower() != ".pt":
            target = target.with_suffix(".pt")

        def copy() -> Path:
            if checkpoint.path is None:
                atomic_torch_save(checkpoint.raw, target)
            elif Path(checkpoint.path).resolve() != target.resolve():
                with open(checkpoint.path, "rb") as handle:
                    atomic_write(target, lambda out: shutil.copyfileobj(handle, out))
            return target

        def saved(written: Path) -> None:
            if checkpoint.path is None:  # the model now has a file: later saves copy it
                checkpoint.path = written
            self.state.status_message.emit(f"Saved checkpoint to {written}")

        return self.state.runner.call(
            "Saving checkpoint", copy, on_finished=saved,
            on_error=lambda m: self.show_error("Could not save the checkpoint", m))

    def export_samples_dialog(self) -> None:
        if self.state.model is None:
            self.show_error("Nothing to export", "Open or train a model first.")
            return
        path, _ = QFileDialog.getSaveFileName(self, f"Export {EXPORT_COUNT} samples",
                                              str(Path.home() / "samples.png"),
                                              "PNG grid (*.png);;NumPy array (*.npz)")
        if path:
            self.export_samples(path)

    def export_samples(self, path: str | Path, count: int = EXPORT_COUNT, seed: int = 0):
        from genai_engine.sampling import sample_model, save_samples

        model = self.state.model

        def export():
            return save_samples(sample_model(model, count, seed), path)

        return self.state.runner.call(
            "Exporting samples", export,
            on_finished=lambda p: self.state.status_message.emit(f"Saved {count} samples to {p}"),
            on_error=lambda m: self.show_error("Could not export samples", m))

    def open_runs_folder(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        try:
            folder = make_folder(user_data_dir() / "runs")
        except OSError as error:
            self.show_error("Cannot open the runs folder", str(error))
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # -- dialogs ---------------------------------------------------------------------------------
    def show_preferences(self) -> None:
        dialog = PreferencesDialog(self.settings, self)
        if dialog.exec():
            self.apply_device(dialog.device())
            self.confirm_close = self.settings.confirm_close
            if dialog.reset_train_requested and not self.train_tab.running:
                self.train_tab.form.reset_defaults()
                self.train_tab.form.set_device(self.state.device)

    def apply_device(self, device: str) -> bool:
        try:
            resolve_device(device)
        except GenAIError as error:
            self.show_error("Device not available", str(error))
            return False
        self.state.device = device
        self.settings.device = device
        self.train_tab.form.set_device(device)
        self._update_device_label()
        return True

    def show_quick_guide(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Quick Guide", QUICK_GUIDE,
                          QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_about(self) -> None:
        import torch

        QMessageBox.about(
            self, "About GenAI Lab",
            f"<h3>GenAI Lab {__version__}</h3>"
            "<p>Train variational autoencoders, explore their latent space, interpolate and "
            "evaluate them, offline.</p>"
            f"<p>PyTorch {torch.__version__} · {self.device_label.text()}<br>"
            f"Data and logs: {user_data_dir()}</p>"
            "<p>Fashion-MNIST © Zalando SE, MIT licence.</p>")

    # -- closing ---------------------------------------------------------------------------------
    def _stop_all_tasks(self, seconds: float) -> None:
        if not _stop_all_tasks_until(self.state.runner, time.monotonic() + seconds):
            log.error("tasks still running %.0f s after close: %s", seconds,
                      [h.name for h in self.state.runner.active])

    def closeEvent(self, event: QCloseEvent) -> None:
        active = self.state.runner.active
        if active and self.confirm_close:
            names = ", ".join(sorted({h.name.lower() for h in active}))
            answer = QMessageBox.question(
                self, "Quit GenAI Lab?",
                f"A task is still running ({names}). Quit anyway? Training saves a checkpoint "
                "before it stops.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.closing = True
        self.settings.geometry = self.saveGeometry()
        self._save_splitters()
        self.settings.set_train_defaults(self.train_tab.form.values())
        if active:
            self.statusBar().showMessage("Stopping tasks…")
            QApplication.processEvents()
        # Tabs must not react to the last records (a final checkpoint would make them start
        # new work), so the shared state goes quiet; the train tab still records its path.
        self.state.blockSignals(True)
        try:
            self._stop_all_tasks(15.0)
        finally:
            self.state.blockSignals(False)
        if self.train_tab.last_checkpoint:
            self.settings.last_checkpoint = self.train_tab.last_checkpoint
        for box in self.error_boxes:
            box.close()
        self.settings.sync()
        event.accept()


def _stop_all_tasks_until(runner, deadline: float) -> bool:
    """Cancel and wait, then deliver queued signals; again if a slot started a new task."""
    while True:
        remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
        finished = runner.shutdown(remaining_ms)
        QApplication.processEvents()  # the final records: the train tab learns its checkpoint
        if not runner.active or time.monotonic() >= deadline:
            return finished and not runner.active


def _optional_analyze_tab(state: AppState):
    """The Analyze tab (a later issue) joins after the four core tabs when it is present."""
    try:
        from desktop.tabs.analyze_tab import AnalyzeTab
    except ImportError:
        return None
    return AnalyzeTab(state)


def _local_paths(mime) -> list[str]:
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []


def _alive(widget) -> bool:
    from shiboken6 import isValid

    return isValid(widget)
