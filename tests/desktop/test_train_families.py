"""The Train tab for every model family: the form built from each config, a GAN run with its
curves, samples and mode-collapse monitor, checkpoints of each family, settings round trip."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.tabs.train_tab import IDLE, TrainTab
from desktop.widgets.mode_collapse import ModeCollapseMonitor, collapse_warning
from desktop.widgets.train_settings import TrainSettings
from genai_engine.checkpoints import load_checkpoint
from genai_engine.families import family_names, get_family
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from toy_data import make_toy_dataset  # noqa: E402

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def toy():
    return make_toy_dataset(n_train=128, n_test=32)


@pytest.fixture(scope="module")
def family_checkpoints(toy, tmp_path_factory) -> dict[str, Path]:
    """One epoch (one step) of every family's default model on the toy data."""
    paths = {}
    for name in family_names():
        out = tmp_path_factory.mktemp(f"ckpt-{name}")
        done = drain(train(toy, get_family(name).default_config(toy),
                           TrainConfig(epochs=1, batch_size=128, device="cpu", lr=1e-4), family=name,
                           out_dir=out))
        paths[name] = Path(done.checkpoint)
    return paths


def _visible_fields(config_type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(config_type) if not f.metadata.get("hidden")]


@pytest.mark.parametrize("name", family_names())
def test_switching_family_builds_its_form_defaults_and_model(qtbot, toy, name):
    form = TrainSettings()
    qtbot.addWidget(form)
    form.set_dataset(toy)
    form.family.setCurrentIndex(form.family.findData(name))
    spec = get_family(name)
    assert form.family.currentText() == spec.title
    fields = _visible_fields(spec.config_type)
    assert list(form.model_form.editors) == [f.name for f in fields]
    for f in fields:
        assert form.model_form.value(f.name) == f.default, f.name
        if "help" in f.metadata:
            assert form.field(f.name).toolTip() == f.metadata["help"]
    defaults = {**TrainConfig().to_dict(), **spec.train_defaults}
    assert float(form.lr.text()) == pytest.approx(defaults["lr"])
    assert form.epochs.value() == defaults["epochs"]
    assert form.schedule.currentText() == defaults["schedule"]
    # beta is the VAE's alone
    assert form.train_form.isRowVisible(form.beta) == (name == "vae")
    family, config, train_config = form.configs(toy)
    assert family == name and isinstance(config, spec.config_type)
    assert tuple(config.image_shape) == toy.image_shape
    model = spec.build(config)
    assert model.config == config


def test_choice_presets_follow_the_architecture_but_keep_typed_values(qtbot):
    form = TrainSettings()
    qtbot.addWidget(form)
    kind = form.field("kind")
    kind.setCurrentIndex(kind.findData("conv"))
    assert form.field("hidden").text() == "32,64"
    form.field("hidden").setText("48")
    kind.setCurrentIndex(kind.findData("mlp"))
    assert form.field("hidden").text() == "48"


def test_training_options_are_kept_per_family(qtbot):
    form = TrainSettings()
    qtbot.addWidget(form)
    vae_lr = form.lr.text()
    form.family.setCurrentIndex(form.family.findData("gan"))
    assert float(form.lr.text()) == pytest.approx(get_family("gan").train_defaults["lr"])
    form.lr.setText("1e-4")
    form.family.setCurrentIndex(form.family.findData("vae"))
    assert form.lr.text() == vae_lr
    form.family.setCurrentIndex(form.family.findData("gan"))
    assert form.lr.text() == "1e-4"


def test_settings_round_trip_keeps_family_and_per_family_fields(qtbot, toy):
    form = TrainSettings()
    qtbot.addWidget(form)
    form.set_dataset(toy)
    form.field("latent_dim").setValue(9)
    form.family.setCurrentIndex(form.family.findData("gan"))
    form.field("loss").setCurrentIndex(form.field("loss").findData("hinge"))
    form.field("spectral_norm").setChecked(True)
    form.field("width").setValue(16)
    form.lr.setText("0.0003")
    form.conditional.setChecked(True)
    saved = {key: str(value) for key, value in form.values().items()}  # QSettings keeps strings
    assert saved["family"] == "gan" and saved["vae.latent_dim"] == "9"

    again = TrainSettings()
    qtbot.addWidget(again)
    again.set_dataset(toy)
    again.restore(saved)
    assert again.family_name == "gan" and again.lr.text() == "0.0003"
    assert again.field("loss").currentData() == "hinge" and again.field("spectral_norm").isChecked()
    assert again.field("width").value() == 16 and again.conditional.isChecked()
    family, config, _ = again.configs(toy)
    assert (family, config.loss, config.num_classes) == ("gan", "hinge", toy.num_classes)
    again.family.setCurrentIndex(again.family.findData("vae"))
    assert again.field("latent_dim").value() == 9


@pytest.mark.parametrize("name", family_names())
def test_a_checkpoint_of_each_family_fills_the_form(qtbot, app_state, toy, family_checkpoints, name):
    app_state.set_dataset(toy)
    tab = TrainTab(app_state)
    qtbot.addWidget(tab)
    checkpoint = load_checkpoint(family_checkpoints[name])
    tab.set_resume(checkpoint)
    assert tab.form.family_name == name and not tab.form.model_box.isEnabled()
    family, config, train_config = tab.form.configs(toy)
    assert family == name and config == checkpoint.model_config
    assert train_config.lr == pytest.approx(1e-4)
    # the idle view plots the checkpoint's history keys train_<m> / test_<m>
    drawn = {metric for split, metric in tab.plot.series() if tab.plot.points(split, metric)}
    expected = {key.split("_", 1)[1] for key in checkpoint.history if key.startswith(("train_", "test_"))}
    assert drawn == expected - {"coverage", "diversity"}


def test_mode_collapse_warning_on_low_or_falling_coverage(qtbot):
    assert collapse_warning([1.0, 0.9]) is None
    assert "only 40%" in collapse_warning([1.0, 0.4])
    assert "dropped from 100% to 70%" in collapse_warning([1.0, 0.7])
    assert collapse_warning([1.0, 0.9, 0.8]) is None  # a gentle drift is not a collapse
    monitor = ModeCollapseMonitor()
    qtbot.addWidget(monitor)
    monitor.set_class_names(["a", "b", "c", "d"])
    monitor.add_epoch(1, {"coverage": 1.0, "diversity": 0.9}, [5, 5, 5, 5])
    assert monitor.warning.isHidden()
    monitor.add_epoch(2, {"coverage": 0.25, "diversity": 0.2}, [20, 0, 0, 0])
    assert not monitor.warning.isHidden() and "Mode collapse" in monitor.warning.text()
    assert monitor.histogram.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_gan_run_shows_its_curves_samples_and_mode_collapse_monitor(qtbot, app_state, tiny_dataset):
    app_state.set_dataset(tiny_dataset)
    tab = TrainTab(app_state)
    qtbot.addWidget(tab)
    tab.resize(1280, 760)
    tab.show()
    form = tab.form
    form.family.setCurrentIndex(form.family.findData("gan"))
    form.field("kind").setCurrentIndex(form.field("kind").findData("mlp"))
    form.field("width").setValue(8)
    form.field("latent_dim").setValue(8)
    form.batch_size.setValue(100)
    form.epochs.setValue(1)
    with qtbot.waitSignal(app_state.checkpoint_changed, timeout=60_000):
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.run_state == IDLE, timeout=60_000)
    for metric in ("loss_g", "loss_d", "d_real", "d_fake"):
        assert tab.plot.points("train", metric) >= 1, metric
    assert tab.plot.points("test", "loss_d") == 1
    assert ("test", "coverage") not in tab.plot.series()  # the monitor shows it
    assert tab.recon_caption.text() == "fixed-noise samples" and tab.recon_view.image is not None
    assert tab.preview_box.title() == "Samples"
    diagnostics = tab.diagnostics
    assert set(diagnostics.shown) == {"latent_importance", "class_histogram"}
    assert diagnostics.latent_box.title() == "Sensitivity per latent dimension"
    assert len(diagnostics.kl_bars.values) == 8
    monitor = diagnostics.monitor
    assert monitor.class_names == tiny_dataset.class_names
    assert len(monitor.histogram) == len(tiny_dataset.class_names)
    assert len(monitor.coverage) == 1 and 0 <= monitor.coverage[0] <= 1
    assert monitor.warning.isHidden() == (monitor.coverage[0] >= 0.5)
    assert app_state.checkpoint.family == "gan"
    assert "Finished after 1 epoch in" in tab.progress_text and "loss_d" in tab.progress_text


def test_an_autoregressive_run_names_its_preview_then_shows_samples(qtbot, app_state, tiny_dataset):
    """While training, the preview is test images over each pixel's prediction (not samples);
    once the run ends the same box shows the trained model's samples, named as such."""
    app_state.set_dataset(tiny_dataset)
    tab = TrainTab(app_state)
    qtbot.addWidget(tab)
    form = tab.form
    form.family.setCurrentIndex(form.family.findData("autoregressive"))
    for name, value in (("width", 8), ("layers", 1), ("heads", 1)):
        form.field(name).setValue(value)
    form.epochs.setValue(1)
    form.epoch_images.setValue(64)
    shown = []
    show = tab._show_preview
    tab._show_preview = lambda preview, kind: (show(preview, kind), shown.append(
        (tab.preview_box.title(), tab.recon_caption.text(), len(preview))))
    with qtbot.waitSignal(app_state.checkpoint_changed, timeout=60_000):
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.run_state == IDLE and shown[-1][0] == "Samples", timeout=60_000)
    during = [entry for entry in shown if entry[0] != "Samples"]
    assert during and all(title == "Test images and predictions" and "predicted" in caption and n == 16
                          for title, caption, n in during)
    assert shown[-1][1] == "fixed-noise samples"
    assert "predicted" in tab.recon_view.toolTip() or "fixed noise" in tab.recon_view.toolTip()


@pytest.mark.parametrize("name", ["gan", "autoregressive"])
def test_opening_a_checkpoint_shows_its_family_in_the_form(qtbot, app_state, toy, family_checkpoints, name):
    """The form describes the model on screen: a GAN opened while the form shows a VAE (or
    the reverse) must not leave the other family's settings beside the GAN's curves."""
    app_state.set_dataset(toy)
    tab = TrainTab(app_state)
    qtbot.addWidget(tab)
    tab.form.family.setCurrentIndex(tab.form.family.findData("vae"))
    assert tab.form.family_name == "vae"
    checkpoint = load_checkpoint(family_checkpoints[name])
    app_state.set_checkpoint(checkpoint)
    assert tab.form.family_name == name and tab.form.model_box.isEnabled()  # not a resume
    family, config, _ = tab.form.configs(toy)
    assert family == name and config == checkpoint.model_config
