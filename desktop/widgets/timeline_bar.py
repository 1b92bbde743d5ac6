"""Replay training in Explore: pick the epoch whose decoder shows the current latent point.

A checkpoint keeps a light copy of the decoder after every epoch (its training timeline). The
slider runs from epoch 1 to the final model; Explore decodes with the chosen one, so moving the
slider (or the latent sliders while a past epoch is chosen) shows what the model made of the
point at that stage of training. The filmstrip under it shows the point through every epoch at
once (at most ``MAX_FRAMES`` frames); a click on a frame picks that epoch.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGroupBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout

from desktop.latest_wins import ThrottledLatestWins
from desktop.task_runner import TaskRunner
from desktop.widgets.image_view import ImageView, tile_at, tile_rect
from genai_engine.analysis.timeline import TimelineDecoder, filmstrip_epochs

MAX_FRAMES = 12
REFRESH_MS = 250  # the filmstrip decodes every epoch: it follows a drag more slowly
NO_SNAPSHOTS = ("This checkpoint keeps no per-epoch decoder snapshots (an older version saved "
                "it): train a model to record its timeline.")
ONE_EPOCH = "The model was trained for one epoch: there is no earlier decoder to replay."


class TimelineBar(QGroupBox):
    changed = Signal()  # the chosen decoder changed

    def __init__(self, runner: TaskRunner, parent=None) -> None:
        super().__init__("Training timeline", parent)
        self.timeline: TimelineDecoder | None = None
        self.model = None  # the final model: the last slider position
        self.positions: list[int | None] = []  # slider position -> epoch (None: final model)
        self.frame_positions: list[int] = []  # filmstrip frame -> slider position
        self.frames: np.ndarray | None = None  # the filmstrip's frames, (F, H, W, C)
        self._filmed: tuple[bytes, int | None] | None = None  # the point of the newest request

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TicksBelow)
        self.slider.valueChanged.connect(self._on_slider)
        self.label = QLabel()
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("Epoch 888 of 888 (final)"))
        self.filmstrip = ImageView(min_size=30)
        self.filmstrip.setFixedHeight(56)
        self.filmstrip.clicked.connect(self._on_frame_click)
        self._marker = QGraphicsRectItem()
        pen = QPen(self.palette().highlight().color(), 2)
        pen.setCosmetic(True)
        self._marker.setPen(pen)
        self._marker.setVisible(False)
        self.filmstrip.view.addItem(self._marker)
        self.film_job = ThrottledLatestWins(runner, "timeline filmstrip", self.filmstrip, REFRESH_MS, self)
        self.film_job.ready.connect(self._show_frames)

        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(row)
        layout.addWidget(self.filmstrip)
        self.set_source(None, None, "Load a model to replay its training.")

    # == the source ===============================================================================
    def set_source(self, timeline: TimelineDecoder | None, model, reason: str = "") -> None:
        """Replay ``timeline`` ending at ``model`` (its final weights); ``None`` with the
        ``reason`` why there is nothing to replay."""
        self.film_job.discard()
        self.timeline, self.model, self.frames, self._filmed = timeline, model, None, None
        final = timeline.final_epoch if timeline is not None else 0
        epochs = timeline.epochs if timeline is not None else []
        # The last snapshot of a completed run is the final model (in float16): show the model.
        self.positions = [epoch for epoch in epochs if epoch < final] + [None]
        self.frame_positions = filmstrip_epochs(list(range(len(self.positions))), MAX_FRAMES)
        if timeline is not None and len(self.positions) < 2:
            reason = ONE_EPOCH if epochs else NO_SNAPSHOTS
        enabled = timeline is not None and len(self.positions) >= 2
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self.positions) - 1)
        self.slider.setValue(len(self.positions) - 1)
        self.slider.blockSignals(False)
        self.slider.setEnabled(enabled)
        self.slider.setVisible(enabled)  # hidden, not a disabled slider that reads "epoch 0"
        self.filmstrip.setVisible(enabled)
        self.filmstrip.clear_image()
        self._marker.setVisible(False)
        tip = ("Replay training: decode the current latent point with the decoder as it was "
               "after each epoch. The right end is the final model." if enabled else reason)
        for widget in (self, self.slider, self.label):
            widget.setToolTip(tip)
        self.filmstrip.setToolTip("The current point after each epoch of training, oldest "
                                  "first. Click a frame to show that epoch.")
        self._describe(reason)

    @property
    def available(self) -> bool:
        return self.slider.isEnabled()

    @property
    def epoch(self) -> int | None:
        """The chosen epoch, or None for the final model."""
        return self.positions[self.slider.value()] if self.available else None

    def decoder(self, final):
        """What to decode with: ``final`` (the model) or the chosen epoch's decoder."""
        epoch = self.epoch
        return final if epoch is None or self.timeline is None else self.timeline.at(epoch)

    def describe(self) -> str:
        """A caption suffix naming a past epoch's decoder ('' for the final model)."""
        epoch = self.epoch
        return "" if epoch is None else f" · decoder after epoch {epoch} of {self.timeline.final_epoch}"

    def _describe(self, reason: str = "") -> None:
        self.label.setWordWrap(not self.available)
        if not self.available:
            self.label.setText(reason)
            self.label.setStyleSheet("color: palette(dark);")
            return
        self.label.setStyleSheet("")
        epoch, final = self.epoch, self.timeline.final_epoch
        self.label.setText(f"Epoch {final} of {final} (final)" if epoch is None
                           else f"Epoch {epoch} of {final}")

    # == following the point ======================================================================
    def show_point(self, z: np.ndarray, label: int | None) -> None:
        """Refresh the filmstrip for the point ``z`` (decoded as class ``label``)."""
        if not self.available:
            return
        z = np.array(z, np.float32, copy=True)
        if self._filmed == (z.tobytes(), label):
            return  # e.g. only the chosen epoch changed: the frames are the same
        self._filmed = (z.tobytes(), label)
        labels = None if label is None else np.array([label], np.int64)
        timeline, model = self.timeline, self.model
        epochs = [self.positions[i] for i in self.frame_positions if self.positions[i] is not None]

        def film():
            _, frames = timeline.decode_all(z, labels, epochs=epochs)
            return np.concatenate([frames, model.decode(z, labels)[None]])

        self.film_job.request(film)

    def discard(self) -> None:
        self._filmed = None
        self.film_job.discard()

    @property
    def settled(self) -> bool:
        return self.film_job.settled

    def _show_frames(self, frames: np.ndarray, _tag) -> None:
        if len(frames) != len(self.frame_positions):
            return  # made for another source
        self.frames = frames
        self.filmstrip.set_images(frames, columns=len(frames))
        self._place_marker()

    # == interaction ==============================================================================
    def _on_slider(self, _value: int) -> None:
        self._describe()
        self._place_marker()
        self.changed.emit()

    def _on_frame_click(self, x: float, y: float) -> None:
        if self.frames is None:
            return
        _, h, w, _ = self.frames.shape
        slot = tile_at(x, y, h, w, len(self.frames))
        if 0 <= slot < len(self.frame_positions):
            self.slider.setValue(self.frame_positions[slot])

    def _place_marker(self) -> None:
        position = self.slider.value()
        if self.frames is None or position not in self.frame_positions:
            self._marker.setVisible(False)
            return
        _, h, w, _ = self.frames.shape
        self._marker.setRect(*tile_rect(self.frame_positions.index(position), h, w, len(self.frames)))
        self._marker.setVisible(True)
