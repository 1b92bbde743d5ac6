"""The Explore tab: walk through a model's latent space and watch the decoder's answer live.

The current point ``z`` is edited by the sliders (one per dimension, most informative first),
set from a start (zero, a prior sample, an encoded dataset image, a prior-sample tile, a map
point) or moved along an attribute vector. The tab serves any ``LatentDecoder``; what needs an
encoder (encoding a dataset image, the map, class means) is disabled with the reason shown in
place for a model without one.

This module holds the current point and composes the panels that move it: ``LatentDimsPanel``
(sliders, or the noise controls of a noise latent), ``ImagePickerPanel`` (encode or invert a
test image), ``AttributePanel`` (latent arithmetic), ``ExploreMapPanel`` (the encoded test set,
computed on the worker pool when visible) and ``PriorSamplesPanel``. Every change asks the
latest-wins decoder for a new image, so dragging never queues work and the last position is
always what ends up shown. The training timeline (``TimelineBar``) picks which epoch's decoder
draws the point; a conditional model also shows the point decoded as every class
(``ClassGrid``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.capabilities import no_encoder, no_latent, noise_latent
from desktop.latest_wins import LatestWinsDecoder
from desktop.state import AppState
from desktop.widgets.class_grid import ClassGrid
from desktop.widgets.explore_attributes import AttributePanel
from desktop.widgets.explore_dims import LatentDimsPanel
from desktop.widgets.explore_map import ExploreMapPanel
from desktop.widgets.explore_picker import ImagePickerPanel, dataset_fits, image_caption, label_names
from desktop.widgets.explore_samples import PriorSamplesPanel
from desktop.widgets.image_view import ImageView
from desktop.widgets.timeline_bar import TimelineBar
from genai_engine.analysis.timeline import TimelineDecoder
from genai_engine.errors import GenAIError
from genai_engine.families.base import Encoder, LatentDecoder, prior_samples
from genai_engine.latent import EncodedSplit
from genai_engine.sampling import save_image

MAP_PAGE, SAMPLES_PAGE, CLASSES_PAGE = 0, 1, 2  # the side tabs


class ExploreTab(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.model: LatentDecoder | None = None  # None also when the open model has no latent
        self.z = np.zeros(0, np.float32)  # the current point
        self.start_z = np.zeros(0, np.float32)  # where Reset returns to
        self.source = ""  # how the current point was made, for the caption
        self.point_image: int | None = None  # the test image the point encodes, if it does
        self._random_seed = 0
        self._map_dirty = False

        self.decoded_image: np.ndarray | None = None  # the latest decoding shown
        self.decoder = LatestWinsDecoder(state.runner, "explore decode", self)
        self.decoder.ready.connect(self._show_decoded)

        # The map marker follows the current point at most ~10 times a second: redrawing the
        # map on every drag step would cost the decoded image its frame budget.
        self._marker_timer = QTimer(self)
        self._marker_timer.setSingleShot(True)
        self._marker_timer.setInterval(100)
        self._marker_timer.timeout.connect(self._update_marker)

        self._build()
        for job in (self.decoder, self.picker.encoder, self.samples.sampler):
            job.failed.connect(self._on_failed)
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
        self.dims = LatentDimsPanel()
        self.dims.sliders.value_changed.connect(self._on_slider)
        self.dims.noise.seed_chosen.connect(self._on_noise_seed)
        self.dims.noise.blend_changed.connect(self._apply_blend)
        # The names tests and benchmarks drive: the panels' own widgets.
        self.sliders, self.dims_label, self.show_inactive = (
            self.dims.sliders, self.dims.dims_label, self.dims.show_inactive)
        noise = self.dims.noise
        self.noise_box, self.noise_seed, self.blend_seed, self.blend = (
            noise, noise.noise_seed, noise.blend_seed, noise.blend)

        splitter = QSplitter(Qt.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.dims)
        splitter.addWidget(self._build_centre())
        splitter.addWidget(self._build_side())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 1)
        splitter.setSizes([300, 520, 460])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

    def _build_centre(self) -> QWidget:
        panel = QWidget()
        self.picker = self.picker_box = ImagePickerPanel(self.state)
        self.picker.point_found.connect(self._on_point_found)
        for name in ("picked_view", "picked_caption", "index_spin", "strip", "inversion_row",
                     "invert_steps", "invert_task"):
            setattr(self, name, getattr(self.picker, name))
        self.attributes = self.attribute_box = AttributePanel(lambda: (self.z, self.source))
        self.attributes.moved.connect(self._on_attribute_moved)
        self.towards_box, self.away_box, self.strength, self.strength_label, self.attribute_hint = (
            self.attributes.towards_box, self.attributes.away_box, self.attributes.strength,
            self.attributes.strength_label, self.attributes.hint)

        # 160 px fits the whole column in the smallest window (1024x680); it grows with it.
        self.decoded_view = ImageView(min_size=160)
        self.decoded_view.setToolTip("The decoder's output for the current latent point")
        self.decoded_caption = QLabel()
        self.decoded_caption.setAlignment(Qt.AlignCenter)
        self.decoded_caption.setWordWrap(True)
        self.picked_view.setFixedSize(150, 150)
        self.picked_caption.setFixedWidth(150)
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
        layout.addWidget(self.picker)
        layout.addWidget(self.attributes)
        return panel

    def _build_side(self) -> QWidget:
        self.side_tabs = QTabWidget()
        self.side_tabs.setDocumentMode(True)

        self.map_page = ExploreMapPanel(self.state)
        self.map, self.hover_check, self.map_status = (
            self.map_page.map, self.map_page.hover_check, self.map_page.status)
        self.map.point_clicked.connect(self._on_map_point)
        self.map.position_clicked.connect(self._on_map_position)
        self.map.hovered.connect(self._on_map_hover)
        self.map.hover_left.connect(self._decode_current)
        self.map_page.encoded_changed.connect(self._on_encoded)
        self.side_tabs.addTab(self.map_page, "Latent map")

        self.samples = PriorSamplesPanel(self.state, self.label)
        self.samples.point_picked.connect(self.set_point)
        self.samples_view, self.seed_spin, self.sampler = (
            self.samples.view, self.samples.seed_spin, self.samples.sampler)
        self.side_tabs.addTab(self.samples, "Prior samples")

        # A conditional model's point decoded as every class.
        self.class_grid = ClassGrid(self.state.runner)
        self.class_grid.class_clicked.connect(self.class_box.setCurrentIndex)
        self.side_tabs.addTab(self.class_grid, "All classes")
        self.side_tabs.setTabVisible(CLASSES_PAGE, False)
        self.side_tabs.currentChanged.connect(lambda _: self._refresh_visible())
        return self.side_tabs

    @property
    def encoded(self) -> EncodedSplit | None:
        """The encoded test set (the map's points), once computed for the open model."""
        return self.map_page.encoded

    @property
    def picked_index(self) -> int | None:
        return self.picker.picked_index

    def _set_enabled(self, enabled: bool, reason: str = "") -> None:
        for widget in (self.sliders, self.zero_button, self.random_button, self.reset_button,
                       self.save_button, self.picker, self.attributes, self.side_tabs,
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
        self.map_page.setEnabled(encoder)
        self.side_tabs.setTabToolTip(MAP_PAGE, "" if encoder else no_encoder(self.model))
        self.picker.apply_capabilities()
        self._update_attribute_controls()
        if not encoder:
            self.map_status.setText(f"{no_encoder(self.model)} The map shows the encoded test set.")
            if self.side_tabs.currentIndex() == MAP_PAGE:
                self.side_tabs.setCurrentIndex(SAMPLES_PAGE)
        if self.state.dataset is not None and not self._dataset_fits():
            self.map_status.setText(self.picker.mismatch())

    def _update_attribute_controls(self) -> None:
        means = None if self.encoded is None else self.encoded.means
        self.attributes.update_controls(means, label_names(self.state.dataset), self.model,
                                        self.state.dataset)

    # == following the app state ================================================================
    def _on_model_changed(self, model) -> None:
        self.decoder.discard()
        self.class_grid.discard()
        self.map_page.cancel()
        latent = model if isinstance(model, LatentDecoder) else None
        self.picker.set_model(latent)
        self.samples.set_model(latent)
        if latent is None:
            self.model = None
            self.map_page.clear()
            self.attributes.means = None
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
            self.map_page.clear()
            self._update_attribute_controls()
            if isinstance(model, Encoder):  # the prior's mean: where a VAE's codes gather
                self.z, self.source = np.zeros(model.latent_dim, np.float32), "Zero vector"
            else:  # z = 0 lies far inside the shell a GAN was trained on: start on a sample
                self.z, self.source = prior_samples(1, model.latent_dim, 0)[0], "Prior sample (seed 0)"
            self.start_z = self.z.copy()
            self.point_image = None
            self.attributes.drop_anchor()
        elif self.point_image is not None:
            self._follow_point_image()
        if noise_latent(model) and not keep:
            self.z, self.source = self.dims.noise.start_noise(model.latent_dim)
            self.start_z = self.z.copy()
        self.dims.configure(model, self._importance())
        self.dims.show_values(self.z)
        self._fill_class_box()
        self._set_enabled(True)
        self._apply_capabilities()
        self._decode_current()
        self._map_dirty = self.samples.dirty = True
        self._refresh_visible()

    def _follow_point_image(self) -> None:
        """The point encodes a test image, but for another model: encode it again with this one
        (the caption stays true), or say that it came from the earlier model."""
        index = self.point_image
        if isinstance(self.model, Encoder) and self._dataset_fits() and index < len(self.state.dataset.test):
            self.picker.pick_image(index)
        else:
            self._mark_point_kept("A point found with the previous model, not with this one")

    def _mark_point_kept(self, source: str) -> None:
        self.point_image = None
        self.source = source
        self._decode_current()

    def _on_dataset_changed(self, dataset) -> None:
        self.map_page.cancel()
        if self.point_image is not None:  # its test image belongs to the previous dataset
            self._mark_point_kept("A point kept from the previous dataset (its image is not in this one)")
        self.map_page.clear()
        self._update_attribute_controls()
        self.picker.set_dataset(dataset)
        self._fill_class_box()
        if self.model is not None:
            self._apply_capabilities()
        self._map_dirty = True
        self._refresh_visible()

    def _dataset_fits(self) -> bool:
        return dataset_fits(self.state.dataset, self.model)

    def _class_names(self) -> list[str]:
        names = list(self.model.class_names) if self.model is not None else []
        dataset = self.state.dataset
        if not names and dataset is not None and dataset.class_names:
            names = list(dataset.class_names)
        count = max(len(names), self.model.config.num_classes if self.model else 0,
                    dataset.num_classes if dataset is not None else 0)
        return names + [f"class {k}" for k in range(len(names), count)]

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

    def _select_class_of(self, index: int) -> None:
        labels = self.state.dataset.test.labels if self.state.dataset is not None else None
        if self.model.conditional and labels is not None and index < len(labels):
            self._set_class(min(int(labels[index]), self.class_box.count() - 1))

    def _on_class_chosen(self, k: int) -> None:
        self.class_grid.set_selected(k)
        self._decode_current()

    def _importance(self) -> np.ndarray | None:
        """The latest latent importance (KL, or measured sensitivity) if it fits the model."""
        values = self.state.latent_importance
        return values if values is not None and len(values) == self.model.latent_dim else None

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
        elif page == SAMPLES_PAGE and self.samples.dirty:
            self.samples.refresh()

    # == the map of the encoded test set ========================================================
    def _start_map(self) -> None:
        self._map_dirty = False
        self.map_page.cancel()
        if not self._dataset_fits():
            if self.state.dataset is None:
                self.map_status.setText("Open a dataset to see its test images on the map.")
            return
        self.map_page.encode(self.model, self.state.dataset.test, label_names(self.state.dataset))

    def _on_encoded(self) -> None:
        self._update_marker()
        self._update_attribute_controls()

    def _on_map_point(self, index: int) -> None:
        if self.encoded is None:
            return
        self.picker.show_picked(index)
        self._select_class_of(index)
        self.set_point(self.encoded.codes[index], f"Map: {image_caption(self.state.dataset, index)}, encoded",
                       image=index)

    def _on_map_position(self, x: float, y: float) -> None:
        if self.encoded is not None:
            self.set_point(self.map_page.code_at(x, y), f"Map position ({x:.2f}, {y:.2f})")

    def _on_map_hover(self, x: float, y: float) -> None:
        if self.encoded is None or self.model is None or not self.hover_check.isChecked():
            return
        tag = f"Map preview at ({x:.2f}, {y:.2f}){self.timeline_bar.describe()}"
        self.decoder.decode(self.timeline_bar.decoder(self.model), self.map_page.code_at(x, y), self.label(),
                            tag=tag)

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
            self.dims.noise.restart()  # a blend starts from the new start point
        self.source = source
        self.point_image = image
        self.attributes.clear()
        self.dims.show_values(self.z)
        self._decode_current()

    def pick_image(self, index: int) -> None:
        """Start from test image ``index`` (see ``ImagePickerPanel.pick_image``)."""
        self.picker.pick_image(index)

    def _on_point_found(self, z: np.ndarray, source: str, index: int) -> None:
        if self.model is None:
            return
        self._select_class_of(index)
        self.set_point(z, source, image=index)

    def _on_attribute_moved(self, z: np.ndarray, source: str) -> None:
        if self.model is None:
            return
        self.z, self.source = z, source
        self.dims.show_values(self.z)
        self._decode_current()

    def _on_noise_seed(self, seed: int) -> None:
        if self.model is not None:
            self.set_point(prior_samples(1, self.model.latent_dim, seed)[0], f"Starting noise of seed {seed}")

    def _apply_blend(self) -> None:
        if self.model is None or not noise_latent(self.model) or not len(self.start_z):
            return
        self.z, self.source = self.dims.noise.blended(self.start_z, self.source)
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
        self.map_page.follow(self.z)

    def _show_decoded(self, image: np.ndarray, caption: object) -> None:
        self.decoded_image = image
        self.decoded_view.set_image(image)
        self.decoded_caption.setText(str(caption or ""))

    def _on_failed(self, message: str) -> None:
        self.decoded_caption.setText(f"Failed: {message}")
        self.state.status_message.emit(message)

    def _on_slider(self, dim: int, value: float) -> None:
        self.z[dim] = value
        self.attributes.clear()
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

    # == for tests and benchmarks ===============================================================
    @property
    def shown_image(self) -> np.ndarray | None:
        """The decoding on screen, as the model returned it (uint8 H, W, C)."""
        return self.decoded_image
