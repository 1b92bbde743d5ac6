"""Open datasets and checkpoints on the worker pool, with one place for the error handling.

The File menu and the Train tab's dataset picker share one ``Loader`` per ``AppState``. A file
that cannot be read gives a message and leaves the current dataset or model in place; with a
``fallback`` the loader then tries that (used at start-up: last session, else the defaults).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from desktop.corpus_text import describe_corpus
from desktop.state import AppState
from desktop.task_runner import TaskHandle
from genai_engine.checkpoints import load_checkpoint
from genai_engine.families import get_family

log = logging.getLogger(__name__)

DEFAULT_DATASET = "fashion-mnist"
BUILTIN_TITLES = {"fashion-mnist": "Fashion-MNIST (embedded)",
                  "python-docs": "Python docs (text corpus, built in)"}


def builtin_datasets() -> list[str]:
    try:
        from genai_engine.data import builtin_dataset_names
    except ImportError:
        return [DEFAULT_DATASET]
    return list(builtin_dataset_names()) or [DEFAULT_DATASET]


def read_dataset(spec: str):
    from genai_engine.data import load_dataset  # imported late: the loader module is optional

    return load_dataset(spec)


def dataset_title(spec: str) -> str:
    return BUILTIN_TITLES.get(spec, spec)


def path_kind(path: str | Path) -> str | None:
    """What a dropped or recent path opens as: ``checkpoint``, ``dataset`` or None (neither)."""
    path = Path(path)
    name = path.name.lower()
    if path.is_dir():
        return "dataset"
    if name.endswith(".pt"):
        return "checkpoint"
    if name.endswith((".npz", ".idx", "-ubyte", "-ubyte.gz", ".txt")):
        return "dataset"
    return None


class Loader(QObject):
    dataset_opened = Signal(str)  # the spec (builtin name or path) that was opened
    checkpoint_opened = Signal(str)  # the path that was opened
    busy_changed = Signal(bool)

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self.setObjectName("loader")
        self.state = state
        self.dataset_spec: str | None = None
        self._pending = 0

    @classmethod
    def for_state(cls, state: AppState) -> Loader:
        """The one loader of ``state`` (created on first use)."""
        loader = state.findChild(Loader, "loader")
        return loader if loader is not None else cls(state)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def _track(self, delta: int) -> None:
        was = self.busy
        self._pending += delta
        if was != self.busy:
            self.busy_changed.emit(self.busy)

    def open_dataset(self, spec: str, fallback: str | None = None) -> TaskHandle:
        spec = str(spec)
        self.state.status_message.emit(f"Opening dataset {dataset_title(spec)}…")

        def opened(dataset) -> None:
            self._track(-1)
            self.dataset_spec = spec
            self.state.set_dataset(dataset)
            self.dataset_opened.emit(spec)
            notes = "; ".join(getattr(dataset, "notes", None) or [])
            sizes = (f"{len(dataset.train):,} train, {len(dataset.test):,} test images"
                     if dataset.vocabulary is None else describe_corpus(dataset).replace("\n", ", "))
            notes = f" ({notes})" if notes else ""
            self.state.status_message.emit(f"Opened {dataset.name}: {sizes}{notes}")

        def failed(message: str) -> None:
            self._track(-1)
            kept = (f" The dataset {self.state.dataset.name!r} is still open."
                    if self.state.dataset is not None else "")
            then = f" Opening {dataset_title(fallback)} instead." if fallback else ""
            self.state.error.emit("Could not open the dataset", f"{message}{kept}{then}")
            if fallback and fallback != spec:
                self.open_dataset(fallback)

        # Callbacks are connected inside ``call`` before the task starts; connecting ``ended``
        # afterwards could miss a task that fails at once, so each callback settles the count.
        self._track(+1)
        return self.state.runner.call("Opening dataset", lambda: read_dataset(spec),
                                      on_finished=opened, on_error=failed,
                                      on_cancelled=lambda: self._track(-1))

    def open_checkpoint(self, path: str | Path, fallback: str | Path | None = None,
                        quiet: bool = False) -> TaskHandle:
        path = str(path)

        def opened(checkpoint) -> None:
            self._track(-1)
            self.state.set_checkpoint(checkpoint)
            self.checkpoint_opened.emit(path)
            described = get_family(checkpoint.family).describe(checkpoint.model_config)
            self.state.status_message.emit(
                f"Opened model {Path(path).name} (epoch {checkpoint.epoch}, {described})")

        def failed(message: str) -> None:
            self._track(-1)
            if not quiet:
                then = " Opening the demo model instead." if fallback else ""
                self.state.error.emit("Could not open the checkpoint", f"{message}{then}")
            if fallback and str(fallback) != path:
                self.open_checkpoint(fallback, quiet=quiet)

        self._track(+1)
        return self.state.runner.call("Opening checkpoint", lambda: load_checkpoint(path),
                                      on_finished=opened, on_error=failed,
                                      on_cancelled=lambda: self._track(-1))

    def open_path(self, path: str | Path) -> TaskHandle | None:
        """Open a dataset or a checkpoint by what the path is (a drop, a recent file)."""
        kind = path_kind(path)
        if kind == "checkpoint":
            return self.open_checkpoint(path)
        if kind == "dataset":
            return self.open_dataset(str(path))
        self.state.error.emit("Cannot open this file",
                              f"{path} is neither a checkpoint (.pt) nor a dataset (an image folder, "
                              "IDX files, a .npz archive or a .txt text).")
        return None

    # -- dialogs ------------------------------------------------------------------------------
    def choose_idx(self, parent: QWidget | None) -> None:
        path, _ = QFileDialog.getOpenFileName(
            parent, "Open IDX images (labels and t10k files are found beside it)", "",
            "IDX image files (*idx3-ubyte *idx3-ubyte.gz *.idx *.gz);;All files (*)")
        if path:
            self.open_dataset(path)

    def choose_folder(self, parent: QWidget | None) -> None:
        path = QFileDialog.getExistingDirectory(
            parent, "Open an image folder (one sub-folder per class, optional train/ and test/)")
        if path:
            self.open_dataset(path)

    def choose_npz(self, parent: QWidget | None) -> None:
        path, _ = QFileDialog.getOpenFileName(parent, "Open a NumPy .npz dataset", "",
                                              "NumPy archives (*.npz);;All files (*)")
        if path:
            self.open_dataset(path)

    def choose_text(self, parent: QWidget | None) -> None:
        path, _ = QFileDialog.getOpenFileName(parent, "Open a text corpus (UTF-8) for a character model",
                                              "", "Text files (*.txt);;All files (*)")
        if path:
            self.open_dataset(path)

    def choose_checkpoint(self, parent: QWidget | None) -> None:
        start = str(Path(self.state.checkpoint.path).parent) if (
            self.state.checkpoint is not None and self.state.checkpoint.path) else ""
        path, _ = QFileDialog.getOpenFileName(parent, "Open a checkpoint", start,
                                              "GenAI Lab checkpoints (*.pt);;All files (*)")
        if path:
            self.open_checkpoint(path)

    def dataset_menu(self, parent: QWidget) -> QMenu:
        """Builtin datasets (and text corpora), then IDX / image folder / .npz / .txt file dialogs."""
        menu = QMenu("Open &Dataset", parent)
        for name in builtin_datasets():
            action = menu.addAction(dataset_title(name))
            action.triggered.connect(lambda _=False, n=name: self.open_dataset(n))
        menu.addSeparator()
        menu.addAction("IDX Files…").triggered.connect(lambda: self.choose_idx(parent))
        menu.addAction("Image Folder…").triggered.connect(lambda: self.choose_folder(parent))
        menu.addAction("NumPy .npz File…").triggered.connect(lambda: self.choose_npz(parent))
        menu.addAction("Text Corpus (.txt)…").triggered.connect(lambda: self.choose_text(parent))
        return menu
