"""Evaluate ▸ FID per epoch through the real widgets: a run fills the table and the plot with
the engine's numbers, cancel stops it, and a checkpoint without snapshots disables it."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.tabs.evaluate_tab import EvaluateTab
from desktop.widgets.epoch_fid_panel import NO_CHECKPOINT, NO_TIMELINE
from genai_engine.analysis.timeline_fid import timeline_fid
from genai_engine.checkpoints import load_checkpoint
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.metrics.features import domain
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

EPOCHS = 3
RUN_TIMEOUT = 120_000  # the 2-core machine is shared; a run takes a few seconds alone
pytestmark = pytest.mark.skipif(not domain.default_weights_path().is_file(),
                                reason="the shipped domain network is missing")


@pytest.fixture(scope="module")
def epochs_checkpoint(tiny_dataset, tmp_path_factory):
    """A small VAE trained for three epochs: three snapshots in its timeline."""
    out = tmp_path_factory.mktemp("three-epochs")
    done = drain(train(tiny_dataset, ModelConfig(hidden=(32,), latent_dim=4,
                                                 image_shape=tiny_dataset.image_shape),
                       TrainConfig(epochs=EPOCHS, batch_size=100, device="cpu"), out_dir=out))
    return done.checkpoint


@pytest.fixture
def tab(qtbot, app_state, tiny_dataset, epochs_checkpoint):
    app_state.set_dataset(tiny_dataset)
    app_state.set_checkpoint(load_checkpoint(epochs_checkpoint))
    widget = EvaluateTab(app_state)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    widget.results_tabs.setCurrentWidget(widget.epoch_fid)
    return widget


def column(panel, index: int) -> list:
    return [panel.table.item(row, index).data(Qt.ItemDataRole.UserRole)
            for row in range(panel.table.rowCount())]


def test_fid_per_epoch_fills_the_table_and_the_plot(qtbot, tab, app_state, tiny_dataset,
                                                    tmp_path):
    panel = tab.epoch_fid
    tab.samples_spin.setValue(200)
    tab.seed_spin.setValue(3)
    button = panel.task.run_button
    assert button.isEnabled(), button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert panel.running and panel.task.cancel_button.isEnabled() and not button.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=RUN_TIMEOUT)
    result = panel.result
    assert result is not None, panel.task.message.text()
    assert "Done: 3 epochs" in panel.task.message.text() and button.isEnabled()

    engine = drain(timeline_fid(app_state.checkpoint, tiny_dataset, n=200, seed=3,
                                features="domain", device="cpu"))
    assert engine.epochs.tolist() == [1, 2, 3]
    assert column(panel, 0) == engine.epochs.tolist()
    assert column(panel, 1) == engine.fids.tolist()  # the engine's numbers, exactly
    assert column(panel, 2) == [row.kid_mean for row in engine.rows]
    assert column(panel, 3) == [200] * EPOCHS
    assert panel.table.item(1, 1).text() == f"{engine.fids[1]:.2f}"
    xs, ys = panel.curve.getData()
    assert xs.tolist() == [1, 2, 3] and np.array_equal(ys, engine.fids)
    assert not panel.empty_text.isVisible()
    assert "domain" in panel.caption.text() and "seed 3" in panel.caption.text()

    assert panel.export_button.isEnabled()
    path = panel.export_csv(str(tmp_path / "per_epoch"))
    assert path == tmp_path / "per_epoch.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert [int(line["epoch"]) for line in lines] == [1, 2, 3]
    assert [float(line["fid"]) for line in lines] == engine.fids.tolist()
    assert lines[0]["features"] == "domain" and "domain CNN" in lines[0]["features_label"]
    assert int(lines[0]["n_real"]) == len(tiny_dataset.test) and lines[0]["seed"] == "3"


def test_cancel_stops_the_run(qtbot, tab, app_state):
    panel = tab.epoch_fid
    tab.samples_spin.setValue(20_000)  # long enough to be mid-run when Cancel is pressed
    qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.task.progress.value() > 0, timeout=RUN_TIMEOUT)
    qtbot.mouseClick(panel.task.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=RUN_TIMEOUT)
    assert panel.task.message.text().startswith("Cancelled")
    assert panel.result is None and len(panel.rows) < EPOCHS
    assert panel.task.run_button.isEnabled() and not panel.task.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not app_state.runner.active, timeout=10_000)


def test_disabled_without_a_timeline(qtbot, tab, app_state, epochs_checkpoint):
    panel = tab.epoch_fid
    assert panel.task.run_button.isEnabled()
    bare = load_checkpoint(epochs_checkpoint)
    bare.raw = {k: v for k, v in bare.raw.items() if k != "timeline"}
    app_state.set_checkpoint(bare)
    button = panel.task.run_button
    assert not button.isEnabled() and button.toolTip() == NO_TIMELINE
    assert panel.start() is None and not panel.running
    assert tab.run_button.isEnabled()  # an ordinary evaluation still works


def test_disabled_without_a_checkpoint(qtbot, app_state, tiny_dataset):
    app_state.set_dataset(tiny_dataset)
    widget = EvaluateTab(app_state)
    qtbot.addWidget(widget)
    button = widget.epoch_fid.task.run_button
    assert not button.isEnabled() and button.toolTip() == NO_CHECKPOINT
