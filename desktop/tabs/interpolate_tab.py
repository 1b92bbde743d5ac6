"""The Interpolate tab: walk the latent space between two endpoints and watch the decodings.

Each endpoint is a dataset image (its encoder mean, for a model with an encoder) or a prior
sample. The tab serves any ``LatentDecoder`` and says in place why it cannot serve another
model. The path (lerp or slerp, ``genai_engine.latent.interpolate``) is decoded on the worker
pool through ``desktop.latest_wins.LatestWins``, so dragging the step count or flipping the
method never queues work: at most one decode runs, an older result never replaces a newer one,
and the last request's result is always what stays on screen. The strip exports as a PNG or an
animated GIF through ``genai_engine.animation``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGraphicsRectItem,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop import style
from desktop.capabilities import lacks_encoder, no_latent
from desktop.latest_wins import LatestWins
from desktop.state import AppState
from desktop.widgets.image_view import ImageView, tile_at, tile_rect
from desktop.widgets.latent_endpoint import EndpointEditor
from genai_engine.animation import save_gif, save_strip
from genai_engine.data import Dataset
from genai_engine.families.base import Encoder, LatentDecoder
from genai_engine.latent import (
    DATASET,
    INTERPOLATIONS,
    PRIOR,
    Endpoint,
    Interpolation,
    PathRequest,
    interpolate,
)

MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 2, 64, 10
MAX_COLUMNS = 16  # longer paths wrap into rows of equal length

METHOD_TIPS = {
    "lerp": "Linear: a straight line between the two codes. Between two prior samples it dips "
            "towards the origin, where codes are rarer than the prior suggests.",
    "slerp": "Spherical: follows the great circle between the codes, keeping their length "
             "typical of the prior, so midpoints tend to look as sharp as the ends.",
}


def _columns_for(steps: int) -> int:
    rows = -(-steps // MAX_COLUMNS)
    return -(-steps // rows)


class InterpolateTab(QWidget):
    exported = Signal(bool, str)  # success, message (after every export attempt)
    shown = Signal(object)  # the Interpolation now on screen

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.result: Interpolation | None = None
        self._export_dir = str(Path.home())
        self.decoder = LatestWins(state.runner, "Interpolate: decode", self)

        self.start_editor = EndpointEditor("Start", Endpoint(DATASET, "test", 0, 0))
        self.end_editor = EndpointEditor("End", Endpoint(DATASET, "test", 1, 1))
        self.swap_button = QPushButton("⇅ Swap ends")
        self.swap_button.setToolTip("Exchange the start and the end")

        self.steps_slider = QSlider(Qt.Orientation.Horizontal)
        self.steps_slider.setRange(MIN_STEPS, MAX_STEPS)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(MIN_STEPS, MAX_STEPS)
        for widget in (self.steps_slider, self.steps_spin):
            widget.setValue(DEFAULT_STEPS)
            widget.setToolTip("Images along the path, both ends included")
        self.method_box = QComboBox()
        for name in INTERPOLATIONS:
            self.method_box.addItem(name, name)
            self.method_box.setItemData(self.method_box.count() - 1, METHOD_TIPS.get(name, ""),
                                        Qt.ItemDataRole.ToolTipRole)
        self.method_box.setCurrentIndex(max(0, self.method_box.findData("slerp")))
        self.method_box.setToolTip("\n\n".join(f"{k}: {v}" for k, v in METHOD_TIPS.items()))
        self.class_box = QComboBox()
        self.class_box.setToolTip("A conditional model decodes every image of the path as this class")

        path_box = QGroupBox("Path")
        path_form = QFormLayout(path_box)
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps_slider, 1)
        steps_row.addWidget(self.steps_spin)
        path_form.addRow("Steps", steps_row)
        path_form.addRow("Method", self.method_box)
        path_form.addRow("Class", self.class_box)
        self._class_row_label = path_form.labelForField(self.class_box)

        self.scale_spin = QSpinBox()
        self.scale_spin.setRange(1, 16)
        self.scale_spin.setValue(4)
        self.scale_spin.setSuffix(" ×")
        self.scale_spin.setToolTip("Each pixel becomes a square of this many pixels (stays crisp)")
        self.frame_spin = QSpinBox()
        self.frame_spin.setRange(20, 2000)
        self.frame_spin.setSingleStep(10)
        self.frame_spin.setValue(120)
        self.frame_spin.setSuffix(" ms")
        self.frame_spin.setToolTip("How long each GIF frame shows")
        self.pause_spin = QSpinBox()
        self.pause_spin.setRange(0, 5000)
        self.pause_spin.setSingleStep(100)
        self.pause_spin.setValue(400)
        self.pause_spin.setSuffix(" ms")
        self.pause_spin.setToolTip("Extra time the GIF holds the start and end images")
        self.pingpong_check = QCheckBox("Ping-pong (play back and forth)")
        self.pingpong_check.setChecked(True)
        self.png_button = QPushButton("Save PNG strip…")
        self.gif_button = QPushButton("Save GIF…")
        self.export_message = QLabel()
        self.export_message.setWordWrap(True)
        self.export_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        export_box = QGroupBox("Export")
        export_form = QFormLayout(export_box)
        export_form.addRow("Pixel scale", self.scale_spin)
        export_form.addRow("GIF frame", self.frame_spin)
        export_form.addRow("Hold ends", self.pause_spin)
        export_form.addRow(self.pingpong_check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.png_button)
        buttons.addWidget(self.gif_button)
        export_form.addRow(buttons)
        export_form.addRow(self.export_message)

        side = QVBoxLayout()
        side.addWidget(self.start_editor)
        side.addWidget(self.end_editor)
        side.addWidget(self.swap_button, 0, Qt.AlignmentFlag.AlignRight)
        side.addWidget(path_box)
        side.addWidget(export_box)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(360)
        side.setContentsMargins(0, 0, 0, 0)

        self.strip_view = ImageView(min_size=80)
        self.strip_view.setToolTip("The decoded path, from the start (top left) to the end. "
                                   "Click an image to look at it closely.")
        self.strip_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.selection_box = QGraphicsRectItem()
        self.selection_box.setPen(pg.mkPen(style.MARK, width=2))
        self.selection_box.setVisible(False)
        self.strip_view.view.addItem(self.selection_box)
        self.info_label = QLabel()
        self.info_label.setWordWrap(True)

        self.frame_view = ImageView(min_size=200)
        self.frame_view.setToolTip("One image of the path, large")
        self.frame_slider = QSlider(Qt.Orientation.Horizontal)
        self.frame_slider.setToolTip("Scrub along the path")
        self.frame_label = QLabel()
        self.frame_label.setMinimumWidth(70)
        self.play_button = QPushButton("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Preview the animation (the GIF frame time and ping-pong "
                                    "settings apply)")
        self.play_timer = QTimer(self)
        self._play_direction = 1
        self.frame_view.setFixedSize(300, 300)
        frame_column = QVBoxLayout()
        frame_column.addWidget(self.frame_view)
        scrub = QHBoxLayout()
        scrub.addWidget(self.play_button)
        scrub.addWidget(self.frame_slider, 1)
        scrub.addWidget(self.frame_label)
        frame_column.addLayout(scrub)
        frame_column.addStretch(1)
        frame_holder = QWidget()
        frame_holder.setLayout(frame_column)
        frame_column.setContentsMargins(0, 0, 0, 0)
        frame_holder.setFixedWidth(300)

        self.norm_plot = pg.PlotWidget()
        self.norm_plot.setMenuEnabled(False)
        self.norm_plot.setMouseEnabled(False, False)
        self.norm_plot.hideButtons()
        colors = {"lerp": style.BLUE, "slerp": style.RED}
        legend = " ".join(style.span(f"■ {name}", colors.get(name, style.PURPLE))
                          for name in INTERPOLATIONS)
        # Two short lines: one long one sets the plot's minimum width and overflows a small window.
        self.norm_plot.setTitle(f"Code length ‖z‖ along the path<br>{legend}", size="10pt")
        self.norm_plot.setLabel("bottom", "position along the path, t")
        self.norm_plot.setLabel("left", "‖z‖")
        # No grid: grid lines belong to the axes, which would then repaint (slow text) on
        # every curve update; the dashed √D line is the reference that matters.
        self.norm_plot.setXRange(0, 1, padding=0.03)
        self.norm_plot.setYRange(0, 1, padding=0)
        self.norm_plot.disableAutoRange()
        self.norm_plot.setToolTip(
            "Prior samples have a length close to √D (dashed line). A straight line between two "
            "of them passes through shorter codes the decoder rarely saw; slerp keeps the length.")
        self.norm_curves = {}
        for name in INTERPOLATIONS:
            color = colors.get(name, style.PURPLE)
            self.norm_curves[name] = self.norm_plot.plot(
                [], [], pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5,
                symbolBrush=color, symbolPen=None)
        self.prior_line = pg.InfiniteLine(
            angle=0, label="√D", labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)]})
        self.norm_plot.addItem(self.prior_line)
        self.t_line = pg.InfiniteLine(angle=90)
        self.norm_plot.addItem(self.t_line)
        style.keep_plot_styled(self.norm_plot, self._style_norm_lines)

        bottom = QHBoxLayout()
        bottom.addWidget(frame_holder)
        bottom.addWidget(self.norm_plot, 1)
        main = QVBoxLayout()
        main.addWidget(self.strip_view)
        main.addWidget(self.info_label)
        main.addLayout(bottom, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(side_widget)
        layout.addLayout(main, 1)

        self.start_editor.changed.connect(self.refresh)
        self.end_editor.changed.connect(self.refresh)
        self.swap_button.clicked.connect(self.swap)
        self.steps_slider.valueChanged.connect(self.steps_spin.setValue)
        self.steps_spin.valueChanged.connect(self.steps_slider.setValue)
        self.steps_spin.valueChanged.connect(self.refresh)
        self.method_box.currentIndexChanged.connect(self.refresh)
        self.class_box.currentIndexChanged.connect(self.refresh)
        self.png_button.clicked.connect(lambda: self.export_png())
        self.gif_button.clicked.connect(lambda: self.export_gif())
        self.strip_view.clicked.connect(self._on_strip_click)
        self.frame_slider.valueChanged.connect(self._select_frame)
        self.play_button.toggled.connect(self._play)
        self.play_timer.timeout.connect(self._advance)
        self.frame_spin.valueChanged.connect(self.play_timer.setInterval)
        self.decoder.ready.connect(lambda result, _tag: self._show(result))
        self.decoder.failed.connect(self._failed)
        state.model_changed.connect(self._on_model)
        state.dataset_changed.connect(self._on_dataset)
        self._on_model(state.model)

    # -- inputs -----------------------------------------------------------------------------
    def latent_model(self) -> LatentDecoder | None:
        """The open model if it has a latent space to walk through."""
        model = self.state.model
        return model if isinstance(model, LatentDecoder) else None

    def request(self) -> PathRequest | None:
        if self.latent_model() is None:
            return None
        label = self.class_box.currentData()
        return PathRequest(self.start_editor.endpoint(), self.end_editor.endpoint(),
                       self.steps_spin.value(), self.method_box.currentData(),
                       int(label) if label is not None else 0)

    def refresh(self) -> None:
        """Decode the current settings (latest-wins: cheap to call on every change)."""
        request = self.request()
        if request is None:
            return
        model, dataset = self.latent_model(), self._usable_dataset()
        self.decoder.request(lambda: interpolate(model, dataset, request))

    def swap(self) -> None:
        start, end = self.start_editor.endpoint(), self.end_editor.endpoint()
        for editor, endpoint in ((self.start_editor, end), (self.end_editor, start)):
            editor.blockSignals(True)
            editor.set_endpoint(endpoint)
            editor.blockSignals(False)
        self.refresh()

    def _usable_dataset(self) -> Dataset | None:
        """The open dataset if the model can encode its images (an encoder, the same shape)."""
        dataset, model = self.state.dataset, self.state.model
        if dataset is None or model is None:
            return dataset
        fits = tuple(dataset.image_shape) == tuple(model.config.image_shape)
        return dataset if fits and isinstance(model, Encoder) else None

    def _on_dataset(self, _dataset=None) -> None:
        usable, reason = self._usable_dataset(), self._encoder_note()
        for editor in (self.start_editor, self.end_editor):
            editor.blockSignals(True)
            editor.set_dataset(usable, reason)
            editor.blockSignals(False)
        self._update_class_box()
        self.refresh()

    def _encoder_note(self) -> str:
        """Why the ends are prior samples only ('' for a model with an encoder)."""
        model = self.latent_model()
        if model is None or isinstance(model, Encoder):
            return ""
        return f"{lacks_encoder(model)}, so both ends are prior samples."

    def _on_model(self, model) -> None:
        latent = isinstance(model, LatentDecoder)
        self.decoder.discard()
        if not latent:
            self._clear_result()
            self.info_label.setText(no_latent(model, "interpolate") if model is not None else
                                    "Open or train a model to interpolate in its latent space.")
        for widget in (self.start_editor, self.end_editor, self.swap_button, self.steps_slider,
                       self.steps_spin, self.method_box, self.class_box):
            widget.setEnabled(latent)
        self.prior_line.setValue(np.sqrt(model.latent_dim) if latent else 0)
        self._on_dataset()

    def _clear_result(self) -> None:
        """Nothing on screen may still show the previous model's path."""
        self.result = None
        self.play_button.setChecked(False)
        for widget in (self.png_button, self.gif_button, self.play_button):
            widget.setEnabled(False)
        for view in (self.strip_view, self.frame_view):
            view.clear_image()
        self.selection_box.setVisible(False)
        for curve in self.norm_curves.values():
            curve.setData([], [])

    def _update_class_box(self) -> None:
        model = self.latent_model()
        conditional = model is not None and model.conditional
        self.class_box.setVisible(conditional)
        if self._class_row_label is not None:
            self._class_row_label.setVisible(conditional)
        if not conditional:
            return
        names = model.class_names or (self.state.dataset.class_names if self.state.dataset else None)
        names = list(names or [])
        count = model.config.num_classes
        wanted = [names[k] if k < len(names) else f"class {k}" for k in range(count)]
        if [self.class_box.itemText(i) for i in range(self.class_box.count())] != wanted:
            self.class_box.blockSignals(True)
            self.class_box.clear()
            for k, name in enumerate(wanted):
                self.class_box.addItem(name, k)
            self.class_box.blockSignals(False)

    # -- results ----------------------------------------------------------------------------
    def _show(self, result: Interpolation) -> None:
        previous = self.result
        self.result = result
        request = result.request
        frames = result.frames
        self.strip_view.set_images(frames, _columns_for(len(frames)))
        self._fit_strip_height()
        # The ends of the strip are what the model makes of the endpoints.
        for editor, endpoint, frame in ((self.start_editor, request.start, frames[0]),
                                        (self.end_editor, request.end, frames[-1])):
            if endpoint.source == PRIOR:
                editor.set_preview(frame)
        t = np.linspace(0, 1, len(frames))
        for name, curve in self.norm_curves.items():
            curve.setData(t, result.norms[name])
            curve.setOpacity(1.0 if name == request.method else 0.3)
            curve.setZValue(1 if name == request.method else 0)
        # Axes repaint only when their range changes (the slow part of a redraw), so the y range
        # moves only when the curves leave it or shrink to much less of it.
        top = max(max(float(n.max()) for n in result.norms.values()), self.prior_line.value())
        shown_top = self.norm_plot.viewRange()[1][1]
        if top > shown_top or top < 0.6 * shown_top:
            self.norm_plot.setYRange(0, top * 1.15, padding=0)
        ends = [editor.endpoint().describe(self._usable_dataset())
                for editor in (self.start_editor, self.end_editor)]
        note = self._encoder_note()
        self.info_label.setText(
            f"<b>{len(frames)} images</b> · {request.method} · from {ends[0]} to {ends[1]} · "
            f"decoded in {result.seconds * 1000:.0f} ms" + (f"<br>{note}" if note else ""))
        # Keep the scrubber at the same place along the path when the step count changes.
        old_t = 0.5
        if previous is not None and len(previous.frames) > 1:
            old_t = self.frame_slider.value() / (len(previous.frames) - 1)
        self.frame_slider.blockSignals(True)
        self.frame_slider.setRange(0, len(frames) - 1)
        self.frame_slider.setValue(round(old_t * (len(frames) - 1)))
        self.frame_slider.blockSignals(False)
        self._select_frame(self.frame_slider.value())
        self.png_button.setEnabled(True)
        self.gif_button.setEnabled(True)
        self.play_button.setEnabled(True)
        self.shown.emit(result)

    def _select_frame(self, index: int) -> None:
        if self.result is None:
            return
        frames = self.result.frames
        index = int(np.clip(index, 0, len(frames) - 1))
        _, h, w, _ = frames.shape
        self.selection_box.setRect(*tile_rect(index, h, w, _columns_for(len(frames))))
        self.selection_box.setVisible(True)
        self.frame_view.set_image(frames[index])
        t = index / max(1, len(frames) - 1)
        self.frame_label.setText(f"t = {t:.2f}")
        self.t_line.setValue(t)

    def _on_strip_click(self, x: float, y: float) -> None:
        if self.result is None:
            return
        _, h, w, _ = self.result.frames.shape
        index = tile_at(x, y, h, w, _columns_for(len(self.result.frames)))
        if 0 <= index < len(self.result.frames):
            self.frame_slider.setValue(index)

    def _fit_strip_height(self) -> None:
        """As tall as the strip needs at the current width, so no blank band is left."""
        image = self.strip_view.image
        if image is None:
            return
        height = int(self.strip_view.width() * image.shape[0] / image.shape[1]) + 4
        self.strip_view.setFixedHeight(int(np.clip(height, 80, max(80, self.height() * 0.45))))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_strip_height()

    # -- animation preview ------------------------------------------------------------------
    def _play(self, on: bool) -> None:
        self.play_button.setText("■ Stop" if on else "▶ Play")
        if on and self.result is not None:
            self.play_timer.start(self.frame_spin.value())
        else:
            self.play_timer.stop()

    def _advance(self) -> None:
        if self.result is None:
            return
        last = len(self.result.frames) - 1
        index = self.frame_slider.value() + self._play_direction
        if index > last or index < 0:
            if self.pingpong_check.isChecked():
                self._play_direction = -self._play_direction
                index = self.frame_slider.value() + self._play_direction
            else:
                index = 0
        self.frame_slider.setValue(int(np.clip(index, 0, last)))

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.play_button.setChecked(False)  # no timer runs for a tab nobody sees
        super().hideEvent(event)

    def _style_norm_lines(self) -> None:
        self.prior_line.setPen(pg.mkPen(style.muted_colour(), width=1, style=Qt.PenStyle.DashLine))
        self.prior_line.label.setColor(style.muted_colour())
        self.t_line.setPen(pg.mkPen(style.faint_colour(), width=1))

    def _failed(self, message: str) -> None:
        self.info_label.setText(style.span(f"Could not decode: {message}", style.error_colour()))
        self.state.status_message.emit(f"Interpolation failed: {message}")

    # -- export -----------------------------------------------------------------------------
    def export_png(self, path: str | None = None):
        """Save the strip as a PNG; ``path=None`` asks with a file dialog."""
        return self._export("PNG strip", "PNG image (*.png)", ".png", path,
                            lambda frames, target, scale: save_strip(
                                frames, target, scale=scale,
                                columns=_columns_for(len(frames))))

    def export_gif(self, path: str | None = None):
        """Save the path as an animated GIF; ``path=None`` asks with a file dialog."""
        frame_ms, pause = self.frame_spin.value(), self.pause_spin.value()
        pingpong = self.pingpong_check.isChecked()
        return self._export("GIF", "Animated GIF (*.gif)", ".gif", path,
                            lambda frames, target, scale: save_gif(
                                frames, target, frame_ms=frame_ms, pingpong=pingpong,
                                scale=scale, end_pause_ms=pause))

    def _export(self, what: str, file_filter: str, suffix: str, path: str | None, save):
        if self.result is None:
            self._report(False, "Nothing to export yet: open a model first.")
            return None
        request = self.result.request
        if path is None:
            suggestion = Path(self._export_dir) / f"interpolation_{request.method}_{request.steps}{suffix}"
            path, _ = QFileDialog.getSaveFileName(self, f"Save {what}", str(suggestion), file_filter)
            if not path:
                return None
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(suffix)
        self._export_dir = str(target.parent)
        frames, scale = self.result.frames, self.scale_spin.value()
        self.export_message.setText(f"Saving {target.name}…")
        return self.state.runner.call(
            f"Export {what}", lambda: save(frames, target, scale),
            on_finished=lambda saved: self._report(
                True, f"Saved {len(frames)} images as {what} to {saved}"),
            on_error=lambda message: self._report(False, f"Could not save the {what}: {message}"))

    def _report(self, ok: bool, message: str) -> None:
        color = style.success_colour() if ok else style.error_colour()
        self.export_message.setText(style.span(message, color))
        self.state.status_message.emit(message)
        if not ok:
            self.state.error.emit("Export failed", message)
        self.exported.emit(ok, message)
