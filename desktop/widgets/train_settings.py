"""The Train tab's settings form: model and training options with explanations.

``configs(dataset)`` turns the fields into the engine's ``ModelConfig`` and ``TrainConfig``
(their own checks are the validation) and raises ``GenAIError`` naming the field at fault.
Defaults come from ``TrainConfig`` and ``ModelConfig`` so the app and the CLI agree.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from genai_engine.checkpoints import Checkpoint
from genai_engine.data import Dataset
from genai_engine.devices import DEVICE_CHOICES, available_devices
from genai_engine.errors import GenAIError
from genai_engine.families.vae.nets import LATENT_RANGE, ModelConfig, parse_hidden
from genai_engine.training import TrainConfig

DEFAULT_HIDDEN = {"mlp": "400", "conv": "32,64"}

TIPS = {
    "kind": "<b>MLP</b>: fully connected layers on the flattened image (the classic 784-400-20 "
            "VAE); fast on a CPU.<br><b>Conv</b>: stride-2 convolution blocks; sharper on larger "
            "or colour images, slower on a CPU.",
    "hidden": "Width of each hidden layer (MLP) or channels of each convolution block (conv), "
              "comma-separated: <tt>400</tt> or <tt>512,256</tt>.",
    "latent_dim": "Number of dimensions of the latent code <i>z</i>. The encoder predicts a "
                  "Gaussian for each; the decoder turns <i>z</i> back into an image. Unused "
                  "dimensions collapse to the prior (KL ≈ 0) and show grey in the KL bars.",
    "likelihood": "How a reconstruction is scored against the input pixels.<br><b>Bernoulli</b>: "
                  "binary cross-entropy; suits mostly black-and-white images such as "
                  "Fashion-MNIST.<br><b>Gaussian</b>: squared error with a learned noise level "
                  "per pixel; suits photos.",
    "conditional": "Give the class label to the encoder and decoder (a conditional VAE), so you "
                   "can choose which class to generate. Needs a dataset with labels.",
    "beta": "Weight of the KL term: loss = reconstruction + β·KL.<br>With β = 1 the loss is the "
            "<b>negative ELBO</b> (evidence lower bound), a bound on −log p(x) in nats per image. "
            "<b>KL</b> measures how far each code's Gaussian is from the N(0, I) prior. β &gt; 1 "
            "gives a smoother, more disentangled latent space and blurrier reconstructions "
            "(β-VAE); β &lt; 1 the opposite.",
    "epochs": "Passes over the whole training split. Resuming continues up to this total.",
    "batch_size": "Images per optimisation step. Larger batches run faster per image but take "
                  "fewer steps per epoch.",
    "lr": "Adam's learning rate, e.g. 0.003 or 1e-3. Too large and the loss can diverge "
          "(training then stops and keeps the last good weights).",
    "schedule": "<b>cosine</b> lowers the learning rate smoothly to 0 by the last epoch; "
                "<b>constant</b> keeps it fixed.",
    "seed": "Seed of the random initialisation and data order: the same seed and settings train "
            "the same model.",
    "device": "Where training runs. <b>auto</b> picks a CUDA GPU, then Apple MPS, then the CPU.",
}


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setContentsMargins(8, 6, 8, 8)
    form.setVerticalSpacing(5)
    return form


class TrainSettings(QWidget):
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        defaults = TrainConfig()
        model = ModelConfig()

        self.kind = QComboBox()
        self.kind.addItem("MLP (fully connected)", "mlp")
        self.kind.addItem("Convolutional", "conv")
        self.hidden = QLineEdit(DEFAULT_HIDDEN["mlp"])
        self.hidden.setPlaceholderText("e.g. 400 or 512,256")
        self.latent_dim = QSpinBox()
        self.latent_dim.setRange(*LATENT_RANGE)
        self.latent_dim.setValue(model.latent_dim)
        self.likelihood = QComboBox()
        self.likelihood.addItem("Bernoulli (cross-entropy)", "bernoulli")
        self.likelihood.addItem("Gaussian (learned noise)", "gaussian")
        self.conditional = QCheckBox("Condition on class labels")

        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 100.0)
        self.beta.setDecimals(2)
        self.beta.setSingleStep(0.1)
        self.beta.setValue(defaults.beta)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10_000)
        self.epochs.setValue(defaults.epochs)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 65_536)
        self.batch_size.setValue(defaults.batch_size)
        self.lr = QLineEdit(f"{defaults.lr:g}")
        self.schedule = QComboBox()
        self.schedule.addItems(["cosine", "constant"])
        self.schedule.setCurrentText(defaults.schedule)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(defaults.seed)
        self.device = QComboBox()
        present = set(available_devices()) | {"auto"}
        for name in DEVICE_CHOICES:
            self.device.addItem(name if name in present or name == "cpu" else f"{name} (not found)",
                                name)

        model_box = QGroupBox("Model")
        model_form = _form()
        for label, key, widget in (("Architecture", "kind", self.kind),
                                   ("Hidden widths", "hidden", self.hidden),
                                   ("Latent dimensions", "latent_dim", self.latent_dim),
                                   ("Likelihood", "likelihood", self.likelihood),
                                   ("", "conditional", self.conditional)):
            widget.setToolTip(TIPS[key])
            model_form.addRow(label, widget)
        model_box.setLayout(model_form)

        train_box = QGroupBox("Training")
        train_form = _form()
        for label, key, widget in (("β (KL weight)", "beta", self.beta),
                                   ("Epochs", "epochs", self.epochs),
                                   ("Batch size", "batch_size", self.batch_size),
                                   ("Learning rate", "lr", self.lr),
                                   ("LR schedule", "schedule", self.schedule),
                                   ("Seed", "seed", self.seed),
                                   ("Device", "device", self.device)):
            widget.setToolTip(TIPS[key])
            train_form.addRow(label, widget)
        train_box.setLayout(train_form)
        self.model_box = model_box

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(model_box)
        layout.addWidget(train_box)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        for signal in (self.kind.currentIndexChanged, self.hidden.textEdited,
                       self.latent_dim.valueChanged, self.likelihood.currentIndexChanged,
                       self.conditional.toggled, self.beta.valueChanged, self.epochs.valueChanged,
                       self.batch_size.valueChanged, self.lr.textEdited,
                       self.schedule.currentIndexChanged, self.seed.valueChanged,
                       self.device.currentIndexChanged):
            signal.connect(self.changed)

    def _kind_changed(self) -> None:
        # Swap the default widths with the architecture, but keep widths the user typed.
        if self.hidden.text().replace(" ", "") in DEFAULT_HIDDEN.values():
            self.hidden.setText(DEFAULT_HIDDEN[self.kind.currentData()])

    def set_dataset(self, dataset: Dataset | None) -> None:
        has_labels = dataset is not None and dataset.train.labels is not None
        self.conditional.setEnabled(has_labels)
        if not has_labels:
            self.conditional.setChecked(False)
        self.conditional.setToolTip(TIPS["conditional"] if has_labels else
                                    "This dataset has no labels, so a conditional model cannot "
                                    "be trained on it.")

    def set_device(self, device: str) -> None:
        index = self.device.findData(device)
        if index >= 0:
            self.device.setCurrentIndex(index)

    # -- to and from the engine's configs ------------------------------------------------------
    def configs(self, dataset: Dataset) -> tuple[ModelConfig, TrainConfig]:
        try:
            hidden = parse_hidden(self.hidden.text())
        except GenAIError as error:
            raise GenAIError(f"Hidden widths: {error}") from None
        try:
            lr = float(self.lr.text().strip())
        except ValueError:
            raise GenAIError(f"Learning rate: {self.lr.text()!r} is not a number "
                             "(e.g. 0.003 or 1e-3)") from None
        if not (math.isfinite(lr) and 0 < lr <= 10):
            raise GenAIError(f"Learning rate: must be between 0 and 10, got {lr:g}")
        num_classes = dataset.num_classes if self.conditional.isChecked() else 0
        model = ModelConfig(kind=self.kind.currentData(), hidden=hidden,
                            latent_dim=self.latent_dim.value(),
                            likelihood=self.likelihood.currentData(),
                            image_shape=dataset.image_shape, num_classes=num_classes)
        train = TrainConfig(epochs=self.epochs.value(), batch_size=self.batch_size.value(), lr=lr,
                            beta=self.beta.value(), seed=self.seed.value(),
                            device=self.device.currentData(),
                            schedule=self.schedule.currentText())
        return model, train

    def values(self) -> dict:
        """Plain strings to remember between sessions."""
        return {"kind": self.kind.currentData(), "hidden": self.hidden.text(),
                "latent_dim": self.latent_dim.value(), "likelihood": self.likelihood.currentData(),
                "conditional": int(self.conditional.isChecked()), "beta": self.beta.value(),
                "epochs": self.epochs.value(), "batch_size": self.batch_size.value(),
                "lr": self.lr.text(), "schedule": self.schedule.currentText(),
                "seed": self.seed.value(), "device": self.device.currentData()}

    def restore(self, values: dict) -> None:
        """Apply remembered values; anything unreadable keeps its default."""
        def number(key, kind):
            try:
                return kind(values[key])
            except (KeyError, TypeError, ValueError):
                return None

        for combo, key in ((self.kind, "kind"), (self.likelihood, "likelihood"),
                           (self.device, "device")):
            index = combo.findData(values.get(key))
            if index >= 0:
                combo.setCurrentIndex(index)
        if values.get("schedule") in ("cosine", "constant"):
            self.schedule.setCurrentText(values["schedule"])
        if values.get("hidden"):
            self.hidden.setText(str(values["hidden"]))
        if values.get("lr"):
            self.lr.setText(str(values["lr"]))
        for spin, key, kind in ((self.latent_dim, "latent_dim", int), (self.beta, "beta", float),
                                (self.epochs, "epochs", int), (self.batch_size, "batch_size", int),
                                (self.seed, "seed", int)):
            value = number(key, kind)
            if value is not None:
                spin.setValue(value)
        if number("conditional", int) is not None and self.conditional.isEnabled():
            self.conditional.setChecked(bool(number("conditional", int)))

    def show_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Fill the fields from a checkpoint that training will resume."""
        config = checkpoint.model_config
        self.kind.setCurrentIndex(self.kind.findData(config.kind))
        self.hidden.setText(",".join(str(h) for h in config.hidden))
        self.latent_dim.setValue(config.latent_dim)
        self.likelihood.setCurrentIndex(self.likelihood.findData(config.likelihood))
        self.conditional.setChecked(config.num_classes > 0)
        tc = checkpoint.train_config
        for spin, key in ((self.beta, "beta"), (self.batch_size, "batch_size"), (self.seed, "seed")):
            if key in tc:
                spin.setValue(type(spin.value())(tc[key]))
        if "lr" in tc:
            self.lr.setText(f"{float(tc['lr']):g}")
        if tc.get("schedule") in ("cosine", "constant"):
            self.schedule.setCurrentText(tc["schedule"])
        planned = int(tc.get("epochs", 0) or 0)
        self.epochs.setMinimum(checkpoint.epoch + 1)
        self.epochs.setValue(planned if planned > checkpoint.epoch else checkpoint.epoch + 5)

    def reset_defaults(self) -> None:
        defaults, model = TrainConfig(), ModelConfig()
        self.kind.setCurrentIndex(self.kind.findData(model.kind))
        self.hidden.setText(DEFAULT_HIDDEN[model.kind])
        self.latent_dim.setValue(model.latent_dim)
        self.likelihood.setCurrentIndex(self.likelihood.findData(model.likelihood))
        self.conditional.setChecked(False)
        self.beta.setValue(defaults.beta)
        self.epochs.setMinimum(1)
        self.epochs.setValue(defaults.epochs)
        self.batch_size.setValue(defaults.batch_size)
        self.lr.setText(f"{defaults.lr:g}")
        self.schedule.setCurrentText(defaults.schedule)
        self.seed.setValue(defaults.seed)
        self.set_device(defaults.device)

    def set_model_editable(self, editable: bool) -> None:
        """A resumed run keeps its checkpoint's architecture."""
        self.model_box.setEnabled(editable)
        if editable:
            self.epochs.setMinimum(1)
