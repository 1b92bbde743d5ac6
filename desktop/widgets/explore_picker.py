"""The Explore tab's dataset image picker: encode a test image, or fit z to it by inversion.

A model with an encoder encodes the picked image latest-wins (a noise latent by DDIM inversion,
with how well DDIM reconstructs it); a model that can only be inverted (a GAN) keeps the image
as the target of "Encode by inversion", an optimisation of z run as a task with progress and
cancel. Either way the found point arrives as ``point_found``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from desktop.capabilities import no_encoder, noise_latent
from desktop.latest_wins import LatestWins
from desktop.state import AppState
from desktop.widgets.image_view import ImageView, tile_at
from desktop.widgets.task_bar import TaskBar
from genai_engine.families.base import Encoder, Invertible, LatentDecoder
from genai_engine.latent import image_code

STRIP_COUNT = 10  # thumbnails in the dataset strip
INVERSION_STEPS = 300  # default optimisation steps of "Encode by inversion"


def dataset_fits(dataset, model) -> bool:
    """Whether ``model`` can take the test images of ``dataset``."""
    return (dataset is not None and model is not None and len(dataset.test) > 0
            and tuple(dataset.image_shape) == tuple(model.config.image_shape))


def label_names(dataset) -> list[str]:
    """Names of the open dataset's labels (map legend, captions, class means): the model's
    own class names describe what it was trained on, which may be another dataset."""
    if dataset is None:
        return []
    names = list(dataset.class_names or [])
    return names + [f"class {k}" for k in range(len(names), dataset.num_classes)]


def image_caption(dataset, index: int) -> str:
    labels = dataset.test.labels
    if labels is None:
        return f"Test image #{index}"
    names = label_names(dataset)
    label = int(labels[index])
    return f"Test image #{index} ({names[label] if label < len(names) else label})"


def _code_and_error(model, images: np.ndarray, labels) -> tuple[np.ndarray, float]:
    """A noise latent's code of one image (DDIM inversion) and how well it reconstructs it."""
    labels = labels if model.conditional else None
    return image_code(model, images, labels), float(model.reconstruction_error(images, labels)[0])


def _caption(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignCenter)
    label.setWordWrap(True)
    return label


class ImagePickerPanel(QGroupBox):
    point_found = Signal(object, str, int)  # z, how it was found, the test image it encodes

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__("Start from a dataset image (test split)", parent)
        self.state = state
        self.model: LatentDecoder | None = None
        self.picked_index: int | None = None
        self._strip_start = 0
        self._image_rng: np.random.Generator | None = None
        self.encoder = LatestWins(state.runner, "encode image", self)
        self.encoder.ready.connect(self._on_image_encoded)

        # The picked image and its caption; the tab shows them beside the decoding.
        self.picked_view = ImageView(min_size=120)
        self.picked_view.setToolTip("The dataset image that was encoded")
        self.picked_caption = _caption()

        self.index_spin = QSpinBox()
        self.index_spin.setKeyboardTracking(False)
        self.index_spin.setToolTip("Index of the test image to encode")
        self.index_spin.valueChanged.connect(self.pick_image)
        self.random_image_button = QPushButton("Random image")
        self.random_image_button.setToolTip("Encode a randomly chosen test image")
        self.random_image_button.clicked.connect(self._pick_random_image)
        self.strip = ImageView(min_size=40)
        self.strip.setFixedHeight(52)
        self.strip.setToolTip("Click a thumbnail to encode it")
        self.strip.clicked.connect(self._on_strip_click)
        row = QHBoxLayout()
        row.addWidget(QLabel("Image #"))
        row.addWidget(self.index_spin)
        row.addWidget(self.random_image_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.strip)
        layout.addWidget(self._build_inversion())

    def _build_inversion(self) -> QWidget:
        """"Encode by inversion", shown for a model without an encoder that can be inverted."""
        self.inversion_row = QWidget()
        self.invert_steps = QSpinBox()
        self.invert_steps.setRange(10, 20_000)
        self.invert_steps.setSingleStep(100)
        self.invert_steps.setValue(INVERSION_STEPS)
        self.invert_steps.setToolTip("Optimisation steps: more fit the image better, and take longer")
        self.invert_task = TaskBar("Encode by inversion")
        self.invert_task.run_button.setToolTip(
            "Search for the z whose decoding looks most like the picked image (gradient descent "
            "on z, the network fixed)")
        self.invert_task.run_clicked.connect(self.invert_picked)
        steps_row = QHBoxLayout()
        steps_row.addWidget(QLabel("Steps"))
        steps_row.addWidget(self.invert_steps)
        steps_row.addStretch(1)
        layout = QVBoxLayout(self.inversion_row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(steps_row)
        layout.addWidget(self.invert_task)
        self.inversion_row.setVisible(False)
        return self.inversion_row

    # -- following the tab -----------------------------------------------------------------------
    def set_model(self, model: LatentDecoder | None) -> None:
        """A new model: drop its predecessor's encodings and inversion."""
        self.encoder.discard()
        self.invert_task.cancel()
        self.model = model

    def set_dataset(self, dataset) -> None:
        n = len(dataset.test)
        self.index_spin.blockSignals(True)
        self.index_spin.setRange(0, max(n - 1, 0))
        self.index_spin.setValue(0)
        self.index_spin.blockSignals(False)
        self._strip_start = 0
        self.picked_index = None
        self.picked_view.clear_image()
        self.picked_caption.setText("")
        self._show_strip()

    def apply_capabilities(self) -> None:
        """Encode (an encoder), fit by inversion (an invertible model) or neither, and say so."""
        encoder = isinstance(self.model, Encoder)
        invertible = not encoder and isinstance(self.model, Invertible)
        fits = self._fits()
        self.inversion_row.setVisible(invertible)
        self.setEnabled(fits and (encoder or invertible))
        self.setTitle("Start from a dataset image (test split)" if encoder
                      else "Fit z to a dataset image (test split)")
        self.update_inversion_ready()
        dataset = self.state.dataset
        if dataset is not None and not fits:
            self.picked_caption.setText(self.mismatch())
        elif fits and self.picked_index is None:
            self.picked_caption.setText("Pick a dataset image below to encode it" if encoder
                                        else no_encoder(self.model))

    def mismatch(self) -> str:
        """Why the open dataset does not fit the model."""
        return (f"The dataset's images {tuple(self.state.dataset.image_shape)} do not fit the "
                f"model ({tuple(self.model.config.image_shape)}, as C×H×W): open a matching "
                "dataset or train a model on this one.")

    def _fits(self) -> bool:
        return dataset_fits(self.state.dataset, self.model)

    # -- picking ---------------------------------------------------------------------------------
    def _show_index(self, index: int) -> None:
        self.index_spin.blockSignals(True)
        self.index_spin.setValue(index)
        self.index_spin.blockSignals(False)
        if not (self._strip_start <= index < self._strip_start + STRIP_COUNT):
            self._strip_start = index - index % STRIP_COUNT
            self._show_strip()

    def _show_strip(self) -> None:
        dataset = self.state.dataset
        if dataset is None or not len(dataset.test):
            return
        images = dataset.test.images[self._strip_start:self._strip_start + STRIP_COUNT]
        self.strip.set_images(images, columns=STRIP_COUNT)

    def _on_strip_click(self, x: float, y: float) -> None:
        dataset = self.state.dataset
        if dataset is None or not self.isEnabled() or self.model is None:
            return
        _, h, w, _ = dataset.test.images.shape
        slot = tile_at(x, y, h, w, STRIP_COUNT)
        index = self._strip_start + slot
        if 0 <= slot < STRIP_COUNT and index < len(dataset.test):
            self.pick_image(index)

    def _pick_random_image(self) -> None:
        if self._fits():
            self._image_rng = self._image_rng or np.random.default_rng()
            self.pick_image(int(self._image_rng.integers(len(self.state.dataset.test))))

    def show_picked(self, index: int) -> None:
        """Show test image ``index`` as the picked one (its code is known already)."""
        test = self.state.dataset.test
        self.picked_index = index
        self._show_index(index)
        self.picked_view.set_image(test.images[index])
        self.picked_caption.setText(image_caption(self.state.dataset, index))

    def pick_image(self, index: int) -> None:
        """Show test image ``index`` beside the decoding and start from its encoding (a model
        without an encoder keeps it as the target of "Encode by inversion")."""
        if not self._fits() or not self.isEnabled():
            return
        self.show_picked(index)
        self.update_inversion_ready()
        if not isinstance(self.model, Encoder):
            return
        test = self.state.dataset.test
        model, batch = self.model, test.images[index:index + 1]
        labels = None if test.labels is None else test.labels[index:index + 1]
        job = _code_and_error if noise_latent(model) else image_code
        self.encoder.request(lambda: job(model, batch, labels), tag=(model, index))

    def _on_image_encoded(self, code, tag) -> None:
        model, index = tag
        if model is not self.model:
            return
        how = "encoded"
        if isinstance(code, tuple):  # a noise latent: (z, reconstruction error)
            code, error = code
            how = (f"encoded by DDIM inversion ({model.sampling_fields().steps} steps; DDIM with "
                   f"eta 0 reconstructs it with mean squared error {error:.4f})")
        self.point_found.emit(code, f"{image_caption(self.state.dataset, index)}, {how}", index)

    # -- encode by inversion -----------------------------------------------------------------------
    def update_inversion_ready(self) -> None:
        if self.model is None or not self._fits():
            self.invert_task.set_ready(False, "")
        elif self.picked_index is None:
            self.invert_task.set_ready(False, "Pick a dataset image to fit z to.")
        else:
            self.invert_task.set_ready(True)

    def invert_picked(self):
        """Fit z to the picked image by optimisation (a task: progress, cancel, one result)."""
        if not isinstance(self.model, Invertible) or self.picked_index is None or self.invert_task.running:
            return None
        test, index, steps = self.state.dataset.test, self.picked_index, self.invert_steps.value()
        model, images = self.model, test.images[index:index + 1]
        labels = None if test.labels is None or not model.conditional else test.labels[index:index + 1]
        caption = image_caption(self.state.dataset, index)
        return self.invert_task.submit(
            self.state.runner, "Explore: encode by inversion",
            lambda control: model.invert(images, labels, steps=steps, control=control),
            text=f"Optimising z for {caption}…",
            on_progress=self._on_inversion_progress,
            on_finished=lambda record: self._on_inverted(model, index, steps, record),
            on_error=lambda message: self.invert_task.set_progress(0.0, f"Inversion failed: {message}"),
            on_cancelled=lambda: self.invert_task.set_progress(0.0, "Inversion cancelled."))

    def _on_inversion_progress(self, record) -> None:
        if hasattr(record, "step") and not hasattr(record, "z"):  # not the final record
            self.invert_task.set_progress(record.step / max(record.steps, 1),
                                          f"Step {record.step:,} of {record.steps:,}: error "
                                          f"{float(record.loss):.4f}")

    def _on_inverted(self, model, index: int, steps: int, record) -> None:
        if model is not self.model or not hasattr(record, "z"):
            return  # a result for a model that is no longer open
        error = float(np.asarray(record.error).ravel()[0])
        self.invert_task.set_progress(
            1.0, f"Reconstruction error {error:.4f} (mean squared, pixels in [0, 1]) after "
            f"{steps:,} steps. This is optimisation, not an encoder: the decoder is searched for "
            "the z that reproduces the image, and where it cannot express the image the "
            "reconstruction stays wrong.")
        self.point_found.emit(np.asarray(record.z)[0], f"{image_caption(self.state.dataset, index)}, "
                              f"inverted ({steps:,} steps, error {error:.4f})", index)
