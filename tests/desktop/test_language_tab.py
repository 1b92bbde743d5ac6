"""The Language tab and text corpora in the app, on a tiny character model trained here.

The model (one layer, 32 wide, context 16) learns ``toy_data.make_toy_text`` in a few seconds;
the tests drive the real widgets and compare what they show with the engine's ``TextInference``.
"""

from __future__ import annotations

import numpy as np
import pytest
from toy_data import make_toy_text

from desktop.capabilities import images_only
from desktop.loaders import path_kind
from desktop.tabs.language_tab import LanguageTab
from genai_engine.checkpoints import load_checkpoint
from genai_engine.data.text import text_dataset
from genai_engine.families.autoregressive.config import TEXT_SHAPE, TEXT_TRAINING, ARConfig
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

pytestmark = pytest.mark.timeout(120)
WAIT = 20_000


@pytest.fixture(scope="module")
def corpus():
    return text_dataset("toy", make_toy_text(), "toy", context=16)


@pytest.fixture(scope="module")
def text_checkpoint(corpus, tmp_path_factory):
    config = ARConfig(width=32, layers=1, heads=2, image_shape=corpus.image_shape,
                      vocabulary=corpus.vocabulary)
    settings = TrainConfig(epochs=1, batch_size=16, epoch_images=800, lr=1e-2, schedule="constant",
                           device="cpu")
    done = drain(train(corpus, config, settings, family="autoregressive",
                       out_dir=tmp_path_factory.mktemp("text_run")))
    return done.checkpoint


@pytest.fixture
def text_state(app_state, corpus, text_checkpoint):
    app_state.set_dataset(corpus)
    app_state.set_checkpoint(load_checkpoint(text_checkpoint))
    return app_state


@pytest.fixture
def tab(qtbot, text_state):
    tab = LanguageTab(text_state)
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    return tab


def settle(qtbot, tab) -> None:
    """Wait for the newest next-character request to be shown."""
    qtbot.waitUntil(lambda: not tab.distribution.busy
                    and tab.distribution.delivered_generation == tab.distribution.generation, timeout=WAIT)


def watch_progress(state, seen: list[int], tab) -> None:
    """Record how much text the view holds each time the task reports progress."""
    def started(handle):
        handle.signals.progress.connect(lambda _chunk: seen.append(len(tab.text_view.written)))
    state.runner.task_started.connect(started)


def test_the_bars_follow_the_prompt_and_show_the_argmax_on_top(qtbot, tab, text_state):
    settle(qtbot, tab)
    qtbot.keyClicks(tab.prompt, "the ca")
    settle(qtbot, tab)
    chars, before, after = text_state.model.next_distribution("the ca", **tab.knobs.knobs())
    assert tab.bars.chars[0] == chars[int(np.argmax(before))] == "t"
    assert tab.bars.before[0] == pytest.approx(before.max())
    assert tab.bars.after[0] == pytest.approx(after[int(np.argmax(before))])
    assert len(tab.bars.chars) == min(20, len(chars))
    assert "“the ca”" in tab.caption.text()


def test_top_k_one_leaves_a_single_bar_after_the_knobs(qtbot, tab):
    tab.prompt.setPlainText("my b")
    tab.knobs.top_k.setValue(1)
    settle(qtbot, tab)
    assert np.count_nonzero(tab.bars.after) == 1
    assert tab.bars.after[0] == pytest.approx(1.0)
    assert np.count_nonzero(tab.bars.before) > 1  # the model itself is unsure
    assert "1 of 21 characters can be drawn" in tab.caption.text()


def test_an_unknown_character_in_the_prompt_is_said_in_place(qtbot, tab):
    tab.prompt.setPlainText("the Z")
    qtbot.waitUntil(lambda: tab.prompt_error.isVisible(), timeout=WAIT)
    assert "'Z'" in tab.prompt_error.text() and "never learned" in tab.prompt_error.text()


def test_generate_streams_the_text_the_engine_writes(qtbot, tab, text_state):
    tab.prompt.setPlainText("the cat ")
    tab.knobs.set_values({"temperature": 0.9, "top_k": 5, "top_p": 0.95, "length": 800, "seed": 7})
    seen: list[int] = []
    watch_progress(text_state, seen, tab)
    tab.task.run_button.click()
    qtbot.waitUntil(lambda: not tab.task.running, timeout=WAIT)
    expected = "".join(text_state.model.generate("the cat ", 800, temperature=0.9, top_k=5, top_p=0.95,
                                                 seed=7))
    assert tab.text_view.written == expected
    assert tab.text_view.toPlainText() == "the cat " + expected
    assert len(seen) >= 2 and seen[0] < len(expected)  # it grew while the task ran
    assert "tokens/s" in tab.speed.text() and "800 characters" in tab.speed.text()
    assert tab.task.run_button.isEnabled()


def test_stop_cancels_a_generation(qtbot, tab, text_state):
    tab.knobs.length.setValue(20_000)
    seen: list[int] = []
    watch_progress(text_state, seen, tab)
    tab.task.run_button.click()
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=WAIT)
    tab.task.cancel_button.click()
    qtbot.waitUntil(lambda: not tab.task.running, timeout=WAIT)
    assert 0 < len(tab.text_view.written) < 20_000
    assert tab.task.message.text().startswith("Stopped")
    assert tab.task.run_button.isEnabled() and not tab.task.cancel_button.isEnabled()


def test_several_temperatures_side_by_side(qtbot, tab, text_state):
    tab.prompt.setPlainText("a dog ")
    tab.knobs.set_values({"length": 120, "seed": 3})
    tab.columns.edit.setText("0.3, 1.0, 1.5")
    tab.columns.run_button.click()
    qtbot.waitUntil(lambda: not tab.task.running, timeout=WAIT)
    titles = [box.title() for box in tab.columns.boxes]
    assert titles == ["Temperature 0.3", "Temperature 1", "Temperature 1.5"]
    written = [view.written for view in tab.columns.columns]
    for temperature, text in zip((0.3, 1.0, 1.5), written, strict=True):
        assert text == "".join(text_state.model.generate("a dog ", 120, temperature=temperature, seed=3))
    assert len(set(written)) == 3
    tab.columns.edit.setText("0.3, nine")
    tab.columns.run_button.click()
    assert "Temperatures" in tab.task.message.text() and not tab.task.running


def test_an_image_model_gets_the_reason_in_place(qtbot, ready_state):
    tab = LanguageTab(ready_state)
    qtbot.addWidget(tab)
    assert tab.pages.currentIndex() == 1 and not tab.task.run_button.isEnabled()
    assert "draws images, not text" in tab.reason.text() and "autoregressive" in tab.reason.text()
    assert images_only(ready_state.model, ready_state.dataset, "Explore") is None


def test_the_window_with_text_covers_the_image_tabs_and_fits_the_train_tab(
        qtbot, text_state, settings, corpus, tiny_dataset, tiny_checkpoint):
    from desktop.main_window import MainWindow

    window = MainWindow(text_state, settings, restore_session=False)
    window.confirm_close = False
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    errors = []
    text_state.error.connect(lambda title, message: errors.append(f"{title}: {message}"))
    tabs = window.tabs
    names = [tabs.tabText(i) for i in range(tabs.count())]
    assert names.index("Language") == names.index("Generate") + 1
    assert window.tab_actions[names.index("Language")].shortcut().toString() == "Ctrl+8"

    def covers() -> dict[str, str]:
        shown = {}
        for cover in window.image_covers:
            tabs.setCurrentWidget(cover.parentWidget())
            qtbot.wait(20)
            if cover.isVisible():
                assert cover.geometry() == cover.parentWidget().rect()
                shown[cover.view] = cover.message.text()
        return shown

    shown = covers()  # a text model and a text corpus
    assert set(shown) == {"Explore", "Interpolate", "Evaluate", "Analyze", "Compare", "Generate"}
    assert all("character model" in text and "works on images" in text for text in shown.values())
    tabs.setCurrentWidget(window.language_tab)
    assert window.language_tab.available
    train = window.train_tab
    assert train.form.family_name == "autoregressive"
    enabled = [train.form.family.model().item(i).isEnabled() for i in range(train.form.family.count())]
    assert enabled.count(True) == 1
    config = train.form.configs(corpus)[1]
    assert config.vocabulary == corpus.vocabulary and config.width == 32  # the open model's shape
    assert train.text_preview.isVisibleTo(train) and not train.recon_view.isVisibleTo(train)
    qtbot.waitUntil(lambda: train.text_preview.caption.text().startswith("Written by the model"),
                    timeout=WAIT)

    text_state.set_checkpoint(load_checkpoint(tiny_checkpoint))  # an image model, the text still open
    shown = covers()
    assert len(shown) == 6 and all("is a text corpus" in text for text in shown.values())
    assert not window.language_tab.available and window.language_tab.pages.currentIndex() == 1

    text_state.set_dataset(tiny_dataset)  # images again: every tab and family is back
    assert covers() == {}
    assert all(train.form.family.model().item(i).isEnabled() for i in range(train.form.family.count()))
    assert train.form.configs(tiny_dataset)[1].image_shape == tiny_dataset.image_shape
    assert train.recon_view.isVisibleTo(train) and not train.text_preview.isVisibleTo(train)
    text_state.set_dataset(corpus)  # text again: the family's default shape for text
    model_config, train_config = train.form.configs(corpus)[1:]
    assert model_config.width == TEXT_SHAPE["width"]
    assert (train_config.batch_size, train_config.epoch_images) == (
        TEXT_TRAINING["batch_size"], TEXT_TRAINING["epoch_images"])  # the text defaults, not the images'
    qtbot.waitUntil(lambda: not text_state.runner.active, timeout=WAIT)
    assert not errors


def test_a_text_file_opens_as_a_corpus_with_an_excerpt(qtbot, app_state, settings, tmp_path):
    from desktop.main_window import MainWindow

    path = tmp_path / "story.txt"
    path.write_text(make_toy_text(200, seed=4), encoding="utf-8")
    window = MainWindow(app_state, settings, restore_session=False)
    window.confirm_close = False
    qtbot.addWidget(window)
    menu_texts = [action.text() for action in window.menuBar().actions()[0].menu().actions()]
    assert "Open &Text Corpus…" in menu_texts
    assert "Python docs (text corpus, built in)" in [a.text() for a in window.dataset_menu.actions()]
    assert path_kind(path) == "dataset"  # a drop opens it the same way
    with qtbot.waitSignal(window.loader.dataset_opened, timeout=WAIT):
        window.loader.open_path(path)
    panel = window.train_tab.dataset_panel
    assert panel.excerpt.isVisibleTo(panel) and not panel.preview.isVisibleTo(panel)
    assert panel.excerpt.toPlainText() == make_toy_text(200, seed=4)[:600]
    assert "distinct characters" in panel.counts.text() and "train" in panel.counts.text()
    assert panel.name.text() == "story"
