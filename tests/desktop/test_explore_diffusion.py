"""Explore with a diffusion model: the latent is the starting noise, chosen by seed or blended
(no slider per noise pixel), and a dataset image is encoded by DDIM inversion with its
reconstruction error shown."""

import numpy as np
import pytest
from toy_data import make_toy_dataset
from untrained_diffusion import untrained_diffusion

from desktop.capabilities import noise_latent_note
from desktop.tabs.explore_tab import ExploreTab
from genai_engine.families.base import prior_samples
from genai_engine.latent import slerp

WAIT = 20_000


@pytest.fixture
def tab(qtbot, app_state):
    app_state.set_dataset(make_toy_dataset(n_train=16, n_test=8))
    widget = ExploreTab(app_state)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    model = untrained_diffusion()
    model.configure_sampling(steps=4)
    app_state.set_model(model)
    return widget


def shown(qtbot, tab):
    decoder = tab.decoder
    qtbot.waitUntil(lambda: not decoder.busy and decoder.delivered_generation == decoder.generation
                    and tab.shown_image is not None, timeout=WAIT)
    return tab.shown_image


def test_the_noise_latent_is_chosen_by_seed_not_by_144_sliders(qtbot, tab):
    model = tab.model
    assert tab.sliders.dim == 0 and not tab.sliders.isVisible() and tab.noise_box.isVisible()
    assert tab.dims_label.text() == noise_latent_note(model) and "144" in tab.dims_label.text()
    assert np.array_equal(tab.z, prior_samples(1, 144, 0)[0])
    tab.noise_seed.setValue(5)
    assert np.array_equal(shown(qtbot, tab), model.decode(prior_samples(1, 144, 5)[0]))
    tab.blend_seed.setValue(9)
    tab.blend.setValue(50)
    halfway = slerp(prior_samples(1, 144, 5)[0], prior_samples(1, 144, 9)[0], 101)[50]
    assert np.allclose(tab.z, halfway)
    assert np.array_equal(shown(qtbot, tab), model.decode(halfway))
    assert "0.50 of the way to seed 9" in tab.decoded_caption.text()


def test_a_dataset_image_is_encoded_by_ddim_inversion_with_its_error(qtbot, tab):
    model = tab.model
    tab.pick_image(3)
    qtbot.waitUntil(lambda: "DDIM inversion" in tab.source, timeout=WAIT)
    image = tab.state.dataset.test.images[3:4]
    z, _ = model.encode(image)
    assert np.allclose(tab.z, z[0], atol=1e-5)
    error = model.reconstruction_error(image)[0]
    assert f"mean squared error {error:.4f}" in tab.source and "4 steps" in tab.source
