"""The Interpolate tab through its widgets: endpoints, lerp vs slerp, scrubbing, PNG/GIF export."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt

from desktop.tabs.interpolate_tab import InterpolateTab
from desktop.widgets.image_picker import ImagePickerDialog
from genai_engine.latent import DATASET, PRIOR

WAIT = 10_000


@pytest.fixture
def tab(qtbot, ready_state):
    widget = InterpolateTab(ready_state)
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    qtbot.waitUntil(lambda: widget.result is not None, timeout=WAIT)
    yield widget
    widget.play_button.setChecked(False)


def wait_for(qtbot, tab, **expected):
    """Until the strip on screen was made for a request with these fields."""
    def matches():
        result = tab.result
        return result is not None and all(getattr(result.request, k) == v
                                          for k, v in expected.items())
    qtbot.waitUntil(matches, timeout=WAIT)
    return tab.result


def use_prior(qtbot, editor, seed):
    editor.source_box.setCurrentIndex(editor.source_box.findData(PRIOR))
    editor.seed_spin.setValue(seed)


def test_opens_on_two_dataset_images(tab, ready_state):
    request = tab.result.request
    assert request.start.source == DATASET and request.end.source == DATASET
    assert request.start.index != request.end.index
    assert tab.result.frames.shape == (request.steps, 28, 28, 1)
    # The start preview is the dataset image itself; the strip shows what the model makes of it.
    start_image = ready_state.dataset.test.images[request.start.index][..., 0]
    assert np.array_equal(tab.start_editor.preview.image, start_image)
    assert "Ankle boot" in tab.start_editor.caption.text()
    assert tab.png_button.isEnabled() and tab.gif_button.isEnabled()


def test_lerp_and_slerp_strips_differ(qtbot, tab):
    use_prior(qtbot, tab.start_editor, 3)
    use_prior(qtbot, tab.end_editor, 11)
    tab.steps_spin.setValue(9)
    tab.method_box.setCurrentIndex(tab.method_box.findData("lerp"))
    lerp = wait_for(qtbot, tab, method="lerp", steps=9)
    lerp_strip = tab.strip_view.image.copy()
    tab.method_box.setCurrentIndex(tab.method_box.findData("slerp"))
    slerp = wait_for(qtbot, tab, method="slerp", steps=9)
    # Same ends (both paths start and stop at the same codes) ...
    assert np.array_equal(lerp.frames[0], slerp.frames[0])
    assert np.array_equal(lerp.frames[-1], slerp.frames[-1])
    # ... but the middle of the path, and the strip on screen, change.
    middle = np.abs(lerp.frames[4].astype(int) - slerp.frames[4].astype(int)).mean()
    assert middle > 0.5
    assert not np.array_equal(lerp_strip, tab.strip_view.image)
    # lerp between two prior samples dips in length; slerp does not dip as far.
    assert slerp.norms["slerp"][4] > lerp.norms["lerp"][4]
    assert tab.norm_curves["slerp"].opacity() == 1.0


def test_steps_slider_wraps_long_paths(qtbot, tab):
    tab.steps_slider.setValue(40)
    result = wait_for(qtbot, tab, steps=40)
    assert len(result.frames) == 40
    strip = tab.strip_view.image
    assert strip.shape[0] > 28 * 2 and strip.shape[1] < 28 * 40  # wrapped into rows
    tab.steps_spin.setValue(64)
    assert len(wait_for(qtbot, tab, steps=64).frames) == 64
    assert tab.steps_spin.maximum() == 64 and tab.steps_spin.minimum() == 2


def test_swap_and_train_split(qtbot, tab, ready_state):
    tab.end_editor.split_box.setCurrentIndex(tab.end_editor.split_box.findData("train"))
    tab.end_editor.index_spin.setValue(123)
    before = wait_for(qtbot, tab)
    qtbot.waitUntil(lambda: tab.result.request.end.index == 123, timeout=WAIT)
    before = tab.result
    qtbot.mouseClick(tab.swap_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.result.request.start.index == 123, timeout=WAIT)
    after = tab.result
    assert after.request.start.split == "train"
    assert np.array_equal(after.frames[0], before.frames[-1])
    assert np.array_equal(after.frames[-1], before.frames[0])


def test_scrub_and_click_strip_shows_frame(qtbot, tab):
    frames = tab.result.frames
    tab.frame_slider.setValue(len(frames) - 1)
    assert np.array_equal(tab.frame_view.image, frames[-1][..., 0])
    assert tab.frame_label.text() == "t = 1.00"
    # A real click on the first tile of the strip selects it.
    view = tab.strip_view
    scene_point = view.item.mapToScene(QPointF(2 + 14, 2 + 14))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(scene_point))
    qtbot.waitUntil(lambda: tab.frame_slider.value() == 0, timeout=WAIT)
    assert np.array_equal(tab.frame_view.image, frames[0][..., 0])


def test_play_previews_the_animation(qtbot, tab):
    tab.frame_spin.setValue(20)
    tab.frame_slider.setValue(0)
    qtbot.mouseClick(tab.play_button, Qt.MouseButton.LeftButton)
    assert tab.play_timer.isActive()
    qtbot.waitUntil(lambda: tab.frame_slider.value() >= 3, timeout=WAIT)
    qtbot.mouseClick(tab.play_button, Qt.MouseButton.LeftButton)
    assert not tab.play_timer.isActive()


def test_thumbnail_picker_picks_by_click(qtbot, ready_state):
    test = ready_state.dataset.test
    dialog = ImagePickerDialog(test.images, test.labels, ready_state.dataset.class_names, 100)
    qtbot.addWidget(dialog)
    dialog.resize(760, 600)
    dialog.show()
    grid = dialog.grid
    assert 100 in grid.page_indices()
    grid.class_box.setCurrentIndex(grid.class_box.findData(7))  # sneakers only
    assert (test.labels[grid.page_indices()] == 7).all()
    x, y = grid.tile_center(2)
    view = grid.view
    with qtbot.waitSignal(grid.picked, timeout=WAIT) as picked:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.mapFromScene(view.item.mapToScene(QPointF(x, y))))
    assert picked.args == [int(np.flatnonzero(test.labels == 7)[2])]
    assert dialog.chosen == picked.args[0]


def test_export_png_and_gif(qtbot, tab, tmp_path):
    use_prior(qtbot, tab.start_editor, 1)
    use_prior(qtbot, tab.end_editor, 2)
    tab.steps_spin.setValue(6)
    frames = wait_for(qtbot, tab, steps=6).frames
    tab.scale_spin.setValue(3)
    tab.pingpong_check.setChecked(True)
    tab.frame_spin.setValue(50)

    with qtbot.waitSignal(tab.exported, timeout=WAIT) as done:
        tab.export_png(str(tmp_path / "strip"))  # no suffix: .png is added
    assert done.args[0] is True, done.args[1]
    png = tmp_path / "strip.png"
    assert "Saved 6 images" in tab.export_message.text()
    with Image.open(png) as picture:
        assert picture.size == (3 * (6 * 30 + 2), 3 * 32)
        assert np.array_equal(np.asarray(picture)[6:6 + 84, 6:6 + 84],
                              np.repeat(np.repeat(frames[0][..., 0], 3, 0), 3, 1))

    with qtbot.waitSignal(tab.exported, timeout=WAIT) as done:
        tab.export_gif(str(tmp_path / "path.gif"))
    assert done.args[0] is True, done.args[1]
    with Image.open(tmp_path / "path.gif") as picture:
        assert picture.n_frames == 10  # 6 forward + 4 back (ping-pong, ends not repeated)
        assert picture.size == (84, 84)
        picture.seek(5)
        assert np.array_equal(np.asarray(picture.convert("L"))[::3, ::3], frames[5][..., 0])


def test_export_failure_is_reported(qtbot, tab, tmp_path, ready_state):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    errors = []
    ready_state.error.connect(lambda title, message: errors.append(message))
    with qtbot.waitSignal(tab.exported, timeout=WAIT) as done:
        tab.export_gif(str(blocker / "x.gif"))
    assert done.args[0] is False
    assert "Could not save" in tab.export_message.text()
    assert errors and "cannot write" in errors[0]
    assert not Path(blocker / "x.gif").exists()


def test_follows_model_and_dataset_changes(qtbot, tab, ready_state, tiny_dataset):
    from genai_engine.data import Dataset, ImageSet

    first = tab.result
    # A dataset of another image size cannot be encoded by the model: fall back to prior samples.
    small = ImageSet(np.zeros((4, 12, 12, 1), np.uint8))
    ready_state.set_dataset(Dataset("other", small, small))
    qtbot.waitUntil(lambda: tab.result is not first and
                    tab.result.request.start.source == PRIOR, timeout=WAIT)
    assert "No matching dataset" in tab.start_editor.caption.text()
    ready_state.set_dataset(tiny_dataset)
    qtbot.waitUntil(lambda: tab.result.request.start.source == DATASET, timeout=WAIT)
    # A new weight snapshot (as after a training epoch) redraws the strip.
    current = tab.result
    ready_state.set_model(ready_state.model)
    qtbot.waitUntil(lambda: tab.result is not current, timeout=WAIT)


def test_without_model(qtbot, app_state):
    widget = InterpolateTab(app_state)
    qtbot.addWidget(widget)
    assert "Open or train a model" in widget.info_label.text()
    assert not widget.gif_button.isEnabled()
    assert widget.export_png("/nonexistent/never.png") is None
