"""The Explore tab, driven through its widgets on a tiny trained model (latent dim 8)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from desktop.tabs.explore_tab import ExploreTab
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig, build_model

WAIT = 10_000  # ms; generous for a loaded 2-core machine


def settled(tab: ExploreTab) -> bool:
    decoder = tab.decoder
    return not decoder.busy and decoder.delivered_generation == decoder.generation


def wait_decoded(qtbot, tab: ExploreTab) -> np.ndarray:
    qtbot.waitUntil(lambda: settled(tab) and tab.shown_image is not None, timeout=WAIT)
    return tab.shown_image.copy()


def expected_image(tab: ExploreTab) -> np.ndarray:
    """What the model gives for the tab's current point."""
    return tab.model.decode(tab.z, None if tab.label() is None else np.array([tab.label()]))


def click_image(qtbot, view, x: float, y: float) -> None:
    """Left-click an ImageView at image coordinates (x, y)."""
    scene_pos = view.view.mapViewToScene(QPointF(x, y))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=view.mapFromScene(scene_pos))


@pytest.fixture
def tab(qtbot, ready_state):
    widget = ExploreTab(ready_state)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    wait_decoded(qtbot, widget)
    return widget


@pytest.fixture
def encoded_tab(qtbot, tab):
    qtbot.waitUntil(lambda: tab.encoded is not None, timeout=WAIT)
    return tab


def test_sliders_are_sorted_by_kl_with_inactive_dimensions_marked(qtbot, tab):
    kl = np.array([0.0, 2.0, 0.001, 5.0, 0.5, 1.0, 0.0, 3.0])
    tab.state.set_model(tab.model, kl)
    sliders = tab.sliders
    assert [sliders.row_position(d) for d in (3, 7, 1, 5, 4)] == [0, 1, 2, 3, 4]
    for d in (0, 2, 6):
        assert sliders._rows[d].importance.text() == "inactive"
        assert sliders.row_position(d) >= 5
    assert sliders._rows[3].importance.text() == "KL 5.00"
    assert "5 active" in tab.dims_label.text()
    tab.show_inactive.setChecked(False)
    assert not sliders.slider(0).isVisible() and sliders.slider(3).isVisible()


def test_moving_a_slider_changes_the_image_and_its_value_label(qtbot, tab):
    before = tab.shown_image.copy()
    dim = int(tab.sliders.order[0])
    slider = tab.sliders.slider(dim)
    slider.setFocus()
    for _ in range(5):  # keyboard steps move the slider like a user does
        qtbot.keyClick(slider, Qt.Key_PageUp)
    after = wait_decoded(qtbot, tab)
    assert tab.sliders.value_label(dim).text() == "+2.50"
    assert tab.z[dim] == pytest.approx(2.5)
    assert np.abs(after.astype(int) - before.astype(int)).max() > 0, "the image did not change"
    assert np.array_equal(after, expected_image(tab))
    assert np.array_equal(tab.decoded_view.image, after[..., 0]), "not on screen"


def test_a_fast_drag_ends_on_the_last_position(qtbot, tab):
    dim = int(tab.sliders.order[0])
    slider = tab.sliders.slider(dim)
    first = tab.decoder.generation
    for ticks in range(-300, 301, 10):  # 61 value changes with no time for decoding between
        slider.setValue(ticks)
    final = wait_decoded(qtbot, tab)
    assert tab.decoder.generation - first == 61
    assert tab.decoder.started_jobs < 61 + first, "latest-wins should skip superseded positions"
    assert tab.z[dim] == pytest.approx(3.0)
    assert np.array_equal(final, expected_image(tab))


def test_randomise_reset_and_zero(qtbot, tab):
    tab.random_button.click()
    start = tab.z.copy()
    assert np.abs(start).max() > 0
    randomised = wait_decoded(qtbot, tab)
    assert tab.sliders.value_label(0).text() == f"{start[0]:+.2f}"

    dim = int(tab.sliders.order[0])
    tab.sliders.slider(dim).setValue(-250)
    assert wait_decoded(qtbot, tab) is not None and tab.z[dim] == pytest.approx(-2.5)
    tab.reset_button.click()
    assert np.allclose(tab.z, start)
    assert np.array_equal(wait_decoded(qtbot, tab), randomised)
    assert "Prior sample" in tab.decoded_caption.text()

    tab.zero_button.click()
    assert not tab.z.any()
    assert np.array_equal(wait_decoded(qtbot, tab), expected_image(tab))


def test_clicking_a_thumbnail_encodes_that_image_and_shows_it_beside_the_decoding(qtbot, tab):
    test = tab.state.dataset.test
    _, h, w, _ = test.images.shape
    click_image(qtbot, tab.strip, 2 + 3 * (w + 2) + w / 2, 2 + h / 2)  # the fourth thumbnail
    qtbot.waitUntil(lambda: tab.picked_index == 3 and "#3" in tab.decoded_caption.text(), timeout=WAIT)
    decoded = wait_decoded(qtbot, tab)
    assert np.array_equal(tab.picked_view.image, test.images[3][..., 0])
    assert tab.index_spin.value() == 3
    mu, _ = tab.model.encode(test.images[3:4])
    assert np.allclose(tab.z, mu[0], atol=1e-5)
    assert np.array_equal(decoded, expected_image(tab))

    tab.index_spin.setValue(7)  # the spin box picks too
    qtbot.waitUntil(lambda: "#7" in tab.decoded_caption.text(), timeout=WAIT)
    assert np.array_equal(tab.picked_view.image, test.images[7][..., 0])


def test_the_map_shows_the_test_set_and_a_click_decodes_a_point(qtbot, encoded_tab):
    tab = encoded_tab
    assert tab.map.point_count == len(tab.state.dataset.test) == 500
    assert len(tab.map.legend.items) == 10
    before = tab.shown_image.copy()
    x, y = (float(v) for v in tab.map.xy[0])
    target = tab.map.nearest_point(x, y)
    assert target >= 0
    qtbot.mouseClick(tab.map.viewport(), Qt.LeftButton, pos=tab.map.map_to_widget(x, y).toPoint())
    qtbot.waitUntil(lambda: tab.picked_index == target, timeout=WAIT)
    after = wait_decoded(qtbot, tab)
    assert np.allclose(tab.z, tab.encoded.codes[target])
    assert np.array_equal(tab.picked_view.image, tab.state.dataset.test.images[target][..., 0])
    assert not np.array_equal(after, before)

    # Moving over the map decodes the position under the cursor, leaving it restores the point.
    corner = tab.map.map_to_widget(float(tab.map.xy[:, 0].min()), float(tab.map.xy[:, 1].max()))
    qtbot.mouseMove(tab.map.viewport(), corner.toPoint())
    qtbot.waitUntil(lambda: tab.decoded_caption.text().startswith("Map preview"), timeout=WAIT)
    tab.map.hover_left.emit()
    qtbot.waitUntil(lambda: "Map:" in tab.decoded_caption.text(), timeout=WAIT)
    assert np.array_equal(wait_decoded(qtbot, tab), after)


def test_the_attribute_vector_moves_the_point_and_changes_the_image(qtbot, encoded_tab):
    tab = encoded_tab
    tab.zero_button.click()
    before = wait_decoded(qtbot, tab)
    assert tab.strength.isEnabled()
    tab.towards_box.setCurrentIndex(1)  # Trouser
    tab.away_box.setCurrentIndex(0)  # T-shirt/top
    tab.strength.setValue(40)  # strength 2.0
    assert tab.strength_label.text() == "+2.00"
    means = tab.encoded.means
    assert np.allclose(tab.z, 2.0 * (means[1] - means[0]), atol=1e-5)
    after = wait_decoded(qtbot, tab)
    assert not np.array_equal(after, before)
    assert "Trouser − T-shirt/top" in tab.decoded_caption.text()
    tab.strength.setValue(0)
    assert np.allclose(tab.z, 0)


def test_prior_sample_grid_click_starts_from_that_sample(qtbot, tab):
    tab.side_tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: tab.samples_view.image is not None, timeout=WAIT)
    tab.seed_spin.setValue(5)
    qtbot.waitUntil(lambda: tab.sampler.delivered_generation == tab.sampler.generation
                    and not tab.sampler.busy, timeout=WAIT)
    grid = tab.samples_view.image
    click_image(qtbot, tab.samples_view, 2 + 28 / 2, 2 + 28 / 2)  # the first tile
    decoded = wait_decoded(qtbot, tab)
    assert "seed 5" in tab.decoded_caption.text()
    assert np.array_equal(decoded[..., 0], grid[2:30, 2:30])


def test_follows_a_new_model(qtbot, tab):
    dim = int(tab.sliders.order[0])
    tab.sliders.slider(dim).setValue(150)
    old = wait_decoded(qtbot, tab)
    kept = tab.z.copy()

    other = VAEInference(build_model(ModelConfig(hidden=(32,), latent_dim=8)))
    tab.state.set_model(other)  # same latent dim: the point and the sliders stay
    qtbot.waitUntil(lambda: tab.model is other, timeout=WAIT)
    new = wait_decoded(qtbot, tab)
    assert np.allclose(tab.z, kept) and tab.sliders.value_label(dim).text() == "+1.50"
    assert not np.array_equal(new, old)
    assert np.array_equal(new, expected_image(tab))
    qtbot.waitUntil(lambda: tab.encoded is not None and tab.encoded.model is other, timeout=WAIT)
    assert tab.map.point_count == 500

    smaller = VAEInference(build_model(ModelConfig(hidden=(32,), latent_dim=3)))
    tab.state.set_model(smaller)
    assert tab.sliders.dim == 3 and not tab.z.any()
    assert wait_decoded(qtbot, tab).shape == (28, 28, 1)
    qtbot.waitUntil(lambda: tab.encoded is not None and tab.encoded.codes.shape == (500, 3),
                    timeout=WAIT)


def test_conditional_model_has_a_class_selector(qtbot, tab):
    conditional = VAEInference(build_model(ModelConfig(hidden=(32,), latent_dim=4, num_classes=10)),
                               class_names=list(tab.state.dataset.class_names))
    tab.state.set_model(conditional)
    assert tab.class_row.isVisible() and tab.class_box.count() == 10
    first = wait_decoded(qtbot, tab)
    tab.class_box.setCurrentIndex(7)
    second = wait_decoded(qtbot, tab)
    assert tab.label() == 7
    assert not np.array_equal(first, second)
    assert np.array_equal(second, expected_image(tab))
