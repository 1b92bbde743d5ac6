"""After a new dataset and model, nothing visible still describes the previous ones.

The sequence of issue 18 on real widgets: dataset A (a Fashion-MNIST slice) with model A, use
Explore (map click, latent arithmetic) and Interpolate; then dataset B with other class names
and other images, and model B trained on it; visit the tabs again and read every visible text.
Run for B with labels, B without labels, and B as RGB 32x32.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox, QGroupBox, QLabel, QTabWidget

from desktop.tabs.explore_tab import ExploreTab
from desktop.tabs.interpolate_tab import InterpolateTab, _columns_for
from desktop.widgets.image_view import tile_rect
from genai_engine.checkpoints import load_checkpoint
from genai_engine.data import Dataset, ImageSet
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

pytestmark = pytest.mark.timeout(120)
WAIT = 20_000
B_NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "jota"]


def dataset_b(kind: str) -> Dataset:
    """Stripes whose direction is the label: nothing like clothes."""
    rng = np.random.default_rng(1)
    side, channels = (32, 3) if kind == "rgb" else (28, 1)

    def split(n: int) -> ImageSet:
        labels = rng.integers(0, 10, n)
        images = np.zeros((n, side, side, channels), np.uint8)
        for i, label in enumerate(labels):
            images[i, :, (int(label) * 2) % side::7] = 255
        return ImageSet(images, None if kind == "unlabelled" else labels.astype(np.int64))

    names = None if kind == "unlabelled" else B_NAMES
    return Dataset(f"stripes-{kind}", split(200), split(100), names, source="tests")


def visible_texts(root) -> list[str]:
    """Every text a user can read in ``root``: labels, combo items, group titles, buttons,
    tab titles and plot legends."""
    texts = []
    for widget in [root, *root.findChildren(QLabel), *root.findChildren(QComboBox),
                   *root.findChildren(QGroupBox), *root.findChildren(QAbstractButton),
                   *root.findChildren(QTabWidget)]:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        if isinstance(widget, QLabel):
            texts.append(widget.text())
        elif isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QTabWidget):
            texts += [widget.tabText(i) for i in range(widget.count()) if widget.isTabVisible(i)]
    legend = getattr(getattr(root, "map", None), "legend", None)
    if legend is not None and legend.isVisible():
        texts += [label.text for _sample, label in legend.items]
    return texts


def interpolation_agrees(tab: InterpolateTab) -> bool:
    """The large preview is the strip's highlighted frame."""
    frames, index = tab.result.frames, tab.frame_slider.value()
    _, h, w, _ = frames.shape
    x, y, _, _ = tile_rect(index, h, w, _columns_for(len(frames)))
    tile = tab.strip_view.image[int(y + 1):int(y + 1) + h, int(x + 1):int(x + 1) + w]
    return np.array_equal(np.squeeze(tile), np.squeeze(tab.frame_view.image))


@pytest.mark.parametrize("kind", ["labelled", "unlabelled", "rgb"])
def test_every_view_follows_a_new_dataset_and_model(qtbot, ready_state, tiny_dataset, tmp_path, kind):
    state = ready_state
    names_a = list(tiny_dataset.class_names)
    tabs = QTabWidget()
    explore, interpolate = ExploreTab(state), InterpolateTab(state)
    tabs.addTab(explore, "Explore")
    tabs.addTab(interpolate, "Interpolate")
    qtbot.addWidget(tabs)
    tabs.resize(1280, 800)
    tabs.show()

    # A: click a map dot, set up latent arithmetic, scrub the interpolation
    qtbot.waitUntil(lambda: explore.encoded is not None, timeout=WAIT)
    explore.map.point_clicked.emit(4)
    qtbot.waitUntil(lambda: explore.decoded_caption.text().startswith("Map: Test image #4 ("), timeout=WAIT)
    assert any(name in explore.decoded_caption.text() for name in names_a)
    assert [explore.towards_box.itemText(i) for i in range(explore.towards_box.count())] == names_a
    tabs.setCurrentWidget(interpolate)
    qtbot.waitUntil(lambda: interpolate.result is not None, timeout=WAIT)
    interpolate.frame_slider.setValue(4)
    assert interpolation_agrees(interpolate)

    # B: a new dataset, then a model trained on it (the same latent size: the "keep" path)
    data = dataset_b(kind)
    state.set_dataset(data)
    done = drain(train(data, ModelConfig(hidden=(32,), latent_dim=8, image_shape=data.image_shape),
                       TrainConfig(epochs=1, batch_size=100, device="cpu"), out_dir=tmp_path / "b"))
    state.set_checkpoint(load_checkpoint(done.checkpoint))
    qtbot.waitUntil(lambda: interpolate.result is not None
                    and interpolate.result.frames.shape[1:] == data.test.images.shape[1:], timeout=WAIT)
    assert interpolation_agrees(interpolate)
    interpolate.frame_slider.setValue(3)
    assert interpolation_agrees(interpolate)
    tabs.setCurrentWidget(explore)
    if kind != "unlabelled":
        qtbot.waitUntil(lambda: explore.encoded is not None and explore.map.point_count == len(data.test),
                        timeout=WAIT)
    qtbot.waitUntil(lambda: explore.decoder.delivered_generation == explore.decoder.generation, timeout=WAIT)

    for tab in (explore, interpolate):
        texts = " | ".join(visible_texts(tab))
        stale = [name for name in names_a if name in texts]
        assert not stale, f"{type(tab).__name__} still shows dataset A's {stale}: {texts[:2000]}"
    caption = explore.decoded_caption.text()
    assert "kept from the previous dataset" in caption, caption  # the point is marked, not re-labelled
    arithmetic = [explore.towards_box.itemText(i) for i in range(explore.towards_box.count())]
    assert arithmetic == (B_NAMES if kind != "unlabelled" else [])
    if kind != "unlabelled":
        legend = [label.text for _sample, label in explore.map.legend.items]
        assert legend == B_NAMES


def rendered_tile(image_view, x0: float, y0: float, h: int, w: int) -> np.ndarray:
    """The red channel the screen shows for image pixels [y0:y0+h, x0:x0+w] of ``image_view``
    (sampled at pixel centres from a grab), so the check covers view ranges, not only arrays."""
    grab = image_view.grab().toImage()
    ratio = grab.devicePixelRatio()
    out = np.zeros((h, w))
    for row in range(h):
        for col in range(w):
            scene = image_view.view.mapViewToScene(QPointF(x0 + col + 0.5, y0 + row + 0.5))
            point = image_view.mapFromScene(scene)
            out[row, col] = grab.pixelColor(int(point.x() * ratio), int(point.y() * ratio)).red()
    return out


def preview_matches_highlight(tab: InterpolateTab) -> bool:
    """On screen, the large preview shows the strip tile inside the selection box."""
    frames = tab.result.frames
    _, h, w, _ = frames.shape
    box = tab.selection_box.rect()
    half = (box.width() - w) / 2
    strip = rendered_tile(tab.strip_view, box.x() + half, box.y() + half, h, w)
    large = rendered_tile(tab.frame_view, 0, 0, h, w)
    return np.array_equal(strip, large)


def test_interpolate_preview_matches_strip_after_models_arrive_while_hidden(qtbot, ready_state,
                                                                            tiny_checkpoint):
    """Issue 18's sequence for Interpolate: per-epoch models arrive while the tab was never shown,
    then the user scrubs and changes the step count."""
    tabs, other, tab = QTabWidget(), QLabel("Train"), InterpolateTab(ready_state)
    tabs.addTab(other, "Train")
    tabs.addTab(tab, "Interpolate")
    qtbot.addWidget(tabs)
    tabs.resize(1280, 800)
    tabs.show()
    checkpoint = load_checkpoint(tiny_checkpoint)
    for _epoch in range(3):
        ready_state.set_model(checkpoint.snapshot("cpu"))
        qtbot.wait(20)
    qtbot.waitUntil(lambda: tab.result is not None
                    and tab.decoder.delivered_generation == tab.decoder.generation, timeout=WAIT)
    tabs.setCurrentWidget(tab)
    for index in (4, 0, 9):
        tab.frame_slider.setValue(index)
        assert preview_matches_highlight(tab), index
    tab.frame_slider.setValue(4)
    tab.steps_spin.setValue(7)  # t = 4/9 becomes frame round(0.44 * 6) = 3 of 7
    qtbot.waitUntil(lambda: len(tab.result.frames) == 7, timeout=WAIT)
    assert tab.frame_slider.value() == 3 and tab.frame_label.text() == "t = 0.50"
    assert preview_matches_highlight(tab)
    qtbot.keyClick(tab.frame_slider, Qt.Key.Key_Right)
    assert tab.frame_slider.value() == 4 and preview_matches_highlight(tab)



@pytest.mark.parametrize("kind", ["labelled", "unlabelled", "rgb"])
def test_main_window_tabs_forget_dataset_a(qtbot, ready_state, tiny_dataset, settings, tmp_path, kind):
    """Every tab of the real window, visited with A and again with B: other class names, no
    labels, or RGB 32x32."""
    from desktop.main_window import MainWindow

    window = MainWindow(ready_state, settings, restore_session=False)
    window.confirm_close = False
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    tabs = window.tabs

    def visit_all() -> None:
        for index in range(tabs.count()):
            if tabs.isTabVisible(index) and tabs.isTabEnabled(index):
                tabs.setCurrentIndex(index)
                qtbot.wait(50)

    errors = []
    ready_state.error.connect(lambda title, message: errors.append(f"{title}: {message}"))
    visit_all()
    likelihood = window.analyze_tab.likelihood  # a result of model A, to be kept and marked
    likelihood.n_spin.setValue(20)
    for k in (10, 100):
        likelihood.k_checks[k].setChecked(False)
    with qtbot.waitSignal(likelihood.result_ready, timeout=WAIT):
        likelihood.task.run_button.click()
    data = dataset_b(kind)
    ready_state.set_dataset(data)
    done = drain(train(data, ModelConfig(hidden=(32,), latent_dim=8, image_shape=data.image_shape),
                       TrainConfig(epochs=1, batch_size=100, device="cpu"), out_dir=tmp_path / "b"))
    ready_state.set_checkpoint(load_checkpoint(done.checkpoint))
    visit_all()
    qtbot.waitUntil(lambda: not ready_state.runner.active, timeout=WAIT)
    stale = {}
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        qtbot.wait(20)
        texts = " | ".join(visible_texts(tabs.widget(index)))
        found = [name for name in tiny_dataset.class_names if name in texts]
        if found:
            stale[tabs.tabText(index)] = found
    assert not stale, f"tabs still showing dataset A's class names: {stale}"
    assert likelihood.stamp.stale and "earlier model" in likelihood.stamp.text()
    assert not errors
