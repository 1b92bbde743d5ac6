"""The Train tab's dataset picker: name, an Open menu, a preview grid (a text corpus: an excerpt
of its text) and the counts."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
)

from desktop import style
from desktop.corpus_text import describe_corpus
from desktop.loaders import Loader
from desktop.widgets.image_view import ImageView
from desktop.widgets.text_stream import monospace
from genai_engine.data import Dataset
from genai_engine.data.text import corpus_excerpt

PREVIEW_ROWS, PREVIEW_COLUMNS = 3, 10


def describe_counts(dataset: Dataset) -> str:
    if dataset.vocabulary is not None:
        return describe_corpus(dataset)
    channels, height, width = dataset.image_shape
    colour = "greyscale" if channels == 1 else "colour"
    classes = f"{dataset.num_classes} classes" if dataset.train.labels is not None else "no labels"
    return (f"{len(dataset.train):,} train · {len(dataset.test):,} test images\n"
            f"{classes} · {height}×{width} {colour}")


class DatasetPanel(QGroupBox):
    def __init__(self, loader: Loader, parent=None) -> None:
        super().__init__("Dataset", parent)
        self.loader = loader
        self.name = QLabel("No dataset open")
        self.name.setStyleSheet("font-weight: 600;")
        self.name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.open_button = QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setToolTip("Open the embedded Fashion-MNIST, IDX files, an image folder "
                                    "(one sub-folder per class), a NumPy .npz archive, or a text "
                                    "corpus (the built-in Python docs or a .txt file) for a "
                                    "character model")
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.open_button.setMenu(loader.dataset_menu(self))
        self.preview = ImageView(min_size=60)
        self.preview.setFixedHeight(100)
        self.preview.setToolTip("The first training images")
        self.excerpt = QPlainTextEdit()
        self.excerpt.setObjectName("dataset_excerpt")
        self.excerpt.setReadOnly(True)
        self.excerpt.setFont(monospace())
        self.excerpt.setFixedHeight(100)
        self.excerpt.setToolTip("The start of the training text")
        self.excerpt.hide()
        self.counts = QLabel("")
        self.counts.setWordWrap(True)
        style.set_text_colour(self.counts, style.muted_colour)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        style.set_text_colour(self.notes, style.warning_colour)
        self.notes.hide()

        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        top.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(5)
        layout.addLayout(top)
        layout.addWidget(self.preview)
        layout.addWidget(self.excerpt)
        layout.addWidget(self.counts)
        layout.addWidget(self.notes)
        loader.busy_changed.connect(self._busy)

    def _busy(self, busy: bool) -> None:
        if busy:
            self.counts.setText("Opening…")
        elif self.loader.state.dataset is not None:
            self.counts.setText(describe_counts(self.loader.state.dataset))

    def set_dataset(self, dataset: Dataset | None) -> None:
        if dataset is None:
            self.name.setText("No dataset open")
            self.counts.setText("")
            return
        self.name.setText(dataset.name)
        self.name.setToolTip(dataset.source or dataset.name)
        self.counts.setText(describe_counts(dataset))
        notes = list(getattr(dataset, "notes", None) or [])
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        text = dataset.vocabulary is not None
        self.preview.setVisible(not text)
        self.excerpt.setVisible(text)
        if text:
            self.excerpt.setPlainText(corpus_excerpt(dataset))
            return
        images = dataset.train.images[:PREVIEW_ROWS * PREVIEW_COLUMNS]
        if len(images):
            self.preview.set_images(images, columns=min(PREVIEW_COLUMNS, len(images)))
            self.preview.view.autoRange(padding=0)
