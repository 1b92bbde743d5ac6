"""The Analyze tab through its widgets: likelihood, memorisation, anomalies, report export."""

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from desktop.tabs.analyze_tab import AnalyzeTab
from genai_engine.analysis.anomaly import roc_auc, typical
from genai_engine.sampling import image_grid

WAIT = 30_000


@pytest.fixture
def tab(qtbot, ready_state):
    widget = AnalyzeTab(ready_state)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


def cell(table, row, column):
    return table.item(row, column).text()


def number(text):
    return float(text.replace(",", ""))


def test_sections_and_disabled_runs_without_a_model(qtbot, app_state):
    widget = AnalyzeTab(app_state)
    qtbot.addWidget(widget)
    titles = [widget.sections.tabText(i) for i in range(widget.sections.count())]
    assert titles == ["Likelihood", "Memorisation", "Anomalies", "Report"]
    for bar in (widget.likelihood.task, widget.memorisation.task, widget.anomaly.task,
                widget.report.task):
        assert not bar.run_button.isEnabled()
        assert "model first" in bar.message.text()
    assert not widget.anomaly.compare_task.run_button.isEnabled()


def test_likelihood_shows_each_k_beside_the_elbo(qtbot, tab, ready_state):
    panel = tab.likelihood
    panel.n_spin.setValue(60)
    qtbot.mouseClick(panel.k_checks[100], Qt.MouseButton.LeftButton)  # leave k = 1 and 10
    assert panel.selected_ks() == (1, 10)
    with qtbot.waitSignal(panel.result_ready, timeout=WAIT) as blocker:
        qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.n_images == 60 and result.ks == [1, 10]
    # Table: one row per k, then the ELBO; the estimate tightens with k; k=1 sits on the ELBO.
    assert [cell(panel.table, r, 0) for r in range(3)] == ["1", "10", "−ELBO"]
    nll1, nll10, elbo = (number(cell(panel.table, r, 1)) for r in range(3))
    assert nll10 < nll1 and abs(nll1 - elbo) < 0.02 * elbo
    assert number(cell(panel.table, 1, 4)) == pytest.approx(elbo - nll10, abs=0.011)
    assert "NLL ≈" in panel.summary.text()
    assert len(panel.curve.getData()[0]) == 2 and panel.elbo_line.isVisible()
    qtbot.waitUntil(lambda: panel.task.run_button.isEnabled(), timeout=WAIT)
    # The finished estimate is offered to the report.
    assert tab.report.likelihood_check.isEnabled() and tab.report.likelihood_check.isChecked()
    # Disabling every k disables the run.
    for k in (1, 10):
        qtbot.mouseClick(panel.k_checks[k], Qt.MouseButton.LeftButton)
    assert not panel.task.run_button.isEnabled()


def test_likelihood_cancel(qtbot, tab):
    panel = tab.likelihood
    panel.n_spin.setValue(500)
    qtbot.mouseClick(panel.k_checks[1000], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    assert panel.task.cancel_button.isEnabled()
    qtbot.mouseClick(panel.task.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.task.running, timeout=WAIT)
    assert "Cancel" in panel.task.message.text()
    assert panel.result is None or (panel.result.cancelled and panel.result.n_images < 500)
    assert panel.task.run_button.isEnabled() and not tab.report.likelihood_check.isEnabled()


def test_memorisation_shows_nearest_training_images_in_each_space(qtbot, tab, ready_state):
    panel = tab.memorisation
    panel.samples_spin.setValue(4)
    panel.k_spin.setValue(3)
    with qtbot.waitSignal(panel.shown, timeout=WAIT):
        qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    result = panel.result
    assert set(result.spaces) >= {"pixel", "encoder"} and panel.space == "pixel"
    train = ready_state.dataset.train.images
    pixel = result.spaces["pixel"]
    assert len(panel.grid.rows) == 4 and all(len(row) == 4 for row in panel.grid.rows)
    # Each shown neighbour is the training image found, captioned with its distance ...
    first = panel.grid.rows[0][1]
    assert first.caption.text() == f"d = {pixel.distances[0, 0]:#.3g}"
    # ... and no training image is closer than the one shown first (brute force).
    sample = result.samples[0].astype(np.float64).ravel() / 255
    brute = np.sqrt(((train.reshape(len(train), -1) / 255 - sample) ** 2).sum(1))
    assert pixel.indices[0, 0] == int(np.argmin(brute))
    assert pixel.distances[0, 0] == pytest.approx(brute.min())
    assert "held-out test images" in panel.summary.text()
    # The space buttons switch the view without a new search.
    with qtbot.waitSignal(panel.shown, timeout=WAIT):
        qtbot.mouseClick(panel.space_buttons["encoder"], Qt.MouseButton.LeftButton)
    encoder = result.spaces["encoder"]
    assert panel.space == "encoder" and "encoder" in panel.summary.text()
    assert panel.grid.rows[0][1].caption.text() == f"d = {encoder.distances[0, 0]:#.3g}"
    assert panel.task.run_button.isEnabled()


def test_anomalies_histograms_typical_images_and_a_second_set(qtbot, tab, ready_state):
    panel = tab.anomaly
    panel.n_spin.setValue(400)
    with qtbot.waitSignal(panel.scored, timeout=WAIT) as blocker:
        qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    scored = blocker.args[0]
    assert scored.scores.shape == (400,) and np.isfinite(scored.scores).all()
    classes = len(np.unique(scored.labels))
    assert panel.class_box.count() == classes + 1 and len(panel.class_curves) == classes
    assert "Trouser" in panel.legend_label.text()
    # The most typical images shown are the lowest-scoring ones.
    most, least = typical(scored.scores, 16)
    assert np.array_equal(panel.most_view.image, image_grid(scored.images[most], 8)[..., 0])
    assert np.array_equal(panel.least_view.image, image_grid(scored.images[least], 8)[..., 0])
    # Picking a class restricts the typical images to it.
    panel.class_box.setCurrentIndex(panel.class_box.findText("Trouser"))
    trousers = np.flatnonzero(scored.labels == 1)
    most_t, _ = typical(scored.scores[trousers], 16)
    assert np.array_equal(panel.most_view.image, image_grid(scored.images[trousers[most_t]], 8)[..., 0])
    # A second set of noise images separates from the data: AUC near 1 and a ROC curve.
    panel.source_box.setCurrentIndex(panel.source_box.findData("noise"))
    assert panel.path_widget.isHidden()
    with qtbot.waitSignal(panel.compared, timeout=WAIT) as blocker:
        qtbot.mouseClick(panel.compare_task.run_button, Qt.MouseButton.LeftButton)
    auc = blocker.args[0]
    assert auc == pytest.approx(roc_auc(scored.scores, panel.foreign.scores)) and auc > 0.95
    assert re.search(r"ROC AUC: 0\.9\d\d|ROC AUC: 1\.000", panel.auc_label.text())
    fpr, tpr = panel.roc_curve.getData()
    assert fpr[0] == 0 and tpr[-1] == 1
    assert panel.foreign_curve is not None and "second set" in panel.legend_label.text()
    # Choosing a file source needs a path before it can run.
    panel.source_box.setCurrentIndex(panel.source_box.findData("file"))
    assert not panel.path_widget.isHidden() and not panel.compare_task.run_button.isEnabled()


def test_report_export_writes_a_self_contained_page(qtbot, tab, tmp_path, monkeypatch):
    panel = tab.report
    target = tmp_path / "my-run"  # the panel adds .html
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(target), "HTML report (*.html)")))
    panel.samples_spin.setValue(16)
    qtbot.keyClicks(panel.title_edit, "Tiny run")
    with qtbot.waitSignal(panel.exported, timeout=WAIT) as blocker:
        qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    path = blocker.args[0]
    assert path == str(target) + ".html"
    html = (tmp_path / "my-run.html").read_text(encoding="utf-8")
    assert "<title>Tiny run" in html and html.count("<svg") >= 3
    assert html.count("data:image/png;base64,") == 3  # samples, reconstructions, interpolation
    assert not re.search(r"https?://", html)
    qtbot.waitUntil(lambda: panel.task.run_button.isEnabled(), timeout=WAIT)
    assert panel.open_button.isEnabled() and "Wrote" in panel.task.message.text()


def another_model(state):
    """A new weight snapshot, as a training epoch delivers: not the checkpoint's."""
    state.set_model(state.checkpoint.snapshot("cpu"))


def test_results_stay_labelled_with_the_model_they_measured(qtbot, tab, ready_state):
    """Issue 18: a result of an earlier model stays on screen but says whose it is."""
    panel = tab.likelihood
    panel.n_spin.setValue(40)
    for k in (10, 100):
        qtbot.mouseClick(panel.k_checks[k], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.result_ready, timeout=WAIT):
        qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    summary = panel.summary.text()
    assert "Measured for" in panel.stamp.text() and "checkpoint.pt, epoch 1" in panel.stamp.text()
    assert not panel.stamp.stale

    another_model(ready_state)
    assert panel.summary.text() == summary and panel.table.rowCount() == 2  # k = 1 and the ELBO
    assert panel.stamp.stale and "earlier model" in panel.stamp.text()
    # The same checkpoint opened again is the measured model again.
    ready_state.set_checkpoint(ready_state.checkpoint)
    assert not panel.stamp.stale and "earlier" not in panel.stamp.text()


def test_anomaly_scores_of_an_earlier_model_stay_but_cannot_be_compared(qtbot, tab, ready_state):
    panel = tab.anomaly
    panel.n_spin.setValue(100)
    with qtbot.waitSignal(panel.scored, timeout=WAIT):
        qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    assert panel.compare_task.run_button.isEnabled() and not panel.stamp.stale
    another_model(ready_state)
    assert panel.base is not None and panel.class_curves  # still shown ...
    assert panel.stamp.stale and "earlier model" in panel.stamp.text()  # ... and marked
    assert not panel.compare_task.run_button.isEnabled()
    assert "score the images again" in panel.compare_task.message.text()


def test_memorisation_neighbours_come_from_the_searched_dataset(qtbot, tab, ready_state, tiny_dataset):
    from genai_engine.data import Dataset, ImageSet

    panel = tab.memorisation
    panel.samples_spin.setValue(2)
    panel.k_spin.setValue(2)
    with qtbot.waitSignal(panel.shown, timeout=WAIT):
        qtbot.mouseClick(panel.task.run_button, Qt.MouseButton.LeftButton)
    tips = [thumb.toolTip() for thumb in panel.grid.rows[0][1:]]
    # Dataset B: other images and other class names, same shape.
    other = ImageSet(255 - tiny_dataset.train.images, tiny_dataset.train.labels)
    ready_state.set_dataset(Dataset("other", other, tiny_dataset.test, [f"kind {i}" for i in range(10)]))
    with qtbot.waitSignal(panel.shown, timeout=WAIT):
        qtbot.mouseClick(panel.space_buttons["encoder"], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.shown, timeout=WAIT):
        qtbot.mouseClick(panel.space_buttons["pixel"], Qt.MouseButton.LeftButton)
    assert [thumb.toolTip() for thumb in panel.grid.rows[0][1:]] == tips  # A's images and names
    assert not any("kind " in tip for tip in tips)
    assert panel.stamp.stale and "fashion-mnist-tiny" in panel.stamp.text()
