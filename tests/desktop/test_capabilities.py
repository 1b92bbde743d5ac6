"""Explore, Interpolate, Evaluate and Analyze by capability: a VAE, then an untrained GAN (a latent
that decodes and inverts, no encoder, no likelihood), then a model with no latent at all, then
the VAE again. Each view says in place what it cannot do, disables just that, and keeps
doing the rest."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from sample_only_model import sample_only
from untrained_gan import untrained_gan

from desktop.tabs.analyze_tab import AnalyzeTab
from desktop.tabs.evaluate_tab import EvaluateTab
from desktop.tabs.explore_tab import MAP_PAGE, SAMPLES_PAGE, ExploreTab
from desktop.tabs.interpolate_tab import InterpolateTab
from genai_engine.families.base import prior_samples
from genai_engine.latent import DATASET, PRIOR, endpoint_code, lerp, slerp

WAIT = 20_000  # ms; generous for a shared 2-core machine
SENSITIVITY = np.array([0.5, 4.0, 0.001, 2.0, 1.0, 0.8, 0.6, 0.4])  # dim 1 matters most, 2 not at all


@pytest.fixture
def vae_and_kl(ready_state):
    return ready_state.model, ready_state.latent_importance


def show(qtbot, widget, width=1280, height=800):
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def decoded(qtbot, tab: ExploreTab) -> np.ndarray:
    def settled():
        job = tab.decoder
        return not job.busy and job.delivered_generation == job.generation and tab.shown_image is not None
    qtbot.waitUntil(settled, timeout=WAIT)
    return tab.shown_image


# -- Explore -------------------------------------------------------------------------------------

def test_explore_without_an_encoder_decodes_inverts_and_recovers(qtbot, ready_state, vae_and_kl):
    vae, kl = vae_and_kl
    tab = show(qtbot, ExploreTab(ready_state))
    decoded(qtbot, tab)
    assert tab.map_page.isEnabled() and not tab.inversion_row.isVisible()

    gan = untrained_gan()
    ready_state.set_model(gan, SENSITIVITY)
    assert tab.model is gan
    # Sliders ordered and labelled by the measured sensitivity, not by KL.
    assert [tab.sliders.row_position(d) for d in (1, 3, 4, 5)] == [0, 1, 2, 3]
    assert tab.sliders._rows[1].importance.text() == "sensitivity 4.00"
    assert tab.sliders._rows[2].importance.text() == "inactive"
    assert "sorted by sensitivity" in tab.dims_label.text()
    # What needs an encoder is disabled, with the reason in place.
    assert not tab.map_page.isEnabled() and tab.side_tabs.currentIndex() == SAMPLES_PAGE
    assert "has no encoder" in tab.map_status.text()
    assert not tab.strength.isEnabled() and "no encoder" in tab.attribute_hint.text()
    assert "has no encoder" in tab.picked_caption.text() and "inversion" in tab.picked_caption.text()
    assert tab.inversion_row.isVisible() and not tab.invert_task.run_button.isEnabled()

    # A model without an encoder starts on a prior sample (z = 0 is not a typical point of it).
    assert tab.source == "Prior sample (seed 0)"
    assert np.array_equal(tab.z, prior_samples(1, gan.latent_dim, 0)[0])
    # The sliders decode the new model.
    before = float(tab.z[1])
    slider = tab.sliders.slider(1)
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key_PageUp)
    assert np.array_equal(decoded(qtbot, tab), gan.decode(tab.z))
    assert tab.z[1] == pytest.approx(before + 0.5, abs=0.01)

    # Picking an image does not encode it: it becomes the target of the inversion.
    z_before = tab.z.copy()
    tab.pick_image(3)
    target = ready_state.dataset.test.images[3]
    assert np.array_equal(tab.picked_view.image, target[..., 0])
    assert np.array_equal(tab.z, z_before)
    tab.invert_steps.setValue(60)
    assert tab.invert_task.run_button.isEnabled()
    qtbot.mouseClick(tab.invert_task.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "inverted" in tab.source, timeout=WAIT)
    assert not tab.invert_task.running
    assert "not an encoder" in tab.invert_task.message.text()
    error = float(tab.invert_task.message.text().split("error ")[1].split(" ")[0])
    start_error = np.mean((gan.decode(prior_samples(1, 8, 0)) / 255.0 - target / 255.0) ** 2)
    assert error < start_error, "the optimisation did not bring the decoding closer to the image"
    assert np.array_equal(decoded(qtbot, tab), gan.decode(tab.z))

    # Back to the VAE: encoding, the map and KL order return; no inversion offered.
    ready_state.set_model(vae, kl)
    assert tab.map_page.isEnabled() and not tab.inversion_row.isVisible()
    assert "sorted by KL" in tab.dims_label.text()
    tab.side_tabs.setCurrentIndex(MAP_PAGE)
    qtbot.waitUntil(lambda: tab.encoded is not None, timeout=WAIT)
    assert tab.strength.isEnabled()
    tab.pick_image(5)
    qtbot.waitUntil(lambda: "encoded" in tab.source, timeout=WAIT)
    assert np.allclose(tab.z, vae.encode(ready_state.dataset.test.images[5:6])[0][0], atol=1e-5)


def test_explore_without_a_latent_says_why_and_disables_everything(qtbot, ready_state, vae_and_kl):
    vae, kl = vae_and_kl
    tab = show(qtbot, ExploreTab(ready_state))
    decoded(qtbot, tab)
    ready_state.set_model(sample_only())
    assert tab.model is None
    assert "no latent space" in tab.decoded_caption.text()
    assert tab.decoded_view.image is None
    for widget in (tab.sliders, tab.random_button, tab.picker_box, tab.side_tabs, tab.attribute_box):
        assert not widget.isEnabled()
    tab.randomise()  # a stray call does nothing rather than failing
    ready_state.set_model(vae, kl)
    assert tab.sliders.isEnabled() and tab.picker_box.isEnabled()
    assert np.array_equal(decoded(qtbot, tab), vae.decode(tab.z))


# -- Interpolate ---------------------------------------------------------------------------------

def wait_path(qtbot, tab, model, **expected):
    def matches():
        result = tab.result
        return (result is not None and not tab.decoder.busy
                and all(getattr(result.request, k) == v for k, v in expected.items()))
    qtbot.waitUntil(matches, timeout=WAIT)
    return tab.result


def test_interpolate_between_prior_samples_without_an_encoder(qtbot, ready_state, vae_and_kl):
    vae, kl = vae_and_kl
    tab = show(qtbot, InterpolateTab(ready_state))
    assert wait_path(qtbot, tab, vae).request.start.source == DATASET

    gan = untrained_gan()
    ready_state.set_model(gan, SENSITIVITY)
    for editor in (tab.start_editor, tab.end_editor):
        assert not editor.source_box.model().item(0).isEnabled()
        assert editor.source_box.currentData() == PRIOR
    tab.steps_spin.setValue(7)
    frames = {}
    for method, path in (("lerp", lerp), ("slerp", slerp)):
        tab.method_box.setCurrentIndex(tab.method_box.findData(method))
        result = wait_path(qtbot, tab, gan, method=method, steps=7)
        assert result.request.start.source == PRIOR and result.request.end.source == PRIOR
        z0 = endpoint_code(gan, None, result.request.start)
        z1 = endpoint_code(gan, None, result.request.end)
        assert np.array_equal(result.frames, gan.decode(path(z0, z1, 7)))
        frames[method] = result.frames
    assert not np.array_equal(frames["lerp"][3], frames["slerp"][3])
    assert "has no encoder, so both ends are prior samples" in tab.info_label.text()
    assert tab.gif_button.isEnabled()

    ready_state.set_model(sample_only())
    assert tab.result is None and tab.strip_view.image is None
    assert "no latent space" in tab.info_label.text()
    assert not tab.gif_button.isEnabled() and not tab.start_editor.isEnabled()

    ready_state.set_model(vae, kl)
    result = wait_path(qtbot, tab, vae, steps=7)
    assert result.request.start.source == DATASET and tab.start_editor.isEnabled()
    assert tab.start_editor.source_box.currentData() == DATASET
    assert "no encoder" not in tab.info_label.text()


# -- Evaluate ------------------------------------------------------------------------------------

def test_evaluate_measures_a_model_without_an_encoder(qtbot, ready_state):
    tab = show(qtbot, EvaluateTab(ready_state))
    for extra in (tab.interval_check, tab.kid_check, tab.pr_check):
        extra.setChecked(False)  # FID alone: the extras are tested with the VAE
    gan = untrained_gan()
    ready_state.set_model(gan, SENSITIVITY)
    tab.samples_spin.setValue(100)
    assert tab.run_button.isEnabled(), tab.run_button.toolTip()
    assert tab.request().model is gan
    with qtbot.waitSignal(tab.finished, timeout=120_000) as done:
        qtbot.mouseClick(tab.run_button, Qt.LeftButton)
    result = done.args[0]
    assert result.n_fake == 100 and math.isfinite(result.fid) and result.fid > 0


# -- Analyze -------------------------------------------------------------------------------------

def test_analyze_keeps_what_needs_only_samples(qtbot, ready_state, vae_and_kl):
    vae, kl = vae_and_kl
    tab = show(qtbot, AnalyzeTab(ready_state))
    likelihood, anomaly, memorisation = tab.likelihood, tab.anomaly, tab.memorisation
    assert likelihood.task.run_button.isEnabled() and anomaly.task.run_button.isEnabled()

    ready_state.set_model(untrained_gan(), SENSITIVITY)
    for panel in (likelihood, anomaly):
        assert not panel.task.run_button.isEnabled()
        assert "has no likelihood" in panel.task.message.text()
        assert not panel.split_box.isEnabled() and not panel.n_spin.isEnabled()
    assert "has no likelihood" in likelihood.summary.text()
    assert not any(check.isEnabled() for check in likelihood.k_checks.values())
    assert not anomaly.method_box.isEnabled()

    # The memorisation check needs only samples: it runs, in pixel space only.
    memorisation.domain_check.setChecked(False)
    memorisation.samples_spin.setValue(4)
    assert memorisation.task.run_button.isEnabled()
    qtbot.mouseClick(memorisation.task.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: memorisation.result is not None and not memorisation.task.running,
                    timeout=WAIT)
    assert set(memorisation.result.spaces) == {"pixel"}
    assert not memorisation.space_buttons["encoder"].isEnabled()
    assert "no encoder" in memorisation.space_buttons["encoder"].toolTip()

    ready_state.set_model(vae, kl)
    for panel in (likelihood, anomaly):
        assert panel.task.run_button.isEnabled() and panel.split_box.isEnabled()
    assert all(check.isEnabled() for check in likelihood.k_checks.values())
    assert "IWAE" in likelihood.summary.text()
