"""The Compare tab through its widgets: two models side by side, a refused mismatch, train all."""

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from toy_data import make_toy_dataset

from desktop.tabs.compare_tab import CompareTab
from genai_engine.checkpoints import load_checkpoint
from genai_engine.families.gan.config import GANConfig
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.metrics.features import domain
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

pytestmark = pytest.mark.skipif(not domain.default_weights_path().is_file(),
                                reason="the shipped domain network is missing")
WAIT = 60_000


@pytest.fixture(scope="module")
def gan_checkpoint(tiny_dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compare-gan")
    config = GANConfig(kind="mlp", latent_dim=8, width=16, image_shape=tiny_dataset.image_shape)
    drain(train(tiny_dataset, config, TrainConfig(epochs=1, batch_size=200, device="cpu"),
                family="gan", out_dir=out))
    return out / "checkpoint.pt"


@pytest.fixture
def tab(qtbot, ready_state):
    widget = CompareTab(ready_state)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    widget.models.n_spin.setValue(64)
    return widget


def test_two_models_run_into_a_table_grids_and_a_guide(qtbot, tab, gan_checkpoint):
    panel = tab.models
    assert not panel.task.run_button.isEnabled() and "Add the models" in panel.task.message.text()
    qtbot.mouseClick(panel.add_open_button, Qt.MouseButton.LeftButton)
    panel.add_path(gan_checkpoint)
    assert panel.list.count() == 2 and not panel.add_open_button.isEnabled()
    assert panel.task.run_button.isEnabled() and not panel.reason.isVisible()
    qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(tab.results) == 1, timeout=WAIT)
    table = tab.table
    assert [table.horizontalHeaderItem(j).text() for j in range(2)] == ["vae", "gan"]
    assert float(table.cell_text("FID (", 0)) > 0 and float(table.cell_text("FID (", 1)) > 0
    measures = [table.verticalHeaderItem(i).text() for i in range(table.rowCount())]
    fid_rows = [m for m in measures if m.startswith("FID")]
    assert len(fid_rows) == 2 and all("(" in m for m in fid_rows)  # each FID names its network
    assert table.cell_text("likelihood", 1).startswith("none: a generative adversarial network defines")
    assert "(bound)" in table.cell_text("likelihood", 0)
    assert len(tab.grids.images) == 2 and not tab.grids.images[0].pixmap().isNull()
    assert "best fidelity" in tab.guide.text() and tab.export_button.isEnabled()
    assert "Done" in panel.task.message.text()


def test_a_model_of_other_data_shows_the_reason_in_place(qtbot, tab, tmp_path):
    toy = make_toy_dataset(n_train=64, n_test=16)
    drain(train(toy, ModelConfig(hidden=(8,), latent_dim=2, image_shape=toy.image_shape),
                TrainConfig(epochs=1, batch_size=32, device="cpu"), out_dir=tmp_path))
    panel = tab.models
    panel.add_open_model()
    panel.add_path(tmp_path / "checkpoint.pt")
    assert panel.reason.isVisible() and "same dataset" in panel.reason.text()
    assert not panel.task.run_button.isEnabled()
    panel.list.setCurrentRow(1)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert not panel.reason.isVisible() and panel.task.run_button.isEnabled()


def test_train_all_trains_within_the_budget_then_compares(qtbot, tab):
    assert tab.models.train_all_button.isEnabled()
    tab.train_all(2.0, ["vae", "gan"])
    assert not tab.models.train_all_button.isEnabled()
    qtbot.waitUntil(lambda: len(tab.results) == 1, timeout=WAIT)
    result = tab.results[0]
    assert [r.family for r in result.rows] == ["vae", "gan"]
    for family, path in tab.trained.items():
        assert Path(path).is_file() and load_checkpoint(path).family == family
    assert tab.table.columnCount() == 2 and len(tab.grids.images) == 2
    html = tab.export(Path(tab.trained["vae"]).parent.parent / "compare.html")
    assert html is not None and "Decision guide" in html.read_text()


def test_the_shipped_demo_models_fill_the_comparison(qtbot, tab):
    """At first launch, offline, every family's demo is one click away (all on Fashion-MNIST)."""
    from genai_engine.resources import demo_checkpoints

    demos = demo_checkpoints()
    panel = tab.models
    qtbot.mouseClick(panel.add_demos_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == len(demos) == 4
    assert [c.family for c in panel.checkpoints] == list(demos)
    assert not panel.reason.isVisible() and panel.task.run_button.isEnabled()
    assert not panel.add_demos_button.isEnabled()  # the list is full


def test_the_empty_table_says_what_will_fill_it(qtbot):
    from desktop.widgets.compare_table import CompareTable

    table = CompareTable()
    qtbot.addWidget(table)
    table.resize(700, 300)
    table.show()

    def inked_rows() -> int:
        image = table.viewport().grab().toImage()
        background = image.pixelColor(2, 2)
        return sum(any(image.pixelColor(x, y) != background for x in range(0, image.width(), 2))
                   for y in range(image.height()))

    assert inked_rows() > 8  # the sentence, centred
    table.setColumnCount(2)  # a result: columns, no sentence over them
    table.setRowCount(0)
    assert inked_rows() == 0
