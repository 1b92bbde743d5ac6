"""The Explore tab: walk through a model's latent space and watch the decoder's answer live.

The current point ``z`` is edited by the sliders (one per dimension, most informative first),
set from a start (zero, a prior sample, an encoded dataset image, a prior-sample tile, a map
point) or moved along an attribute vector. The tab serves any ``LatentDecoder``; what needs an
encoder (encoding a dataset image, the map, class means) is disabled with the reason shown in
place for a model without one, and a model that can be inverted (a GAN) offers "Encode by
inversion" instead: an optimisation of z, run as a task with progress and cancel.

Every change asks the latest-wins decoder for a new image, so dragging never queues work and
the last position is always what ends up shown. The encoded test set (map, class means) is
computed on the worker pool when the tab is visible. The training timeline (``TimelineBar``)
picks which epoch's decoder draws the point; a conditional model also shows the point decoded
as every class (``ClassGrid``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.capabilities import lacks_encoder, no_encoder, no_latent, noise_latent, noise_latent_note
from desktop.latest_wins import LatestWins, LatestWinsDecoder
from desktop.state import AppState
from desktop.widgets.class_grid import ClassGrid
from desktop.widgets.image_view import ImageView, tile_at
from desktop.widgets.latent_map import LatentMap
from desktop.widgets.latent_sliders import LatentSliders
from desktop.widgets.task_bar import TaskBar
from desktop.widgets.timeline_bar import TimelineBar
from genai_engine.analysis.timeline import TimelineDecoder
from genai_engine.errors import GenAIError
from genai_engine.families.base import Encoder, Invertible, LatentDecoder, prior_samples
from genai_engine.latent import (
    EncodedSplit,
    EncodeProgress,
    attribute_vector,
    encode_split,
    image_code,
    importance_measure,
    slerp,
)
from genai_engine.sampling import save_image

MAP_MAX_POINTS = 10_000
STRIP_COUNT = 10  # thumbnails in the dataset strip
GRID_SIDE = 6  # prior samples grid is GRID_SIDE x GRID_SIDE
STRENGTH_TICKS = 20  # attribute strength slider: 0.05 per tick
STRENGTH_RANGE = 3.0
MAP_PAGE, SAMPLES_PAGE, CLASSES_PAGE = 0, 1, 2  # the side tabs
INVERSION_STEPS = 300  # default optimisation steps of "Encode by inversion"
NOISE_MAP_POINTS = 500  # a noise latent's map: each image costs a DDIM inversion
BLEND_TICKS = 100


def _code_and_error(model, images: np.ndarray, labels) -> tuple[np.ndarray, float]:
    """A noise latent's code of one image (DDIM inversion) and how well it reconstructs it."""
    labels = labels if model.conditional else None
    return image_code(model, images, labels), float(model.reconstruction_error(images, labels)[0])


def _caption(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignCenter)
    label.setWordWrap(True)
    return label


class ExploreTab(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model: LatentDecoder | None = None  # None also when the open model has no latent
        self.z = np.zeros(0, np.float32)  # the current point
        self.start_z = np.zeros(0, np.float32)  # where Reset returns to
        self.source = ""  # how the current point was made, for the caption
        self.point_image: int | None = None  # the test image the point encodes, if it does
        self.encoded: EncodedSplit | None = None
        self.picked_index: int | None = None
        self._random_seed = 0
        self._attr_anchor: np.ndarray | None = None  # the point the attribute vector is added to
        self._map_handle = None
        self._map_dirty = self._samples_dirty = False

        self.decoded_image: np.ndarray | None = None  # the latest decoding shown
        self.decoder = LatestWinsDecoder(state.runner, "explore decode", self)
        self.encoder = LatestWins(state.runner, "encode image", self)
        self.sampler = LatestWins(state.runner, "prior samples", self)
        self.decoder.ready.connect(self._show_decoded)
        self.encoder.ready.connect(self._on_image_encoded)
        self.sampler.ready.connect(self._show_samples)
        for job in (self.decoder, self.encoder, self.sampler):
            job.failed.connect(self._on_failed)

        # The map marker follows the current point at most ~10 times a second: redrawing the
        # map on every drag step would cost the decoded image its frame budget.
        self._marker_timer = QTimer(self)
        self._marker_timer.setSingleShot(True)
        self._marker_timer.setInterval(100)
        self._marker_timer.timeout.connect(self._update_marker)

        self._build()
        state.model_changed.connect(self._on_model_changed)
        state.dataset_changed.connect(self._on_dataset_changed)
        if state.dataset is not None:
            self._on_dataset_changed(state.dataset)
        if state.model is not None:
            self._on_model_changed(state.model)
        else:
            self._set_enabled(False)

    # == layout ==================================================================================
    def _build(self) -> None:
        splitter = QSplitter(Qt.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_sliders())
        splitter.addWidget(self._build_centre())
        splitter.addWidget(self._build_side())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 1)
        splitter.setSizes([300, 520, 460])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

    def _build_sliders(self) -> QWidget:
        box = QGroupBox("Latent dimensions")
        self.sliders = LatentSliders()
        self.sliders.value_changed.connect(self._on_slider)
        self.dims_label = QLabel()
        self.dims_label.setWordWrap(True)
        self.dims_label.setStyleSheet("color: palette(dark);")
        self.show_inactive = QCheckBox("Show inactive dimensions")
        self.show_inactive.setChecked(True)
        self.show_inactive.setToolTip("Inactive dimensions carry no information (KL ≈ 0): the "
                                      "decoder ignores them.")
        self.show_inactive.toggled.connect(self.sliders.set_show_inactive)
        layout = QVBoxLayout(box)
        layout.addWidget(self.dims_label)
        layout.addWidget(self.sliders, 1)
        layout.addWidget(self.show_inactive)
        layout.addWidget(self._build_noise_controls())
        box.setMinimumWidth(290)
        return box

    def _build_noise_controls(self) -> QWidget:
        """For a noise latent (diffusion) instead of the sliders: the noise by seed, and a blend
        (slerp) from the start point towards another seed's noise."""
        self.noise_box = QWidget()
        self.noise_seed = QSpinBox()
        self.noise_seed.setRange(0, 2**31 - 1)
        self.noise_seed.setKeyboardTracking(False)
        self.noise_seed.setToolTip("Start from the noise of this seed")
        self.noise_seed.valueChanged.connect(self._on_noise_seed)
        self.blend_seed = QSpinBox()
        self.blend_seed.setRange(0, 2**31 - 1)
        self.blend_seed.setValue(1)
        self.blend_seed.setToolTip("The noise the blend moves towards")
        self.blend = QSlider(Qt.Horizontal)
        self.blend.setRange(0, BLEND_TICKS)
        self.blend.setToolTip("0: the start point; 1: the other seed's noise (slerp, which keeps the "
                              "noise's typical size)")
        self.blend.valueChanged.connect(lambda _v: self._apply_blend())
        self.blend_seed.valueChanged.connect(lambda _v: self._apply_blend())
        form = QFormLayout(self.noise_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Noise seed", self.noise_seed)
        form.addRow("Blend towards seed", self.blend_seed)
        form.addRow("Blend", self.blend)
        self.noise_box.setVisible(False)
        return self.noise_box

    def _on_noise_seed(self, seed: int) -> None:
        if self.model is not None:
            self.set_point(prior_samples(1, self.model.latent_dim, seed)[0], f"Starting noise of seed {seed}")

    def _apply_blend(self) -> None:
        if self.model is None or not noise_latent(self.model) or not len(self.start_z):
            return
        t, seed = self.blend.value(), self.blend_seed.value()
        self.z = slerp(self.start_z, prior_samples(1, self.model.latent_dim, seed)[0], BLEND_TICKS + 1)[t]
        base = self.source.split(" → ")[0]
        self.source = base if t == 0 else f"{base} → {t / BLEND_TICKS:.2f} of the way to seed {seed}'s noise"
        self._decode_current()

    def _show_slider_values(self) -> None:
        if self.sliders.dim == len(self.z):  # a noise latent has no sliders
            self.sliders.set_values(self.z)

    def _build_centre(self) -> QWidget:
        panel = QWidget()
        # 160 px fits the whole column in the smallest window (1024x680); it grows with it.
        self.decoded_view = ImageView(min_size=160)
        self.decoded_view.setToolTip("The decoder's output for the current latent point")
        self.decoded_caption = _caption()
        self.picked_view = ImageView(min_size=120)
        self.picked_view.setToolTip("The dataset image that was encoded")
        self.picked_caption = _caption()

        self.picked_view.setFixedSize(150, 150)
        self.picked_caption.setFixedWidth(150)
        for view in (self.decoded_view, self.picked_view):
            view.setBackground(self.palette().window().color())  # no white bands around it
        images = QGridLayout()
        images.addWidget(QLabel("<b>Decoded</b>"), 0, 0, Qt.AlignHCenter)
        images.addWidget(QLabel("<b>Dataset image</b>"), 0, 1, Qt.AlignHCenter)
        images.addWidget(self.decoded_view, 1, 0, 2, 1)
        images.addWidget(self.picked_view, 1, 1, Qt.AlignTop)
        images.addWidget(self.picked_caption, 2, 1, Qt.AlignTop)
        images.addWidget(self.decoded_caption, 3, 0, 1, 2)
        images.setColumnStretch(0, 1)
        images.setRowStretch(2, 1)

        # Start points and reset.
        self.zero_button = QPushButton("Zero")
        self.zero_button.setToolTip("Start from the centre of the prior (all dimensions 0)")
        self.random_button = QPushButton("Randomise")
        self.random_button.setToolTip("Start from a new random sample of the prior N(0, I)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Undo your changes: go back to the start point")
        self.save_button = QPushButton("Save PNG…")
        self.save_button.setToolTip("Save the decoded image (scaled up 8×, crisp pixels)")
        self.zero_button.clicked.connect(self.start_from_zero)
        self.random_button.clicked.connect(self.randomise)
        self.reset_button.clicked.connect(self.reset)
        self.save_button.clicked.connect(self._save_png)
        buttons = QHBoxLayout()
        for button in (self.zero_button, self.random_button, self.reset_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)

        self.class_box = QComboBox()
        self.class_box.setToolTip("A conditional model decodes the latent point as this class")
        self.class_box.currentIndexChanged.connect(self._on_class_chosen)
        self.class_row = QWidget()
        class_layout = QHBoxLayout(self.class_row)
        class_layout.setContentsMargins(0, 0, 0, 0)
        class_layout.addWidget(QLabel("Class (conditional model):"))
        class_layout.addWidget(self.class_box, 1)
        self.class_row.setVisible(False)

        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(images, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.class_row)
        self.timeline_bar = TimelineBar(self.state.runner)
        self.timeline_bar.changed.connect(self._decode_current)
        layout.addWidget(self.timeline_bar)
        layout.addWidget(self._build_picker())
        layout.addWidget(self._build_attributes())
        return panel

    def _build_picker(self) -> QWidget:
        box = QGroupBox("Start from a dataset image (test split)")
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
        self._strip_start = 0
        row = QHBoxLayout()
        row.addWidget(QLabel("Image #"))
        row.addWidget(self.index_spin)
        row.addWidget(self.random_image_button)
        row.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addLayout(row)
        layout.addWidget(self.strip)
        layout.addWidget(self._build_inversion())
        self.picker_box = box
        return box

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

    def _build_attributes(self) -> QWidget:
        box = QGroupBox("Latent arithmetic")
        self.towards_box, self.away_box = QComboBox(), QComboBox()
        self.towards_box.setToolTip("Class A: move towards the mean code of this class")
        self.away_box.setToolTip("Class B: move away from the mean code of this class")
        self.strength = QSlider(Qt.Horizontal)
        self.strength.setRange(-int(STRENGTH_RANGE * STRENGTH_TICKS), int(STRENGTH_RANGE * STRENGTH_TICKS))
        self.strength.setToolTip("How far to move along mean(A) − mean(B); 0 is the point you "
                                 "started from")
        self.strength_label = QLabel("+0.00")
        self.strength_label.setMinimumWidth(self.strength_label.fontMetrics().horizontalAdvance("+0.00") + 6)
        self.strength.valueChanged.connect(self._on_strength)
        self.towards_box.currentIndexChanged.connect(lambda _: self._apply_attribute())
        self.away_box.currentIndexChanged.connect(lambda _: self._apply_attribute())
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_label)
        classes = QHBoxLayout()
        classes.addWidget(self.towards_box, 1)
        classes.addWidget(QLabel("−"))
        classes.addWidget(self.away_box, 1)
        self.attribute_hint = QLabel()
        self.attribute_hint.setWordWrap(True)
        self.attribute_hint.setStyleSheet("color: palette(dark);")
        form = QFormLayout(box)
        form.addRow(QLabel("current + strength × (mean of A − mean of B)"))
        form.addRow("A − B:", classes)
        form.addRow("Strength:", strength_row)
        form.addRow(self.attribute_hint)
        self.attribute_box = box
        return box

    def _build_side(self) -> QWidget:
        self.side_tabs = QTabWidget()
        self.side_tabs.setDocumentMode(True)

        # The map of the encoded test set.
        map_page = self.map_page = QWidget()
        self.map = LatentMap()
        self.map.setToolTip("Each dot is a test image's latent code (its posterior mean). Click "
                            "a dot to decode it; move the cursor to decode the map live.")
        self.map.point_clicked.connect(self._on_map_point)
        self.map.position_clicked.connect(self._on_map_position)
        self.map.hovered.connect(self._on_map_hover)
        self.map.hover_left.connect(self._decode_current)
        self.hover_check = QCheckBox("Decode under the cursor")
        self.hover_check.setChecked(True)
        self.hover_check.setToolTip("Show the decoding of the map position under the mouse; "
                                    "leave the map to return to the current point")
        self.map_status = QLabel()
        self.map_status.setWordWrap(True)
        self.map_status.setStyleSheet("color: palette(dark);")
        self.map_progress = QProgressBar()
        self.map_progress.setVisible(False)
        self.map_progress.setMaximumHeight(14)
        self.map_progress.setTextVisible(False)
        layout = QVBoxLayout(map_page)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.map, 1)
        layout.addWidget(self.map_progress)
        row = QHBoxLayout()
        row.addWidget(self.map_status, 1)
        row.addWidget(self.hover_check)
        layout.addLayout(row)
        self.side_tabs.addTab(map_page, "Latent map")

        # A grid of prior samples.
        samples_page = QWidget()
        self.samples_view = ImageView(min_size=200)
        self.samples_view.setBackground(self.palette().window().color())
        self.samples_view.setToolTip("Decoded samples z ~ N(0, I). Click one to start from it.")
        self.samples_view.clicked.connect(self._on_sample_click)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip("Random seed: the same seed gives the same samples")
        self.seed_spin.valueChanged.connect(lambda _: self._refresh_samples())
        new_seed = QPushButton("New samples")
        new_seed.clicked.connect(lambda: self.seed_spin.setValue(self.seed_spin.value() + 1))
        row = QHBoxLayout()
        row.addWidget(QLabel("Seed"))
        row.addWidget(self.seed_spin)
        row.addWidget(new_seed)
        row.addStretch(1)
        hint = QLabel("Click a sample to start from its latent point.")
        hint.setStyleSheet("color: palette(dark);")
        layout = QVBoxLayout(samples_page)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.samples_view, 1)
        layout.addWidget(hint)
        self.side_tabs.addTab(samples_page, "Prior samples")

        # A conditional model's point decoded as every class.
        self.class_grid = ClassGrid(self.state.runner)
        self.class_grid.class_clicked.connect(self.class_box.setCurrentIndex)
        self.side_tabs.addTab(self.class_grid, "All classes")
        self.side_tabs.setTabVisible(CLASSES_PAGE, False)
        self.side_tabs.currentChanged.connect(lambda _: self._refresh_visible())
        return self.side_tabs

    def _set_enabled(self, enabled: bool, reason: str = "") -> None:
        for widget in (self.sliders, self.zero_button, self.random_button, self.reset_button,
                       self.save_button, self.picker_box, self.attribute_box, self.side_tabs,
                       self.show_inactive, self.class_row, self.timeline_bar):
            widget.setEnabled(enabled)
        if not enabled:
            reason = reason or ("No model yet: train one in the Train tab or open a checkpoint "
                                "(File ▸ Open checkpoint).")
            self.decoded_view.clear_image()
            self.decoded_image = None
            self.decoded_caption.setText(reason)
            self.dims_label.setText(reason)
            self.picked_caption.setText("")
            self.map_status.setText("The encoded test set appears here once a model with an "
                                    "encoder is loaded.")

    def _apply_capabilities(self) -> None:
        """Enable what the open model can do; say in place why the rest is disabled."""
        encoder = isinstance(self.model, Encoder)
        invertible = not encoder and isinstance(self.model, Invertible)
        fits = self._dataset_fits()
        self.map_page.setEnabled(encoder)
        self.side_tabs.setTabToolTip(MAP_PAGE, "" if encoder else no_encoder(self.model))
        self.inversion_row.setVisible(invertible)
        self.picker_box.setEnabled(fits and (encoder or invertible))
        self.picker_box.setTitle("Start from a dataset image (test split)" if encoder
                                 else "Fit z to a dataset image (test split)")
        self._update_inversion_ready()
        self._update_attribute_controls()
        if not encoder:
            self.map_status.setText(f"{no_encoder(self.model)} The map shows the encoded test set.")
            if self.side_tabs.currentIndex() == MAP_PAGE:
                self.side_tabs.setCurrentIndex(SAMPLES_PAGE)
        if self.state.dataset is not None and not fits:
            message = (f"The dataset's images {tuple(self.state.dataset.image_shape)} do not fit the "
                       f"model ({tuple(self.model.config.image_shape)}, as C×H×W): open a matching "
                       "dataset or train a model on this one.")
            self.map_status.setText(message)
            self.picked_caption.setText(message)
        elif fits and self.picked_index is None:
            self.picked_caption.setText("Pick a dataset image below to encode it" if encoder
                                        else no_encoder(self.model))

    # == following the app state ================================================================
    def _on_model_changed(self, model) -> None:
        self.decoder.discard()
        self.encoder.discard()
        self.sampler.discard()
        self.class_grid.discard()
        self._cancel_map()
        self.invert_task.cancel()
        if not isinstance(model, LatentDecoder):
            self.model = None
            self.encoded = None
            self.map.clear_points()
            self.samples_view.clear_image()
            self._fill_class_box()
            self._set_enabled(False, no_latent(model, "explore"))
            return
        keep = (self.model is not None and model.latent_dim == len(self.z)
                and isinstance(self.model, Encoder) == isinstance(model, Encoder))
        self.model = model
        self._set_timeline_source(model)
        if not keep:
            # With the same latent dim the old map stays until the new one is ready (a training
            # run sends a model every epoch); its codes are still points of the same space.
            self.encoded = None
            self.map.clear_points()
            self._update_attribute_controls()
            self.z = np.zeros(model.latent_dim, np.float32)
            self.start_z = self.z.copy()
            self.source = "Zero vector"
            self.point_image = None
            self._attr_anchor = None
        elif self.point_image is not None:
            self._follow_point_image()
        noise = noise_latent(model)
        if noise and not keep:
            self.z = prior_samples(1, model.latent_dim, self.noise_seed.value())[0]
            self.start_z = self.z.copy()
            self.source = f"Starting noise of seed {self.noise_seed.value()}"
        importance = self._importance()
        self.sliders.configure(0 if noise else model.latent_dim, importance, importance_measure(model))
        self.sliders.setVisible(not noise)
        self.show_inactive.setVisible(not noise)
        self.noise_box.setVisible(noise)
        self._show_slider_values()
        self._describe_dims()
        self._fill_class_box()
        self._set_enabled(True)
        self._apply_capabilities()
        self._decode_current()
        self._map_dirty = self._samples_dirty = True
        self._refresh_visible()

    def _follow_point_image(self) -> None:
        """The point encodes a test image, but for another model: encode it again with this one
        (the caption stays true), or say that it came from the earlier model."""
        index = self.point_image
        if isinstance(self.model, Encoder) and self._dataset_fits() and index < len(self.state.dataset.test):
            self.pick_image(index)
        else:
            self._mark_point_kept("A point found with the previous model, not with this one")

    def _mark_point_kept(self, source: str) -> None:
        self.point_image = None
        self.source = source
        self._decode_current()

    def _on_dataset_changed(self, dataset) -> None:
        self._cancel_map()
        if self.point_image is not None:  # its test image belongs to the previous dataset
            self._mark_point_kept("A point kept from the previous dataset (its image is not in this one)")
        self.encoded = None
        self.map.clear_points()
        self._update_attribute_controls()
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
        self._fill_class_box()
        if self.model is not None:
            self._apply_capabilities()
        self._map_dirty = True
        self._refresh_visible()

    def _dataset_fits(self) -> bool:
        dataset = self.state.dataset
        return (dataset is not None and self.model is not None and len(dataset.test) > 0
                and tuple(dataset.image_shape) == tuple(self.model.config.image_shape))

    def _class_names(self) -> list[str]:
        names = list(self.model.class_names) if self.model is not None else []
        dataset = self.state.dataset
        if not names and dataset is not None and dataset.class_names:
            names = list(dataset.class_names)
        count = max(len(names), self.model.config.num_classes if self.model else 0,
                    dataset.num_classes if dataset is not None else 0)
        return names + [f"class {k}" for k in range(len(names), count)]

    def _label_names(self) -> list[str]:
        """Names of the open dataset's labels (map legend, captions, class means): the model's
        own class names describe what it was trained on, which may be another dataset."""
        dataset = self.state.dataset
        if dataset is None:
            return []
        names = list(dataset.class_names or [])
        return names + [f"class {k}" for k in range(len(names), dataset.num_classes)]

    def _set_timeline_source(self, model: LatentDecoder) -> None:
        """A checkpoint's model replays its timeline; a training epoch's snapshot has none."""
        if model is not self.state.checkpoint_model or self.state.checkpoint is None:
            self.timeline_bar.set_source(None, model, "This model is a snapshot of a running "
                                         "training: its timeline appears when the run ends.")
            return
        try:
            self.timeline_bar.set_source(TimelineDecoder(self.state.checkpoint), model)
        except GenAIError as error:
            self.timeline_bar.set_source(None, model, str(error))

    def _fill_class_box(self) -> None:
        conditional = self.model is not None and self.model.conditional
        self.class_row.setVisible(conditional)
        self.side_tabs.setTabVisible(CLASSES_PAGE, conditional)
        if not conditional:
            return
        current = max(self.class_box.currentIndex(), 0)
        names = self._class_names()[:self.model.config.num_classes]
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItems(names)
        self.class_box.blockSignals(False)
        self.class_grid.set_classes(names)
        self._set_class(min(current, len(names) - 1))

    def _set_class(self, k: int) -> None:
        """Select class ``k`` without decoding (the caller decodes)."""
        self.class_box.blockSignals(True)
        self.class_box.setCurrentIndex(k)
        self.class_box.blockSignals(False)
        self.class_grid.set_selected(k)

    def _on_class_chosen(self, k: int) -> None:
        self.class_grid.set_selected(k)
        self._decode_current()

    def _importance(self) -> np.ndarray | None:
        """The latest latent importance (KL, or measured sensitivity) if it fits the model."""
        values = self.state.latent_importance
        return values if values is not None and len(values) == self.model.latent_dim else None

    def _describe_dims(self) -> None:
        if noise_latent(self.model):
            self.dims_label.setText(noise_latent_note(self.model))
            return
        d = self.sliders.dim
        measure = importance_measure(self.model)
        if self._importance() is None:
            self.dims_label.setText(f"{d} dimensions (no {measure} measured yet, shown in order).")
        else:
            unit = " (nats)" if measure == "KL" else ""
            active = int(self.sliders.active.sum())
            self.dims_label.setText(f"{d} dimensions, {active} active, sorted by {measure}{unit}: "
                                    "the ones the decoder uses most come first.")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._refresh_visible()

    def _refresh_visible(self) -> None:
        """Heavier views (map, sample grid) are computed only when they can be seen."""
        if not self.isVisible() or self.model is None:
            return
        page = self.side_tabs.currentIndex()
        if page == MAP_PAGE and self._map_dirty and isinstance(self.model, Encoder):
            self._start_map()
        elif page == 1 and self._samples_dirty:
            self._refresh_samples()

    # == the current point =======================================================================
    def label(self) -> int | None:
        if self.model is None or not self.model.conditional:
            return None
        return max(self.class_box.currentIndex(), 0)

    def set_point(self, z: np.ndarray, source: str, *, start: bool = True, image: int | None = None) -> None:
        """Make ``z`` the current point (a new start point unless ``start`` is False); ``image``:
        the test image it encodes, so a new model re-encodes it and a new dataset marks it."""
        if self.model is None:
            return
        self.z = np.array(z, np.float32).reshape(self.model.latent_dim)
        if start:
            self.start_z = self.z.copy()
            self.blend.blockSignals(True)
            self.blend.setValue(0)  # a blend starts from the new start point
            self.blend.blockSignals(False)
        self.source = source
        self.point_image = image
        self._clear_attribute()
        self._show_slider_values()
        self._decode_current()

    def _decode_current(self) -> None:
        if self.model is None or not len(self.z):
            return
        decoder = self.timeline_bar.decoder(self.model)  # the final model or a past epoch's
        self.decoder.decode(decoder, self.z, self.label(), tag=self.source + self.timeline_bar.describe())
        self.timeline_bar.show_point(self.z, self.label())
        if self.model.conditional:
            self.class_grid.show_point(decoder, self.z)
        if self.encoded is not None and not self._marker_timer.isActive():
            self._marker_timer.start()

    def _update_marker(self) -> None:
        if self.encoded is not None and len(self.z) == self.encoded.codes.shape[1]:
            x, y = self.encoded.projection(self.z[None])[0]
            self.map.set_marker(float(x), float(y))

    def _show_decoded(self, image: np.ndarray, caption: object) -> None:
        self.decoded_image = image
        self.decoded_view.set_image(image)
        self.decoded_caption.setText(str(caption or ""))

    def _on_failed(self, message: str) -> None:
        self.decoded_caption.setText(f"Failed: {message}")
        self.state.status_message.emit(message)

    def _on_slider(self, dim: int, value: float) -> None:
        self.z[dim] = value
        self._clear_attribute()
        if not self.source.endswith("(edited)"):
            self.source = f"{self.source} (edited)"
        self._decode_current()

    def start_from_zero(self) -> None:
        if self.model is not None:
            self.set_point(np.zeros(self.model.latent_dim, np.float32), "Zero vector")

    def randomise(self) -> None:
        if self.model is None:
            return
        self._random_seed += 1
        z = prior_samples(1, self.model.latent_dim, self._random_seed)[0]
        self.set_point(z, f"Prior sample (seed {self._random_seed})")

    def reset(self) -> None:
        if self.model is not None and len(self.start_z):
            source = self.source.removesuffix(" (edited)").split(" + ")[0]
            self.set_point(self.start_z, source)

    def _save_png(self) -> None:
        image = self.decoded_image
        if image is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save decoded image", "decoded.png", "PNG (*.png)")
        if path:
            try:
                save_image(image, path, scale=8)
            except OSError as error:
                self.state.error.emit("Could not save the image", str(error))
            else:
                self.state.status_message.emit(f"Saved {path}")

    # == dataset images ===========================================================================
    def _show_index(self, index: int) -> None:
        self.index_spin.blockSignals(True)
        self.index_spin.setValue(index)
        self.index_spin.blockSignals(False)
        self._on_index_changed(index)

    def _on_index_changed(self, index: int) -> None:
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
        if dataset is None or not self.picker_box.isEnabled() or self.model is None:
            return
        _, h, w, _ = dataset.test.images.shape
        slot = tile_at(x, y, h, w, STRIP_COUNT)
        index = self._strip_start + slot
        if 0 <= slot < STRIP_COUNT and index < len(dataset.test):
            self.pick_image(index)

    def _pick_random_image(self) -> None:
        if self._dataset_fits():
            self._image_rng = getattr(self, "_image_rng", None) or np.random.default_rng()
            self.pick_image(int(self._image_rng.integers(len(self.state.dataset.test))))

    def _image_caption(self, index: int) -> str:
        labels = self.state.dataset.test.labels
        if labels is None:
            return f"Test image #{index}"
        names = self._label_names()
        label = int(labels[index])
        return f"Test image #{index} ({names[label] if label < len(names) else label})"

    def pick_image(self, index: int) -> None:
        """Show test image ``index`` beside the decoding and start from its encoding (a model
        without an encoder keeps it as the target of "Encode by inversion")."""
        if not self._dataset_fits() or not self.picker_box.isEnabled():
            return
        test = self.state.dataset.test
        self.picked_index = index
        self._show_index(index)
        self.picked_view.set_image(test.images[index])
        self.picked_caption.setText(self._image_caption(index))
        self._update_inversion_ready()
        if not isinstance(self.model, Encoder):
            return
        model, batch = self.model, test.images[index:index + 1]
        labels = None if test.labels is None else test.labels[index:index + 1]
        job = _code_and_error if noise_latent(model) else image_code
        self.encoder.request(lambda: job(model, batch, labels), tag=(model, index))

    def _on_image_encoded(self, code, tag) -> None:
        model, index = tag
        if model is not self.model:
            return
        self._select_class_of(index)
        how = "encoded"
        if isinstance(code, tuple):  # a noise latent: (z, reconstruction error)
            code, error = code
            how = (f"encoded by DDIM inversion ({model.sampling_fields().steps} steps; DDIM with "
                   f"eta 0 reconstructs it with mean squared error {error:.4f})")
        self.set_point(code, f"{self._image_caption(index)}, {how}", image=index)

    def _select_class_of(self, index: int) -> None:
        labels = self.state.dataset.test.labels if self.state.dataset is not None else None
        if self.model.conditional and labels is not None and index < len(labels):
            self._set_class(min(int(labels[index]), self.class_box.count() - 1))

    # == encode by inversion ====================================================================
    def _update_inversion_ready(self) -> None:
        if self.model is None or not self._dataset_fits():
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
        return self.invert_task.submit(
            self.state.runner, "Explore: encode by inversion",
            lambda control: model.invert(images, labels, steps=steps, control=control),
            text=f"Optimising z for {self._image_caption(index)}…",
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
        self._select_class_of(index)
        self.set_point(np.asarray(record.z)[0], f"{self._image_caption(index)}, inverted "
                       f"({steps:,} steps, error {error:.4f})", image=index)

    # == prior samples grid =====================================================================
    def _refresh_samples(self) -> None:
        if self.model is None:
            return
        self._samples_dirty = False
        model, seed, label = self.model, self.seed_spin.value(), self.label()
        n = GRID_SIDE * GRID_SIDE
        self.sampler.request(lambda: model.sample(n, seed, labels=label), tag=model)

    def _show_samples(self, images: np.ndarray, model) -> None:
        if model is self.model:
            self.samples_view.set_images(images, GRID_SIDE)

    def _on_sample_click(self, x: float, y: float) -> None:
        if self.model is None or self.samples_view.image is None:
            return
        _, h, w = self.model.config.image_shape
        slot = tile_at(x, y, h, w, GRID_SIDE)
        if 0 <= slot < GRID_SIDE * GRID_SIDE:
            seed = self.seed_spin.value()
            z = prior_samples(GRID_SIDE * GRID_SIDE, self.model.latent_dim, seed)[slot]
            self.set_point(z, f"Prior sample {slot + 1} of the grid (seed {seed})")

    # == the map of the encoded test set ========================================================
    def _cancel_map(self) -> None:
        if self._map_handle is not None:
            self._map_handle.cancel()
            self._map_handle = None
        self.map_progress.setVisible(False)

    def _start_map(self) -> None:
        self._map_dirty = False
        self._cancel_map()
        if not self._dataset_fits():
            if self.state.dataset is None:
                self.map_status.setText("Open a dataset to see its test images on the map.")
            return
        test = self.state.dataset.test
        limit = NOISE_MAP_POINTS if noise_latent(self.model) else MAP_MAX_POINTS
        images = test.images[:limit]
        labels = None if test.labels is None else test.labels[:limit]
        model, num_classes = self.model, len(self._label_names())
        self.map_progress.setRange(0, len(images))
        self.map_progress.setValue(0)
        self.map_progress.setVisible(True)
        self.map_status.setText(f"Encoding {len(images):,} test images with "
                                f"{'the new' if self.encoded is not None else 'the'} model…")
        handle = self.state.runner.submit(
            "encode test set", lambda control: encode_split(model, images, labels, num_classes, control),
            on_progress=lambda record: self._on_map_progress(handle, record),
            on_error=lambda message: self._on_map_error(handle, message),
        )
        self._map_handle = handle

    def _on_map_progress(self, handle, record) -> None:
        if handle is not self._map_handle:
            return  # a cancelled run for an older model or dataset
        if isinstance(record, EncodeProgress):
            self.map_progress.setValue(record.done)
            return
        self._map_handle = None
        self.map_progress.setVisible(False)
        self._set_encoded(record)

    def _on_map_error(self, handle, message: str) -> None:
        if handle is self._map_handle:
            self._map_handle = None
            self.map_progress.setVisible(False)
            self.map_status.setText(f"Could not encode the test set: {message}")

    def _set_encoded(self, encoded: EncodedSplit) -> None:
        self.encoded = encoded
        two_d = self.model.latent_dim == 2
        axes = ("z0", "z1") if two_d else ("PC 1", "PC 2")
        self.map.set_points(encoded.xy, encoded.labels, self._label_names(), axes)
        how = "the two latent dimensions" if two_d else "a PCA projection of the latent codes"
        self.map_status.setText(f"{len(encoded.codes):,} test images, {how}. Click a dot to "
                                "decode it.")
        self._update_marker()
        self._update_attribute_controls()

    def _on_map_point(self, index: int) -> None:
        if self.encoded is None:
            return
        self._show_index(index)
        image = self.state.dataset.test.images[index]
        self.picked_index = index
        self.picked_view.set_image(image)
        self.picked_caption.setText(self._image_caption(index))
        self._select_class_of(index)
        self.set_point(self.encoded.codes[index], f"Map: {self._image_caption(index)}, encoded", image=index)

    def _on_map_position(self, x: float, y: float) -> None:
        if self.encoded is not None:
            self.set_point(self.encoded.projection.inverse(np.array([x, y])),
                           f"Map position ({x:.2f}, {y:.2f})")

    def _on_map_hover(self, x: float, y: float) -> None:
        if self.encoded is None or self.model is None or not self.hover_check.isChecked():
            return
        z = self.encoded.projection.inverse(np.array([x, y]))
        self.decoder.decode(self.timeline_bar.decoder(self.model), z, self.label(),
                            tag=f"Map preview at ({x:.2f}, {y:.2f}){self.timeline_bar.describe()}")

    # == latent arithmetic ======================================================================
    def _update_attribute_controls(self) -> None:
        means = None if self.encoded is None else self.encoded.means
        ready = means is not None and len(means) >= 2
        for widget in (self.towards_box, self.away_box, self.strength):
            widget.setEnabled(ready)
        if not ready:  # no class means, so no names of an earlier dataset either
            for box in (self.towards_box, self.away_box):
                box.clear()
        if self.model is not None and not isinstance(self.model, Encoder):
            self.attribute_hint.setText(f"{lacks_encoder(self.model)}, so test images have no "
                                        "codes to take class means of.")
            return
        if not ready:
            self.attribute_hint.setText(
                "Needs the encoded test set with class labels (computed with the map)."
                if self.state.dataset is None or self.state.dataset.test.labels is not None
                else "This dataset has no class labels.")
            return
        self.attribute_hint.setText("Class means come from the encoded test set.")
        names = self._label_names()[:len(means)]
        if [self.towards_box.itemText(i) for i in range(self.towards_box.count())] != names:
            for box, default in ((self.towards_box, 1 % len(names)), (self.away_box, 0)):
                box.blockSignals(True)
                box.clear()
                box.addItems(names)
                box.setCurrentIndex(default)
                box.blockSignals(False)

    def _clear_attribute(self) -> None:
        """A new or edited point: the attribute vector starts again from it."""
        self._attr_anchor = None
        if self.strength.value() != 0:
            self.strength.blockSignals(True)
            self.strength.setValue(0)
            self.strength.blockSignals(False)
            self.strength_label.setText("+0.00")

    def _on_strength(self, ticks: int) -> None:
        self.strength_label.setText(f"{ticks / STRENGTH_TICKS:+.2f}")
        self._apply_attribute()

    def _apply_attribute(self) -> None:
        if self.encoded is None or self.encoded.means is None or self.model is None:
            return
        if self._attr_anchor is None:
            if self.strength.value() == 0:
                return
            self._attr_anchor = self.z.copy()
            self._attr_source = self.source
        a, b = self.towards_box.currentIndex(), self.away_box.currentIndex()
        strength = self.strength.value() / STRENGTH_TICKS
        self.z = self._attr_anchor + strength * attribute_vector(self.encoded.means, a, b)
        names = self._label_names()
        self.source = (f"{self._attr_source} + {strength:.2f} × "
                       f"({names[a]} − {names[b]})")
        self._show_slider_values()
        self._decode_current()

    # == for tests and benchmarks ===============================================================
    @property
    def shown_image(self) -> np.ndarray | None:
        """The decoding on screen, as the model returned it (uint8 H, W, C)."""
        return self.decoded_image
