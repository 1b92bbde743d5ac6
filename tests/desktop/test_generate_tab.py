"""The Generate tab through its widgets: the sample grid with the model's sampling settings,
the denoising film, the filmstrip and the steps-vs-quality trade, on tiny untrained models."""

import numpy as np
import pytest
from untrained_diffusion import untrained_diffusion
from untrained_gan import untrained_gan

from desktop.tabs.generate_tab import GenerateTab
from desktop.widgets.denoising_film_panel import no_film
from genai_engine.families.base import prior_samples

WAIT = 20_000
CLASSES = ["a", "b", "c"]


def tiny_diffusion(num_classes: int = 3):
    return untrained_diffusion(num_classes, CLASSES)


@pytest.fixture
def tab(qtbot, app_state):
    widget = GenerateTab(app_state)
    qtbot.addWidget(widget)
    widget.resize(1100, 860)
    widget.show()
    return widget


def generate(qtbot, tab):
    with qtbot.waitSignal(tab.grid.task.handle.signals.ended if tab.grid.task.handle else
                          tab.state.runner.task_ended, timeout=WAIT):
        tab.grid.task.run_button.click()
    qtbot.waitUntil(lambda: not tab.grid.task.running, timeout=WAIT)
    return tab.grid.images


def set_form(tab, **values):
    for name, value in values.items():
        tab.grid.sampling.form.set_value(name, value)


def test_grid_samples_with_the_chosen_settings_and_steps_change_it(qtbot, tab):
    model = tiny_diffusion()
    tab.state.set_model(model)
    labels = [tab.grid.sampling.form.label(f.name) for f in tab.grid.sampling.form.fields]
    assert labels == ["Sampler", "Steps", "DDIM eta", "Guidance scale"]
    set_form(tab, sampler="ddim", steps=4)
    tab.grid.count_spin.setValue(6)
    tab.grid.class_combo.setCurrentIndex(tab.grid.class_combo.findData(2))
    first = generate(qtbot, tab)
    assert model.sampling.steps == 4 and model.sampling.sampler == "ddim"
    assert first.shape == (6, 12, 12, 1)
    assert np.array_equal(first, model.sample(6, 0, labels=np.full(6, 2)))  # seed 0, class "c"
    assert "DDIM" in tab.grid.caption.text() and "ms per image" in tab.grid.caption.text()
    set_form(tab, steps=12)
    second = generate(qtbot, tab)
    assert model.sampling.steps == 12 and not np.array_equal(first, second)


def test_export_writes_the_shown_grid(qtbot, tab, tmp_path):
    tab.state.set_model(tiny_diffusion(0))
    set_form(tab, steps=2)
    tab.grid.count_spin.setValue(4)
    images = generate(qtbot, tab)
    saved = tab.grid.export(tmp_path / "grid.npz")
    assert np.array_equal(np.load(saved)["images"], images)
    with qtbot.waitSignal(tab.state.error, timeout=WAIT) as blocker:
        assert tab.grid.export(tmp_path / "grid.txt") is None
    assert "use .png or .npz" in blocker.args[1]


def test_invalid_settings_are_refused_in_place_and_change_nothing(qtbot, tab):
    model = tiny_diffusion()
    tab.state.set_model(model)
    set_form(tab, steps=500)  # more than the model's 60 noise steps
    tab.grid.task.run_button.click()
    error = tab.grid.sampling.error
    assert error.isVisible() and "60 noise steps" in error.text()
    assert model.sampling.steps == 25 and not tab.grid.task.running and tab.grid.images is None
    set_form(tab, steps=3)
    generate(qtbot, tab)
    assert not error.isVisible() and model.sampling.steps == 3


def test_guidance_is_only_offered_to_a_conditional_model(tab):
    tab.state.set_model(tiny_diffusion(0))
    assert not tab.grid.sampling.form.editors["guidance"].isEnabled()
    assert not tab.grid.class_combo.isEnabled()
    tab.state.set_model(tiny_diffusion(3))
    assert tab.grid.sampling.form.editors["guidance"].isEnabled()
    assert [tab.grid.class_combo.itemText(i) for i in range(4)] == ["Every class in turn", *CLASSES]


def film(qtbot, panel):
    qtbot.waitUntil(lambda: panel.film is not None and not panel.task.running, timeout=WAIT)
    return panel.film


def test_film_slider_shows_x_t_and_ends_on_the_sample(qtbot, tab):
    model = tiny_diffusion()
    tab.state.set_model(model)
    panel = tab.film
    panel.steps_spin.setValue(6)
    panel.seed_spin.setValue(3)
    panel.class_combo.setCurrentIndex(1)
    panel.task.run_button.click()
    movie = film(qtbot, panel)
    assert panel.slider.maximum() == 6 and len(movie.timesteps) == 6
    panel.slider.setValue(2)
    assert np.array_equal(panel.xt_view.image, movie.x_t[2][..., 0])
    assert np.array_equal(panel.x0_view.image, movie.x0[2][..., 0])
    assert "Step 3 of 6" in panel.frame_label.text()
    panel.slider.setValue(6)
    model.configure_sampling(steps=6)
    final = model.decode(prior_samples(1, model.latent_dim, 3)[0], [1])
    assert np.array_equal(panel.xt_view.image, final[..., 0])


def test_filmstrip_shows_chosen_steps_and_jumps_there(qtbot, tab):
    tab.state.set_model(tiny_diffusion(0))
    panel = tab.film
    panel.steps_spin.setValue(9)
    panel.strip_spin.setValue(4)
    panel.task.run_button.click()
    movie = film(qtbot, panel)
    assert list(panel.strip_index) == [0, 3, 6, 9]
    strip = panel.strip_view.image
    assert strip.shape == (2 * 14 + 2, 4 * 14 + 2)  # two rows of four 12-pixel tiles, padding 2
    assert np.array_equal(strip[2:14, 2 + 14:14 + 14], movie.x_t[3][..., 0])
    panel._on_strip_click(2 + 2 * 14 + 5, 2 + 14 + 5)  # the prediction tile of frame 6
    assert panel.slider.value() == 6


def test_a_picked_tile_is_filmed_from_its_own_noise(qtbot, tab):
    model = tiny_diffusion()
    tab.state.set_model(model)
    set_form(tab, steps=5)
    tab.grid.count_spin.setValue(4)
    images = generate(qtbot, tab)
    tab.grid.pick(3)
    movie = film(qtbot, tab.film)
    assert tab.film.class_combo.currentData() == 0  # every class in turn: tile 3 is class 0
    assert np.array_equal(movie.x_t[-1], images[3])


def test_steps_trade_times_each_count(qtbot, tab):
    tab.state.set_model(tiny_diffusion(0))
    panel = tab.film
    panel.trade_edit.setText("2,8")
    panel.trade_task.run_button.click()
    qtbot.waitUntil(lambda: len(panel.trade) == 2 and not panel.trade_task.running, timeout=WAIT)
    assert [row.steps for row in panel.trade] == [2, 8]
    assert all(row.ms_per_image > 0 for row in panel.trade)
    assert "8 steps" in panel.trade_label.text()
    panel.trade_edit.setText("5,900")
    panel.trade_task.run_button.click()
    assert "60 noise steps" in panel.trade_task.message.text() and not panel.trade_task.running


def test_a_gan_gets_the_grid_but_no_film(qtbot, tab):
    gan = untrained_gan((1, 12, 12))
    tab.state.set_model(gan)
    assert tab.grid.sampling.form is None and tab.grid.sampling.note.isVisible()
    images = generate(qtbot, tab)
    assert np.array_equal(images, gan.sample(32, 0))
    panel = tab.film
    assert panel.pages.currentWidget() is panel.reason and panel.reason.isVisible()
    assert panel.reason.text() == no_film(gan) and "diffusion" in panel.reason.text()
    assert not panel.task.run_button.isEnabled()
    tab.grid.pick(0)  # a GAN tile has a latent, but nothing films it
    assert panel.film is None and not panel.task.running


def test_the_main_window_has_a_generate_tab_with_a_shortcut(qtbot, app_state, settings):
    from desktop.main_window import MainWindow

    settings.confirm_close = False
    window = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(window)
    index = window.tabs.indexOf(window.generate_tab)
    assert window.tabs.tabText(index) == "Generate" and index < 9
    action = window.tab_actions[index]
    assert action.text() == "Generate" and action.shortcut().toString() == f"Ctrl+{index + 1}"
    action.trigger()
    assert window.tabs.currentWidget() is window.generate_tab
