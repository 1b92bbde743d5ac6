"""Explore's training timeline and conditional class grid, driven through the real widgets on a
tiny conditional VAE trained three epochs (so it has a timeline of three decoder snapshots)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from desktop.tabs.explore_tab import CLASSES_PAGE, ExploreTab
from desktop.widgets.timeline_bar import NO_SNAPSHOTS, ONE_EPOCH
from genai_engine.analysis.timeline import TimelineDecoder
from genai_engine.checkpoints import load_checkpoint
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig, build_model
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

WAIT = 10_000  # ms


@pytest.fixture(scope="module")
def conditional_checkpoint(tiny_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("conditional")
    config = ModelConfig(hidden=(64,), latent_dim=4, image_shape=tiny_dataset.image_shape,
                         num_classes=10)
    done = drain(train(tiny_dataset, config, TrainConfig(epochs=3, batch_size=100, device="cpu"),
                       out_dir=out))
    return load_checkpoint(done.checkpoint)


def settled(tab: ExploreTab) -> bool:
    decoder = tab.decoder
    return (not decoder.busy and decoder.delivered_generation == decoder.generation
            and tab.timeline_bar.settled and tab.class_grid.settled)


def wait_settled(qtbot, tab: ExploreTab) -> np.ndarray:
    qtbot.waitUntil(lambda: settled(tab) and tab.shown_image is not None, timeout=WAIT)
    return tab.shown_image.copy()


def click_image(qtbot, view, x: float, y: float) -> None:
    """Left-click an ImageView at image coordinates (x, y)."""
    scene_pos = view.view.mapViewToScene(QPointF(x, y))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=view.mapFromScene(scene_pos))


def show_tab(qtbot, state) -> ExploreTab:
    tab = ExploreTab(state)
    qtbot.addWidget(tab)
    tab.resize(1280, 800)
    tab.show()
    qtbot.waitExposed(tab)
    wait_settled(qtbot, tab)
    return tab


@pytest.fixture
def cond_tab(qtbot, app_state, tiny_dataset, conditional_checkpoint):
    app_state.set_dataset(tiny_dataset)
    app_state.set_checkpoint(conditional_checkpoint)
    tab = show_tab(qtbot, app_state)
    yield tab
    wait_settled(qtbot, tab)  # no decode, filmstrip or grid timer left running


def test_the_timeline_slider_replays_the_point_through_each_epoch(qtbot, cond_tab, conditional_checkpoint):
    tab, bar = cond_tab, cond_tab.timeline_bar
    replay = TimelineDecoder(conditional_checkpoint)
    assert bar.available and bar.slider.isVisible() and bar.filmstrip.isVisible()
    assert bar.positions == [1, 2, None] and bar.slider.value() == 2
    assert bar.label.text() == "Epoch 3 of 3 (final)"

    tab.random_button.click()
    tab.class_box.setCurrentIndex(3)
    label = np.array([3])
    final = wait_settled(qtbot, tab)
    assert np.array_equal(final, tab.model.decode(tab.z, label))

    bar.slider.setValue(0)
    first = wait_settled(qtbot, tab)
    assert bar.epoch == 1 and bar.label.text() == "Epoch 1 of 3"
    assert np.array_equal(first, replay.decode(tab.z, 1, label))
    assert np.abs(first.astype(int) - final.astype(int)).max() > 10, "epoch 1 looks like the final model"
    assert "decoder after epoch 1 of 3" in tab.decoded_caption.text()

    # Moving a latent slider while a past epoch is chosen decodes with that epoch's decoder.
    dim = int(tab.sliders.order[0])
    tab.sliders.slider(dim).setValue(-200)
    moved = wait_settled(qtbot, tab)
    assert tab.z[dim] == pytest.approx(-2.0)
    assert np.array_equal(moved, replay.decode(tab.z, 1, label))

    # The filmstrip: the point after every epoch, the last frame being the final model.
    frames = bar.frames
    assert frames.shape == (3, 28, 28, 1)
    for i, epoch in enumerate((1, 2)):
        assert np.array_equal(frames[i], replay.decode(tab.z, epoch, label))
    assert np.array_equal(frames[2], tab.model.decode(tab.z, label))
    assert np.array_equal(bar.filmstrip.image[2:30, 32:60], frames[1][..., 0])
    assert bar._marker.isVisible() and bar._marker.rect().left() < 2

    click_image(qtbot, bar.filmstrip, 2 + 30 + 14, 2 + 14)  # the second frame: epoch 2
    assert bar.slider.value() == 1 and bar.epoch == 2
    assert np.array_equal(wait_settled(qtbot, tab), replay.decode(tab.z, 2, label))

    bar.slider.setValue(bar.slider.maximum())
    assert bar.epoch is None
    assert np.array_equal(wait_settled(qtbot, tab), tab.model.decode(tab.z, label))
    assert "decoder after" not in tab.decoded_caption.text()


def test_the_class_grid_decodes_the_point_as_every_class(qtbot, cond_tab, conditional_checkpoint):
    tab, grid = cond_tab, cond_tab.class_grid
    names = list(tab.state.dataset.class_names)
    assert tab.side_tabs.isTabVisible(CLASSES_PAGE)
    assert [caption.text() for caption in grid.captions] == names
    assert grid.job.job.started_jobs == 0, "the grid decoded while its tab was hidden"

    tab.side_tabs.setCurrentIndex(CLASSES_PAGE)
    tab.randomise()
    qtbot.waitUntil(lambda: grid.images is not None, timeout=WAIT)
    wait_settled(qtbot, tab)
    every_class = np.arange(10)
    z_all = np.repeat(tab.z[None], 10, 0)
    assert np.array_equal(grid.images, tab.model.decode(z_all, every_class))
    assert np.array_equal(grid.tiles[4].image, tab.model.decode(tab.z, [4])[..., 0])
    assert not np.array_equal(grid.images[1], grid.images[9])  # trouser and ankle boot

    click_image(qtbot, grid.tiles[7], 14, 14)
    assert tab.class_box.currentIndex() == 7 and tab.label() == 7
    assert grid.captions[7].font().bold() and not grid.captions[0].font().bold()
    assert np.array_equal(wait_settled(qtbot, tab), grid.images[7])

    # The grid follows the point, and the chosen epoch of the timeline.
    tab.sliders.slider(int(tab.sliders.order[0])).setValue(250)
    tab.timeline_bar.slider.setValue(0)
    wait_settled(qtbot, tab)
    replay = TimelineDecoder(conditional_checkpoint)
    z_all = np.repeat(tab.z[None], 10, 0)
    assert np.array_equal(grid.images, replay.decode(z_all, 1, every_class))
    assert np.array_equal(tab.shown_image, grid.images[7])


def test_timeline_unavailable_for_one_epoch_no_snapshots_or_a_training_snapshot(qtbot, ready_state):
    tab = show_tab(qtbot, ready_state)  # tiny_checkpoint: one epoch, not conditional
    bar = tab.timeline_bar
    assert not bar.available and not bar.slider.isVisible() and not bar.filmstrip.isVisible()
    assert bar.toolTip() == bar.label.text() == ONE_EPOCH and bar.label.isVisible()
    assert not tab.side_tabs.isTabVisible(CLASSES_PAGE) and not tab.class_row.isVisible()

    checkpoint = ready_state.checkpoint
    bare = dataclasses.replace(checkpoint, raw={k: v for k, v in checkpoint.raw.items() if k != "timeline"})
    ready_state.set_checkpoint(bare)
    assert bar.label.text() == NO_SNAPSHOTS and not bar.available

    ready_state.set_model(VAEInference(build_model(ModelConfig(hidden=(32,), latent_dim=8))))
    assert not bar.available and "running training" in bar.label.text()
    assert np.array_equal(wait_settled(qtbot, tab), tab.model.decode(tab.z))
