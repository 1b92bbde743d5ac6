"""The Train tab's settings form: the model family, its options and the training options.

The model section is built from the family's config dataclass (``ConfigForm``), so every
family's form is made the same way. ``configs(dataset)`` turns the fields into the family
name, its config and a ``TrainConfig`` (their own checks are the validation) and raises
``GenAIError`` naming the field at fault.

Training options are remembered per family: each family starts from its ``train_defaults``
(a GAN wants a far smaller learning rate than a VAE), and switching back to a family brings
back what the user set for it. Settings are saved as plain strings keyed ``family.field``.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.widgets.config_form import ConfigForm, form_layout
from genai_engine.checkpoints import Checkpoint
from genai_engine.data import Dataset
from genai_engine.devices import DEVICE_CHOICES, available_devices
from genai_engine.errors import GenAIError
from genai_engine.families import DEFAULT_FAMILY, family_names, get_family
from genai_engine.training import EPOCHS_MAX, SCHEDULES, TrainConfig

# beta is a TrainConfig field (every family's step receives the TrainConfig) but only the
# VAE's step reads it, and the contract has no per-family training options: name its users.
BETA_FAMILIES = ("vae",)
# training options kept per family
PER_FAMILY = ("epochs", "epoch_images", "batch_size", "lr", "schedule", "beta")
CONDITIONAL_TIP = ("Give the class label to the model, so you can choose which class to "
                   "generate. Needs a dataset with labels.")

TIPS = {
    "family": "Which kind of generative model to train. Each family has its own options below.",
    "beta": "Weight of the KL term: loss = reconstruction + β·KL.<br>With β = 1 the loss is the "
            "<b>negative ELBO</b> (evidence lower bound), a bound on −log p(x) in nats per image. "
            "<b>KL</b> measures how far each code's Gaussian is from the N(0, I) prior. β &gt; 1 "
            "gives a smoother, more disentangled latent space and blurrier reconstructions "
            "(β-VAE); β &lt; 1 the opposite.",
    "epochs": "Passes over the training data (or over 'images per epoch' of it). Resuming "
              "continues up to this total.",
    "epoch_images": "How many training images make one epoch (a fresh random subset each "
                    "time); <b>all</b> uses the whole training split. Slow families on a CPU "
                    "(autoregressive, diffusion) default to short epochs, so you see per-epoch "
                    "measures, timeline snapshots and checkpoints every few minutes.",
    "batch_size": "Images per optimisation step. Larger batches run faster per image but take "
                  "fewer steps per epoch.",
    "lr": "Adam's learning rate, e.g. 0.003 or 1e-3. Too large and the loss can diverge "
          "(training then stops and keeps the last good weights).",
    "schedule": "<b>cosine</b> lowers the learning rate smoothly to 0 over the run; "
                "<b>late-decay</b> holds it for the first 80% of the run, then lowers it to 0 (quick "
                "progress in a short run, still an annealed end); <b>constant</b> keeps it fixed.",
    "minutes": "Train for this many minutes (pauses do not count; the epochs' test measures do), "
               "as many epochs as fit, with the learning-rate schedule planned over the time, so a "
               "short run still ends annealed. The last epoch is cut short and saved as complete. "
               "<b>none</b>: the epochs above decide.",
    "seed": "Seed of the random initialisation and data order: the same seed and settings train "
            "the same model.",
    "device": "Where training runs. <b>auto</b> picks a CUDA GPU, then Apple MPS, then the CPU.",
}


def train_defaults(family: str) -> dict:
    """The TrainConfig values a family starts from."""
    return {**TrainConfig().to_dict(), **get_family(family).train_defaults}


class TrainSettings(QWidget):
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.family = QComboBox()
        for name in family_names():
            self.family.addItem(get_family(name).title, name)
        self.family.setToolTip(TIPS["family"])
        # long titles ("Generative adversarial network") must not widen the fixed-width column
        self.family.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.family.setMinimumContentsLength(12)
        self.conditional = QCheckBox("Condition on class labels")
        self.conditional.setToolTip(CONDITIONAL_TIP)
        self.model_forms: dict[str, ConfigForm] = {}  # built on first use, kept with their edits
        self._train_values: dict[str, dict] = {}  # per family: PER_FAMILY values while not shown
        self._remembered: dict = {}  # restored settings, applied when a family's form is built
        self._shown_family: str | None = None

        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 100.0)
        self.beta.setDecimals(2)
        self.beta.setSingleStep(0.1)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10_000)
        self.epoch_images = QSpinBox()
        self.epoch_images.setRange(0, 100_000_000)
        self.epoch_images.setSingleStep(1000)
        self.epoch_images.setSpecialValueText("all")  # 0: the whole training split
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 65_536)
        self.lr = QLineEdit()
        self.schedule = QComboBox()
        self.schedule.addItems(list(SCHEDULES))
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.0, 10_000.0)
        self.minutes.setDecimals(1)
        self.minutes.setSingleStep(1.0)
        self.minutes.setSuffix(" min")
        self.minutes.setSpecialValueText("none")  # 0: no time limit
        self.minutes.valueChanged.connect(self._show_what_decides)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(TrainConfig.seed)
        self.device = QComboBox()
        present = set(available_devices()) | {"auto"}
        for name in DEVICE_CHOICES:
            self.device.addItem(name if name in present or name == "cpu" else f"{name} (not found)",
                                name)

        self.model_box = QGroupBox("Model")
        family_form = form_layout()
        family_form.addRow("Family", self.family)
        family_form.setContentsMargins(8, 6, 8, 0)
        self.model_layout = QVBoxLayout(self.model_box)
        self.model_layout.setContentsMargins(0, 0, 0, 0)
        self.model_layout.setSpacing(0)
        family_row = QWidget()
        family_row.setLayout(family_form)
        self.model_layout.addWidget(family_row)
        conditional_form = form_layout()
        conditional_form.setContentsMargins(8, 0, 8, 8)
        conditional_form.addRow("", self.conditional)
        self.conditional_row = QWidget()
        self.conditional_row.setLayout(conditional_form)
        self.model_layout.addWidget(self.conditional_row)

        train_box = QGroupBox("Training")
        self.train_form = form_layout()
        for label, key, widget in (("β (KL weight)", "beta", self.beta),
                                   ("Epochs", "epochs", self.epochs),
                                   ("Images per epoch", "epoch_images", self.epoch_images),
                                   ("Batch size", "batch_size", self.batch_size),
                                   ("Learning rate", "lr", self.lr),
                                   ("LR schedule", "schedule", self.schedule),
                                   ("Time limit", "minutes", self.minutes),
                                   ("Seed", "seed", self.seed),
                                   ("Device", "device", self.device)):
            widget.setToolTip(TIPS[key])
            self.train_form.addRow(label, widget)
        train_box.setLayout(self.train_form)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.model_box)
        layout.addWidget(train_box)

        self._show_family(DEFAULT_FAMILY)
        self.family.currentIndexChanged.connect(lambda _i: self._show_family(self.family_name))
        for signal in (self.family.currentIndexChanged, self.conditional.toggled,
                       self.beta.valueChanged, self.epochs.valueChanged, self.epoch_images.valueChanged,
                       self.batch_size.valueChanged, self.lr.textEdited,
                       self.schedule.currentIndexChanged, self.minutes.valueChanged, self.seed.valueChanged,
                       self.device.currentIndexChanged):
            signal.connect(self.changed)

    # -- the family and its model form -----------------------------------------------------------
    @property
    def family_name(self) -> str:
        return self.family.currentData()

    @property
    def model_form(self) -> ConfigForm:
        return self.model_forms[self.family_name]

    def field(self, name: str) -> QWidget:
        """The editor of the current family's config field ``name``."""
        return self.model_form.editors[name]

    def _form_for(self, family: str) -> ConfigForm:
        if family not in self.model_forms:
            form = ConfigForm(get_family(family).config_type)
            for name in form.editors:
                key = f"{family}.{name}"
                if key in self._remembered:
                    form.set_text(name, self._remembered[key])
            form.changed.connect(self.changed)
            form.hide()
            self.model_layout.insertWidget(1, form)
            self.model_forms[family] = form
        return self.model_forms[family]

    def _show_family(self, family: str) -> None:
        index = self.family.findData(family)
        if index < 0:
            return
        if self._shown_family is not None:
            self._train_values[self._shown_family] = self._current_train_values()
            self.model_forms[self._shown_family].hide()
        if self.family.currentIndex() != index:
            self.family.blockSignals(True)
            self.family.setCurrentIndex(index)
            self.family.blockSignals(False)
        self._shown_family = family
        self._form_for(family).show()
        self._apply_train_values(self._train_values.get(family) or self._initial_train_values(family))
        config_fields = {f for f in get_family(family).config_type.__dataclass_fields__}
        self.conditional_row.setVisible("num_classes" in config_fields)
        show_beta = family in BETA_FAMILIES
        self.train_form.setRowVisible(self.beta, show_beta)

    def _initial_train_values(self, family: str) -> dict:
        values = {k: v for k, v in train_defaults(family).items() if k in PER_FAMILY}
        for key in PER_FAMILY:
            remembered = self._remembered.get(f"{family}.{key}")
            if remembered is not None:
                values[key] = remembered
        return values

    def apply_train_defaults(self, dataset: Dataset) -> None:
        """The current family's training settings for ``dataset`` (a text corpus has its own)."""
        defaults = get_family(self.family_name).train_defaults_for(dataset)
        self._apply_train_values({k: v for k, v in defaults.items() if k in PER_FAMILY})

    def _current_train_values(self) -> dict:
        return {"epochs": self.epochs.value(), "epoch_images": self.epoch_images.value(),
                "batch_size": self.batch_size.value(),
                "lr": self.lr.text(), "schedule": self.schedule.currentText(), "beta": self.beta.value()}

    def _apply_train_values(self, values: dict) -> None:
        """Set the per-family training fields; anything unreadable keeps its current value."""
        for spin, key, kind in ((self.beta, "beta", float), (self.epochs, "epochs", int),
                                (self.epoch_images, "epoch_images", int),
                                (self.batch_size, "batch_size", int)):
            try:
                spin.setValue(kind(values[key]))
            except (KeyError, TypeError, ValueError, OverflowError):
                pass
        if values.get("lr"):
            lr = values["lr"]
            self.lr.setText(f"{lr:g}" if isinstance(lr, float) else str(lr))
        if values.get("schedule") in SCHEDULES:
            self.schedule.setCurrentText(values["schedule"])

    def set_dataset(self, dataset: Dataset | None) -> None:
        has_labels = dataset is not None and dataset.train.labels is not None
        self.conditional.setEnabled(has_labels)
        if not has_labels:
            self.conditional.setChecked(False)
        self.conditional.setToolTip(CONDITIONAL_TIP if has_labels else
                                    "This dataset has no labels, so a conditional model cannot "
                                    "be trained on it.")

    def set_device(self, device: str) -> None:
        index = self.device.findData(device)
        if index >= 0:
            self.device.setCurrentIndex(index)

    # -- to and from the engine's configs ------------------------------------------------------
    def configs(self, dataset: Dataset) -> tuple[str, object, TrainConfig]:
        """(family name, its model config for ``dataset``, TrainConfig)."""
        try:
            lr = float(self.lr.text().strip())
        except ValueError:
            raise GenAIError(f"Learning rate: {self.lr.text()!r} is not a number "
                             "(e.g. 0.003 or 1e-3)") from None
        if not (math.isfinite(lr) and 0 < lr <= 10):
            raise GenAIError(f"Learning rate: must be between 0 and 10, got {lr:g}")
        hidden = {"image_shape": dataset.image_shape}
        config_fields = self.model_form.config_type.__dataclass_fields__
        if dataset.vocabulary is not None and "vocabulary" in config_fields:
            hidden["vocabulary"] = dataset.vocabulary  # a character model of this corpus
        if not self.conditional_row.isHidden():
            hidden["num_classes"] = dataset.num_classes if self.conditional.isChecked() else 0
        model = self.model_form.config(**hidden)
        beta = self.beta.value() if self.family_name in BETA_FAMILIES else TrainConfig.beta
        # with a time limit the time decides how many epochs fit, as with --minutes alone
        epochs = EPOCHS_MAX if self.minutes.value() else self.epochs.value()
        train = TrainConfig(epochs=epochs, epoch_images=self.epoch_images.value(),
                            batch_size=self.batch_size.value(), lr=lr,
                            beta=beta, seed=self.seed.value(), device=self.device.currentData(),
                            schedule=self.schedule.currentText(), minutes=self.minutes.value())
        return self.family_name, model, train

    def _show_what_decides(self) -> None:
        """With a time limit, the epochs do not end the run: their field says so."""
        timed = self.minutes.value() > 0
        self.epochs.setEnabled(not timed)
        self.epochs.setToolTip("The time limit decides how many epochs fit." if timed else TIPS["epochs"])

    def values(self) -> dict:
        """Plain strings to remember between sessions: ``family``, shared options, and
        ``<family>.<field>`` for each family's model and training options."""
        values = dict(self._remembered)
        self._train_values[self.family_name] = self._current_train_values()
        for family, train in self._train_values.items():
            values.update({f"{family}.{key}": value for key, value in train.items()})
        for family, form in self.model_forms.items():
            values.update({f"{family}.{name}": form.text(name) for name in form.editors})
        values.update({"family": self.family_name, "conditional": int(self.conditional.isChecked()),
                       "seed": self.seed.value(), "minutes": self.minutes.value(),
                       "device": self.device.currentData()})
        return values

    def restore(self, values: dict) -> None:
        """Apply remembered values; anything unreadable keeps its default."""
        self._remembered = {key: str(value) for key, value in values.items()}
        self._train_values.clear()
        for family, form in self.model_forms.items():
            for name in form.editors:
                if f"{family}.{name}" in self._remembered:
                    form.set_text(name, self._remembered[f"{family}.{name}"])
        index = self.device.findData(values.get("device"))
        if index >= 0:
            self.device.setCurrentIndex(index)
        for spin, key, kind in ((self.seed, "seed", int), (self.minutes, "minutes", float)):
            try:
                spin.setValue(kind(values[key]))
            except (KeyError, TypeError, ValueError, OverflowError):
                pass
        self._shown_family = None
        for form in self.model_forms.values():
            form.hide()
        family = values.get("family")
        self._show_family(family if family in family_names() else self.family_name)
        if self.conditional.isEnabled() and str(values.get("conditional")) in ("0", "1"):
            self.conditional.setChecked(str(values["conditional"]) == "1")

    def show_model(self, checkpoint: Checkpoint) -> None:
        """Show the family and model settings of an opened checkpoint, so the form describes
        the model on screen (and Start trains another of its kind)."""
        self._show_family(checkpoint.family)
        config = checkpoint.model_config
        self.model_form.set_config(config)
        self.conditional.setChecked(getattr(config, "num_classes", 0) > 0)

    def show_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Fill the fields from a checkpoint that training will resume."""
        self.show_model(checkpoint)
        tc = checkpoint.train_config
        self._apply_train_values({k: tc[k] for k in PER_FAMILY if k in tc and k != "epochs"})
        if "lr" in tc:
            self.lr.setText(f"{float(tc['lr']):g}")
        if "seed" in tc:
            self.seed.setValue(int(tc["seed"]))
        planned = int(tc.get("epochs", 0) or 0)
        self.epochs.setMinimum(checkpoint.epoch + 1)
        self.epochs.setValue(planned if planned > checkpoint.epoch else checkpoint.epoch + 5)

    def reset_defaults(self) -> None:
        self._remembered = {}
        self._train_values.clear()
        for form in self.model_forms.values():
            form.reset()
        self.epochs.setMinimum(1)
        self._shown_family = None
        for form in self.model_forms.values():
            form.hide()
        self._show_family(DEFAULT_FAMILY)
        self.conditional.setChecked(False)
        self.seed.setValue(TrainConfig.seed)
        self.set_device(TrainConfig.device)

    def set_model_editable(self, editable: bool) -> None:
        """A resumed run keeps its checkpoint's family and architecture."""
        self.model_box.setEnabled(editable)
        if editable:
            self.epochs.setMinimum(1)
