"""The Train tab with a text corpus: the families that can learn it, and its preview as text.

``TextFormFit`` keeps the settings form honest about the data: with a text corpus open, the
families without character models are disabled in the family list (each says why in its
tooltip; the engine refuses them too) and the form moves to one that can learn text; the
model's shape becomes the family's own default for text (a character model is larger than a
pixel model), and the pixel-levels field, which the corpus's characters decide, is hidden.
Going back to images gives every family back, with the family's image defaults.

``TextPreview`` stands in for the image preview: a short text the open character model writes
(after every epoch while training), or, before there is one, the start of the training text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from desktop import style
from desktop.capabilities import writes_text
from desktop.latest_wins import LatestWins
from desktop.state import AppState
from desktop.widgets.text_stream import monospace
from desktop.widgets.train_settings import TrainSettings
from genai_engine.data import Dataset
from genai_engine.data.text import corpus_excerpt
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.training import check_family_takes

PREVIEW_CHARS = 300
PREVIEW_TEMPERATURE = 0.8
PREVIEW_SEED = 0


def is_text(dataset: Dataset | None) -> bool:
    return dataset is not None and dataset.vocabulary is not None


def takes(dataset: Dataset, family: str) -> bool:
    try:
        check_family_takes(dataset, family)
    except GenAIError:
        return False
    return True


class TextFormFit:
    """Fits ``form`` (the Train tab's ``TrainSettings``) to each dataset it is given."""

    def __init__(self, form: TrainSettings) -> None:
        self.form = form
        self.text: bool | None = None  # the kind of data last seen (None: none yet)

    def set_dataset(self, dataset: Dataset | None) -> None:
        if dataset is None:
            return
        text = is_text(dataset)
        combo, items = self.form.family, self.form.family.model()
        for index in range(combo.count()):
            name = combo.itemData(index)
            allowed = takes(dataset, name)
            items.item(index).setEnabled(allowed)
            combo.setItemData(index, None if allowed else (
                f"{get_family(name).title} models cannot learn text: {dataset.name} is a text corpus, "
                "which trains with a character model (the autoregressive family)."),
                Qt.ItemDataRole.ToolTipRole)
        if not takes(dataset, self.form.family_name):
            allowed = [i for i in range(combo.count()) if takes(dataset, combo.itemData(i))]
            combo.setCurrentIndex(allowed[0])
        if text != self.text and (text or self.text is not None):
            self._family_defaults(dataset)
        self.text = text
        self._show_levels(not text)

    def _family_defaults(self, dataset: Dataset) -> None:
        """The current family's default model for this kind of data (text or images)."""
        family = self.form.family_name
        if "vocabulary" in get_family(family).config_type.__dataclass_fields__:
            self.form.model_form.set_config(get_family(family).default_config(dataset))
            self.form.apply_train_defaults(dataset)

    def _show_levels(self, visible: bool) -> None:
        """A character model's levels are its corpus's characters: no field to edit."""
        for form in self.form.model_forms.values():
            if "levels" in form.editors and "vocabulary" in form.config_type.__dataclass_fields__:
                form.layout_.setRowVisible(form.editors["levels"], visible)


class TextPreview(QWidget):
    """What the open character model writes, or the corpus's text until there is one."""

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.view = QPlainTextEdit()
        self.view.setObjectName("train_text_preview")
        self.view.setReadOnly(True)
        self.view.setFont(monospace())
        self.caption = QLabel()
        self.caption.setObjectName("train_text_caption")
        self.caption.setWordWrap(True)
        style.set_text_colour(self.caption, style.muted_colour)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self.job = LatestWins(state.runner, "Train: text preview", self)
        self.job.ready.connect(self._show_sample)
        state.dataset_changed.connect(self.refresh)  # bound methods: let go with the widget
        state.model_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, _changed=None) -> None:
        dataset, model = self.state.dataset, self.state.model
        self.job.discard()
        if not is_text(dataset):
            return
        if writes_text(model) and model.vocabulary == dataset.vocabulary:
            self.job.request(lambda: "".join(model.generate("", PREVIEW_CHARS, PREVIEW_TEMPERATURE,
                                                            seed=PREVIEW_SEED)), model)
            return
        self.view.setPlainText(corpus_excerpt(dataset))
        self.caption.setText("The start of the training text. Once a character model of it is open "
                             "(after each epoch while training), what it writes shows here.")

    def _show_sample(self, text: str, model) -> None:
        if model is not self.state.model:
            return
        self.view.setPlainText(text)
        self.caption.setText(f"Written by the model from scratch at temperature {PREVIEW_TEMPERATURE} "
                             f"(seed {PREVIEW_SEED}); write with it in the Language tab.")
