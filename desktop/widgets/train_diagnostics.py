"""The Train tab's family diagnostics, chosen by the diagnostic names a family measures.

- ``latent_importance`` -> bars per latent dimension: "KL per latent dimension" for a model
  with an encoder (the VAE's KL), "Sensitivity per latent dimension" otherwise (how strongly
  each dimension changes the image: what orders the Explore sliders).
- ``class_histogram`` (with the metrics ``coverage`` and ``diversity``) -> the mode-collapse
  monitor.

A panel stays hidden until its diagnostic arrives, so a family that measures neither shows
nothing here and the preview takes the room.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop import style
from desktop.widgets.kl_bars import KLBars
from desktop.widgets.mode_collapse import ModeCollapseMonitor

MONITORED_METRICS = ("coverage", "diversity")  # shown by the monitor, not the loss plot


def caption(text: str) -> QLabel:
    label = QLabel(text)
    style.set_text_colour(label, style.muted_colour, "font-size: 11px;")
    # No word wrap: a wrapping label's height-for-width overrides the panes' stretch factors.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _box(title: str, widget: QWidget, note: QLabel | None = None) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 4, 6, 6)
    layout.addWidget(widget, 1)
    if note is not None:
        layout.addWidget(note)
    return box


class TrainDiagnostics(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.encoder = True  # the model has an encoder: importance is KL
        self.kl_bars = KLBars()
        self.kl_caption = caption("")
        self.latent_box = _box("KL per latent dimension", self.kl_bars, self.kl_caption)
        self.monitor = ModeCollapseMonitor()
        self.monitor_box = _box("Mode-collapse monitor", self.monitor)
        self.monitor_box.setToolTip("The class histogram of fresh samples, with class coverage "
                                    "and sample diversity after each epoch")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.latent_box, 2)
        layout.addWidget(self.monitor_box, 3)
        self.clear()

    def start(self, encoder: bool, class_names) -> None:
        """Before a run or a loaded model: whether it has an encoder, the dataset's classes."""
        self.encoder = encoder
        self.monitor.set_class_names(class_names)
        if encoder:
            self.latent_box.setTitle("KL per latent dimension")
            self.kl_bars.setToolTip("Mean KL of each latent dimension on the test split. Blue: "
                                    "active units that carry information (KL > 0.01 nats); grey: "
                                    "collapsed to the prior, unused by the decoder.")
        else:
            self.latent_box.setTitle("Sensitivity per latent dimension")
            self.kl_bars.setToolTip("How strongly a small change of each latent dimension changes "
                                    "the generated image: the order of the Explore sliders.")

    def clear(self) -> None:
        self.kl_bars.clear_values()
        self.kl_caption.setText("measured on the test split after each epoch")
        self.monitor.clear_values()
        self.latent_box.hide()
        self.monitor_box.hide()
        self.setVisible(False)

    @property
    def shown(self) -> list[str]:
        """The diagnostic panels on show, by diagnostic name."""
        return [name for name, box in (("latent_importance", self.latent_box),
                                       ("class_histogram", self.monitor_box)) if not box.isHidden()]

    def show_epoch(self, epoch: float, diagnostics: dict, metrics: dict) -> None:
        importance = diagnostics.get("latent_importance")
        if importance is not None:
            self._show_importance(np.asarray(importance, np.float64))
        # Without a classifier for the domain a GAN measures diversity only: the trend still shows.
        if "class_histogram" in diagnostics or any(m in metrics for m in MONITORED_METRICS):
            self.monitor.add_epoch(epoch, metrics, diagnostics.get("class_histogram"))
            self.monitor_box.show()
        self.setVisible(bool(self.shown))

    def show_history(self, history: dict, diagnostics: dict) -> None:
        """A loaded model: its last diagnostics and the monitor's metrics over its epochs."""
        self.kl_bars.clear_values()
        self.monitor.clear_values()
        self.latent_box.hide()
        self.monitor_box.hide()
        if "class_histogram" in diagnostics or any(f"test_{m}" in history for m in MONITORED_METRICS):
            epochs = history.get("epoch") or []
            columns = {m: history.get(f"test_{m}", []) for m in MONITORED_METRICS}
            for i, epoch in enumerate(epochs):
                self.monitor.add_epoch(epoch, {m: v[i] for m, v in columns.items() if i < len(v)})
            self.monitor_box.show()
        self.show_epoch(float(len(history.get("epoch") or [])), diagnostics, {})

    def _show_importance(self, values: np.ndarray) -> None:
        self.kl_bars.set_values(values, kl=self.encoder)
        if self.encoder:
            self.kl_caption.setText(f"{self.kl_bars.active_count} of {len(values)} dimensions "
                                    f"active · total KL {float(values.sum()):.1f} nats")
        else:
            self.kl_caption.setText(f"{len(values)} dimensions · most sensitive: {int(np.argmax(values))}")
        self.latent_box.show()
