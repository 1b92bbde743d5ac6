"""The Generate tab: sample any model with its own settings, and watch a diffusion model work.

Above, the seeded sample grid (``SampleGridPanel``) with the model's sampling settings (built
from ``Snapshot.sampling_fields()``), the class of a conditional model and export. Below, the
family views (``family_views``, one page each): the denoising film and the steps-vs-quality
trade (``DenoisingFilmPanel``, for a model that samples step by step; any other model sees the
reason in its place). Clicking a grid tile hands its noise and class to the family views.

Adding a family's own view (e.g. autoregressive generation and completion): write the panel
under ``desktop/widgets/`` with ``set_model(model, class_names)`` (showing its own reason for a
model it cannot serve) and, optionally, ``set_source(z, label, caption)`` to follow a picked
tile; then add it here in ``__init__`` with one line:

    self.add_family_view(MyPanel(state), "My view", "What it shows")

``add_family_view`` wires both methods to the state and the grid.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from desktop.state import AppState
from desktop.widgets.ar_completion_panel import ARCompletionPanel
from desktop.widgets.ar_generation_panel import ARGenerationPanel
from desktop.widgets.denoising_film_panel import DenoisingFilmPanel
from desktop.widgets.sample_grid_panel import SampleGridPanel

TITLE = "Generate"


class GenerateTab(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.grid = SampleGridPanel(state)
        self.film = DenoisingFilmPanel(state)
        self.family_views = QTabWidget()
        self.family_views.setObjectName("generate_family_views")
        self.family_views.setDocumentMode(True)
        self._views: list[QWidget] = []
        self.add_family_view(self.film, "Denoising film",
                             "A diffusion model's reverse process step by step, and steps vs quality")
        self.pixels = ARGenerationPanel(state)
        self.add_family_view(self.pixels, "Generation view",
                             "An autoregressive model writing an image pixel by pixel, with each "
                             "pixel's distribution before and after temperature, top-k and top-p")
        self.completion = ARCompletionPanel(state)
        self.add_family_view(self.completion, "Completion",
                             "An autoregressive model completing the top rows of an image, several times")
        # (more family views join here: see the module docstring)

        splitter = QSplitter(Qt.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.grid)
        splitter.addWidget(self.family_views)
        splitter.setSizes([360, 480])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

        state.model_changed.connect(lambda _m: self._follow_model())
        state.dataset_changed.connect(lambda _d: self._follow_model())
        self._follow_model()

    def add_family_view(self, view: QWidget, title: str, tip: str = "") -> None:
        """A page under the grid that follows the model and, if it can, the picked tile."""
        index = self.family_views.addTab(view, title)
        self.family_views.setTabToolTip(index, tip)
        self._views.append(view)
        if hasattr(view, "set_source"):
            self.grid.tile_picked.connect(view.set_source)
        view.set_model(self.state.model, self.class_names())

    def class_names(self) -> list[str]:
        model = self.state.model
        if model is None or not model.conditional:
            return []
        count = model.config.num_classes
        names = list(model.class_names or [])
        return [names[k] if k < len(names) else f"class {k}" for k in range(count)]

    def _follow_model(self) -> None:
        names = self.class_names()
        self.grid.set_model(self.state.model, names)
        for view in self._views:
            view.set_model(self.state.model, names)
        current = self.family_views.currentWidget()
        if not getattr(current, "available", True):  # show a view the model has, if any
            usable = [v for v in self._views if getattr(v, "available", False)]
            if usable:
                self.family_views.setCurrentWidget(usable[0])
