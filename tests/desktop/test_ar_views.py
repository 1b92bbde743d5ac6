"""The autoregressive views through their widgets, on a tiny untrained pixel transformer (12x12
grey, K = 8) whose random weights make its distributions uneven: Generate ▸ Generation view
(pixel by pixel, the bars before and after the knobs), Generate ▸ Completion (a test image or a
drawing as the prompt), and Explore / Interpolate pointing to them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from sample_only_model import sample_only
from toy_data import make_toy_dataset
from untrained_gan import untrained_gan

from desktop.tabs.explore_tab import ExploreTab
from desktop.tabs.generate_tab import GenerateTab
from desktop.tabs.interpolate_tab import InterpolateTab
from genai_engine.families import get_family

WAIT = 20_000
POINTER = "Generate ▸ Generation view and Completion"


def untrained_ar():
    family = get_family("autoregressive")
    config = family.config_type(levels=8, width=16, layers=1, heads=2, image_shape=(1, 12, 12))
    torch.manual_seed(0)
    model = family.build(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.4 * torch.randn_like(p))
    return family.snapshot(model)


def entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


@pytest.fixture
def tab(qtbot, app_state):
    app_state.set_dataset(make_toy_dataset(n_train=32, n_test=16, size=12))
    widget = GenerateTab(app_state)
    qtbot.addWidget(widget)
    widget.resize(1100, 860)
    widget.show()
    app_state.set_model(untrained_ar())
    return widget


def wait_step(qtbot, panel, index: int):
    qtbot.waitUntil(lambda: panel.step is not None and panel.step.index == index and not panel.job.busy,
                    timeout=WAIT)
    return panel.step


def test_generation_view_fills_one_pixel_a_step_and_shows_the_knobs(qtbot, tab):
    panel, model = tab.pixels, tab.state.model
    assert tab.family_views.currentWidget() is panel  # the film is not this model's
    assert "K = 8" in panel.levels_label.text() and "8 grey levels" in panel.levels_label.text()
    full = model.sample(1, seed=0)[0].reshape(-1)  # the model's knobs (temperature 1) = the form's
    for n in (1, 2, 3):
        panel.next_button.click()
        flat = wait_step(qtbot, panel, n - 1).image.reshape(-1)
        assert np.array_equal(flat[:n], full[:n]) and not flat[n:].any()
    assert np.allclose(panel.step.after, panel.step.before)  # temperature 1, top-k and top-p off
    assert np.allclose(panel.after_bars.heights, panel.step.after)
    assert f"Pixel 3 of {full.size}" in panel.caption.text()

    panel.finish_button.click()
    assert np.array_equal(wait_step(qtbot, panel, full.size - 1).image.reshape(-1), full)

    panel.restart_button.click()
    panel.next_button.click()
    cool = wait_step(qtbot, panel, 0)
    panel.knobs.form.set_value("temperature", 5.0)  # redraws the first pixel at the new knobs
    hot = wait_step(qtbot, panel, 0)
    assert hot is not cool and np.allclose(hot.before, cool.before)
    assert entropy(hot.after) > entropy(hot.before) + 0.1  # flatter
    panel.knobs.form.set_value("top_k", 1)
    one = wait_step(qtbot, panel, 0)
    assert np.count_nonzero(one.after) == 1 and np.count_nonzero(panel.after_bars.heights) == 1
    assert one.value == int(np.argmax(one.before))
    assert "1 of 8 levels could be drawn" in panel.caption.text()


def complete(qtbot, panel):
    with qtbot.waitSignal(panel.state.runner.task_ended, timeout=WAIT):
        panel.task.run_button.click()
    qtbot.waitUntil(lambda: not panel.task.running, timeout=WAIT)
    return panel.completions


def test_completion_keeps_the_given_rows_of_a_test_image_and_of_a_drawing(qtbot, tab):
    panel, model = tab.completion, tab.state.model
    assert panel.rows_spin.value() == 6  # the top half by default
    panel.count_spin.setValue(4)
    panel.image_spin.setValue(3)
    completions = complete(qtbot, panel)
    given = model.quantise(tab.state.dataset.test.images[3:4])[0]
    assert completions.shape == (4, 12, 12, 1)
    assert all(np.array_equal(c[:6], given[:6]) for c in completions)
    assert len({c.tobytes() for c in completions}) == 4  # four different endings
    assert len(panel._marks) == 5 and panel._marks[0].rect().height() == 6  # original + 4, rows marked

    # A drawing: drag a white stroke along row 1, then a right click paints a pixel black.
    canvas = panel.canvas
    canvas.clear()
    qtbot.mousePress(canvas, Qt.LeftButton, pos=QPoint(*canvas.pixel_center(1, 2)))
    for col in range(3, 9):
        qtbot.mouseMove(canvas, QPoint(*canvas.pixel_center(1, col)))
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=QPoint(*canvas.pixel_center(1, 8)))
    qtbot.mouseClick(canvas, Qt.RightButton, pos=QPoint(*canvas.pixel_center(1, 5)))
    row = canvas.image[1, :, 0]
    assert panel.drawn_radio.isChecked()
    assert (row[2:9] == 255).sum() == 6 and row[5] == 0 and not row[:2].any() and not row[9:].any()
    panel.rows_spin.setValue(3)
    drawn = complete(qtbot, panel)
    assert all(np.array_equal(c[:3], model.quantise(canvas.image[None])[0][:3]) for c in drawn)
    assert not np.array_equal(drawn, completions)


def test_explore_and_interpolate_point_to_the_generate_views(qtbot, app_state):
    model = untrained_ar()
    app_state.set_model(model)
    explore, interpolate = ExploreTab(app_state), InterpolateTab(app_state)
    for widget in (explore, interpolate):
        qtbot.addWidget(widget)
    assert POINTER in explore.decoded_caption.text() and POINTER in interpolate.info_label.text()
    app_state.set_model(sample_only())  # no latent, and no pixel-by-pixel views either
    assert "no latent space" in explore.decoded_caption.text()
    assert POINTER not in explore.decoded_caption.text()

    generate = GenerateTab(app_state)
    qtbot.addWidget(generate)
    assert generate.pixels.pages.currentWidget() is generate.pixels.reason
    assert "no generation view" in generate.pixels.reason.text()
    assert "no completion" in generate.completion.reason.text()


def test_analyze_scores_the_exact_nll_and_evaluate_says_how_it_samples(qtbot, app_state):
    from desktop.tabs.evaluate_tab import EvaluateTab
    from desktop.widgets.likelihood_panel import LikelihoodPanel

    dataset = make_toy_dataset(n_train=32, n_test=16, size=12)
    app_state.set_dataset(dataset)
    model = untrained_ar()
    app_state.set_model(model)
    panel = LikelihoodPanel(app_state)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.task.run_button.isEnabled() and not panel.k_checks[10].isVisible()
    # an exact likelihood is not laid out as a bound tightening with k
    assert not panel.plot.isVisible() and "is exact" in panel.explanation.text()
    assert panel.table.horizontalHeaderItem(0).text() == "likelihood" and panel.table.isColumnHidden(4)
    for check in panel.k_checks.values():  # no k is needed: Estimate still scores the images
        check.setChecked(False)
    with qtbot.waitSignal(app_state.runner.task_ended, timeout=WAIT):
        panel.task.run_button.click()
    expected = model.nll(dataset.test.images).mean() / (144 * np.log(2))
    assert panel.scored.bits_per_dim == pytest.approx(expected) and "bits/dim" in panel.summary.text()
    app_state.set_model(untrained_gan((1, 12, 12)))  # another model: its settings, the old result
    assert "is exact" not in panel.explanation.text() and panel.k_checks[10].isVisible()
    assert not panel.plot.isVisible() and "earlier model" in panel.stamp.text()
    app_state.set_model(model)

    model.configure_sampling(temperature=0.5)
    evaluate = EvaluateTab(app_state)
    qtbot.addWidget(evaluate)
    evaluate.show()
    assert "Temperature 0.5, Top-k off, Top-p off" in evaluate.model_label.text()


def test_in_the_window_explore_and_interpolate_are_covered_with_a_way_to_the_pixel_views(
        qtbot, app_state, settings):
    from desktop.main_window import MainWindow

    settings.confirm_close = False
    window = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    app_state.set_dataset(make_toy_dataset(n_train=32, n_test=16, size=12))
    app_state.set_model(untrained_ar())
    covers = {cover.view: cover for cover in window.image_covers}
    for name in ("Explore", "Interpolate"):
        window.tabs.setCurrentWidget(covers[name].parentWidget())
        qtbot.wait(20)
        assert covers[name].isVisible() and covers[name].geometry() == covers[name].parentWidget().rect()
        assert "no latent space" in covers[name].message.text() and covers[name].action.isVisible()
    assert not covers["Evaluate"].reason() and not covers["Generate"].reason()  # those serve it
    window.generate_tab.family_views.setCurrentWidget(window.generate_tab.film)
    qtbot.mouseClick(covers["Interpolate"].action, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.generate_tab
    assert window.generate_tab.family_views.currentWidget() is window.generate_tab.pixels

    app_state.set_model(sample_only())  # no latent and no pixel views: the sentence, no button
    assert covers["Explore"].reason() and not covers["Explore"].action.isVisibleTo(covers["Explore"])
    app_state.set_model(untrained_gan((1, 12, 12)))  # a latent space: the tabs themselves
    assert not any(cover.isVisibleTo(window) for cover in window.image_covers)
