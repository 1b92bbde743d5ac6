"""The Evaluate tab through its widgets: a small domain-feature run, cancel, history, CSV, and
the path a user without the Inception weights takes."""

import csv
import json
import math

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop import evaluation_work
from desktop.tabs import evaluate_tab
from desktop.tabs.evaluate_tab import EvaluateTab
from desktop.widgets.evaluation_history import HistoryRow, save_history
from genai_engine.errors import WeightsError
from genai_engine.metrics.features.domain import default_weights_path
from genai_engine.metrics.features.inception import MISSING_MESSAGE
from genai_engine.resources import user_data_dir

RUN_TIMEOUT = 120_000  # this 2-core machine is shared; a run takes a few seconds alone


@pytest.fixture(scope="session")
def domain_weights(tiny_dataset, tmp_path_factory):
    """The shipped Fashion-MNIST network, or (until it ships) a tiny one trained here."""
    if default_weights_path().is_file():
        return None
    from genai_engine.metrics.features.domain import save_domain_network, train_domain_network
    from genai_engine.tasks import drain

    result = drain(train_domain_network(tiny_dataset.train, None, epochs=1, batch_size=250,
                                        device="cpu", dataset_name="tiny", report_every=100))
    payload = dict(result.payload)
    payload["torch_version"] = str(payload["torch_version"])  # a TorchVersion is not a plain str
    return str(save_domain_network(payload, tmp_path_factory.mktemp("domain") / "domain.pt"))


@pytest.fixture
def tab(qtbot, ready_state, domain_weights):
    widget = EvaluateTab(ready_state)
    widget.domain_weights = domain_weights
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    widget.interval_check.setChecked(False)  # the bootstrap is the slow extra; tested once
    return widget


def evaluate_now(qtbot, tab, n):
    tab.samples_spin.setValue(n)
    assert tab.run_button.isEnabled(), tab.run_button.toolTip()
    with qtbot.waitSignal(tab.finished, timeout=RUN_TIMEOUT) as done:
        qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
        assert tab.running and tab.cancel_button.isEnabled() and not tab.run_button.isEnabled()
    return done.args[0]


def cell(tab, row, column):
    model = tab.history
    return model.data(model.index(row, column))


def test_small_domain_evaluation(qtbot, tab, ready_state):
    assert "epoch 1" in tab.model_label.text()
    row = evaluate_now(qtbot, tab, 300)
    assert tab.history.rowCount() == 1 and not tab.running
    assert row.features == "domain" and "domain" in row.features_label
    assert row.n_fake == 300 and row.n_real == len(ready_state.dataset.test)
    assert row.epoch == 1 and row.model.endswith("checkpoint.pt")
    assert math.isfinite(row.fid) and row.fid > 0
    assert math.isfinite(row.kid_mean) and 0 <= row.precision <= 1 and 0 <= row.recall <= 1
    assert math.isnan(row.fid_low)  # the interval was switched off
    # The table shows it, labelled with its network, and the big number matches.
    assert cell(tab, 0, 4) == "domain"
    assert cell(tab, 0, 5) == "300"
    assert float(cell(tab, 0, 6)) == pytest.approx(row.fid, abs=0.01)
    assert tab.result_view.fid_value.text() == f"{row.fid:.2f}"
    assert "domain" in tab.result_view.fid_caption.text()
    assert "N = 300" in tab.result_view.counts_label.text()
    assert "Inception" in tab.result_view.fid_value.toolTip()  # says they do not compare
    assert not tab.result_view.warning_label.isVisible()
    assert "Done: FID" in tab.status_label.text()
    # Plotted at its epoch, and saved for the next session.
    (series,) = tab.plot.series.values()
    xs, ys = series.getData()
    assert list(xs) == [1] and ys[0] == pytest.approx(row.fid)
    saved = json.loads((user_data_dir() / evaluate_tab.HISTORY_FILE).read_text())
    assert saved["runs"][0]["fid"] == pytest.approx(row.fid)

    # Too few samples for the feature dimension: warned before and after the run.
    tab.samples_spin.setValue(100)
    assert tab.n_warning.isVisible() and "below the feature dimension (128)" in tab.n_warning.text()
    small = evaluate_now(qtbot, tab, 100)
    assert "Only 100 generated images" in small.warnings
    assert tab.result_view.warning_label.isVisible()
    assert "Only 100" in tab.result_view.warning_label.text()
    assert tab.history.rowCount() == 2
    assert len(tab.plot.series) == 2  # N=300 and N=100 are separate series: they do not compare
    tab.samples_spin.setValue(500)
    assert not tab.n_warning.isVisible()


def test_generated_images_from_a_file(qtbot, tab, tmp_path, ready_state):
    path = tmp_path / "fakes.npz"
    np.savez(path, images=ready_state.dataset.train.images[:200])
    tab.fake_box.setCurrentIndex(tab.fake_box.findData("path"))
    assert tab.fake_path.isVisible() and not tab.seed_spin.isVisible()
    tab.fake_path.setText(str(path))
    row = evaluate_now(qtbot, tab, 150)
    assert row.fake == str(path) and row.model == "—" and row.epoch is None
    assert row.n_fake == 150
    assert tab.plot.series == {}  # no epoch: listed, not plotted


def test_cancel_returns_to_idle(qtbot, tab, ready_state):
    tab.samples_spin.setValue(100_000)
    handle = tab.run()
    assert handle is not None and tab.running
    assert all(not group.isEnabled() for group in tab._inputs)
    qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.running, timeout=RUN_TIMEOUT)
    qtbot.waitUntil(lambda: not ready_state.runner.active, timeout=RUN_TIMEOUT)
    assert handle.done and handle.control.cancelled
    assert "Cancelled" in tab.status_label.text()
    assert tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert all(group.isEnabled() for group in tab._inputs)
    assert tab.progress.value() == 0 and tab.progress.maximum() == 1000
    assert tab.history.rowCount() == 0


def _row(epoch, fid, features="domain", **extra):
    values = dict(when=f"2026-01-0{epoch}T10:00:00", model="run/checkpoint.pt", epoch=epoch,
                  real="fashion-mnist (test)", fake="model samples (seed 0)", features=features,
                  features_label=f"{features} network", n_real=10000, n_fake=5000, fid=fid,
                  kid_mean=0.01 * epoch, kid_std=0.001, precision=0.5, recall=0.25,
                  seconds=3.5)
    values.update(extra)
    return HistoryRow(**values)


def test_history_loads_and_exports_csv(qtbot, ready_state, tmp_path):
    rows = [_row(1, 40.0), _row(2, 30.5, warnings="Only 100 generated images."),
            _row(3, 12.25, features="inception", inception_score=math.nan, fid_low=11.5,
                 fid_high=13.0)]
    save_history(rows, user_data_dir() / evaluate_tab.HISTORY_FILE)
    widget = EvaluateTab(ready_state)
    qtbot.addWidget(widget)
    assert widget.history.rowCount() == 3
    assert widget.result_view.fid_value.text() == "12.25"  # the newest run is shown
    assert "11.50 – 13.00" in widget.result_view.fid_interval.text()
    widget.table.selectRow(1)
    assert widget.result_view.fid_value.text() == "30.50"
    assert widget.result_view.warning_label.isVisibleTo(widget)
    assert len(widget.plot.series) == 2  # domain and Inception are never joined
    assert "Inception" in widget.plot.toolTip()

    with qtbot.waitSignal(widget.exported, timeout=5000) as done:
        path = widget.export_csv(str(tmp_path / "history"))
    assert done.args[0] is True and path == tmp_path / "history.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["epoch"] for line in lines] == ["1", "2", "3"]
    assert [float(line["fid"]) for line in lines] == [40.0, 30.5, 12.25]
    assert lines[2]["features"] == "inception" and lines[2]["inception_score"] == ""
    assert lines[1]["warnings"] == "Only 100 generated images."
    assert float(lines[0]["kid_mean"]) == pytest.approx(0.01)
    assert set(lines[0]) >= {"when", "model", "real", "features", "n_real", "n_fake", "fid",
                             "kid_mean", "kid_std", "inception_score", "precision", "recall",
                             "seconds"}

    with qtbot.waitSignal(widget.exported, timeout=5000) as done:
        widget.export_csv(str(path / "not-a-folder.csv"))
    assert done.args[0] is False and "Could not write" in widget.export_message.text()

    widget.clear_history(confirm=False)
    assert widget.history.rowCount() == 0 and widget.plot.series == {}
    assert widget.result_view.placeholder.isVisibleTo(widget.result_view)


def test_missing_inception_weights(qtbot, tab, monkeypatch):
    def missing(explicit=None):
        raise WeightsError(MISSING_MESSAGE)

    monkeypatch.setattr(evaluation_work, "find_inception_weights", missing)
    tab.features_box.setCurrentIndex(tab.features_box.findData("inception"))
    qtbot.waitUntil(tab.inception_notice.isVisible, timeout=10_000)
    assert "genai-lab weights install" in tab.inception_text.text()
    assert not tab.run_button.isEnabled()
    assert "Inception-V3 weights are missing" in tab.status_label.text()
    tab.samples_spin.setValue(1000)  # enough for the domain network, not for Inception
    assert "below the feature dimension (2,048)" in tab.n_warning.text()
    qtbot.mouseClick(tab.use_domain_button, Qt.MouseButton.LeftButton)
    assert tab.features == "domain"
    assert not tab.inception_notice.isVisible() and tab.run_button.isEnabled()
    assert not tab.n_warning.isVisible()


def test_unknown_inception_file_is_explained(qtbot, tab, tmp_path):
    bogus = tmp_path / "weights.pt"
    bogus.write_bytes(b"not inception")
    tab.features_box.setCurrentIndex(tab.features_box.findData("inception"))
    tab.choose_inception_weights(str(bogus))
    qtbot.waitUntil(lambda: "cannot be used" in tab.inception_text.text(), timeout=10_000)
    assert "not a known Inception" in tab.inception_text.text()
    assert tab.inception_notice.isVisible() and not tab.run_button.isEnabled()


def test_needs_a_model_and_data(qtbot, app_state):
    widget = EvaluateTab(app_state)
    qtbot.addWidget(widget)
    assert not widget.run_button.isEnabled()
    assert "Open a dataset" in widget.run_button.toolTip()
    assert widget.run() is None
    assert "No model open" in widget.model_label.text()


def test_latest_result_names_its_model_and_is_marked_after_a_switch(qtbot, tab, ready_state):
    """Issue 18: the result stays, labelled with the model it measured."""
    evaluate_now(qtbot, tab, 200)
    label = tab.result_view.model_label
    assert label.isVisibleTo(tab) and "checkpoint.pt, epoch 1" in label.text()
    assert "earlier" not in label.text()
    ready_state.set_model(ready_state.checkpoint.snapshot("cpu"))  # a training epoch's weights
    assert "earlier model" in label.text() and tab.history.rowCount() == 1
    assert "current weights (not saved)" in tab.model_label.text()
    ready_state.set_checkpoint(ready_state.checkpoint)  # the measured checkpoint, reopened
    assert "earlier" not in label.text()
