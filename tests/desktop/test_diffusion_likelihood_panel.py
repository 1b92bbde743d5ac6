"""Analyze with a diffusion model: the Likelihood section scores its variational bound directly
(it has an encoder, DDIM inversion, but no posterior for importance weights), and the anomaly
section, which needs a VAE, says why it cannot run instead of failing."""

from __future__ import annotations

import numpy as np
import pytest
from toy_data import make_toy_dataset
from untrained_diffusion import untrained_diffusion

from desktop.tabs.analyze_tab import AnalyzeTab

WAIT = 60_000


def test_analyze_scores_the_diffusion_bound_and_explains_the_anomaly_section(qtbot, app_state):
    dataset = make_toy_dataset(n_train=32, n_test=12, size=12)
    app_state.set_dataset(dataset)
    model = untrained_diffusion()
    app_state.set_model(model)
    tab = AnalyzeTab(app_state)
    qtbot.addWidget(tab)
    likelihood, anomaly = tab.likelihood, tab.anomaly
    assert likelihood.task.run_button.isEnabled() and not likelihood.k_checks[10].isEnabled()
    assert "(bound)" in likelihood.summary.text()
    with qtbot.waitSignal(app_state.runner.task_ended, timeout=WAIT):
        likelihood.task.run_button.click()
    assert likelihood.result is None and likelihood.scored.kind == "bound"
    expected = model.nll(dataset.test.images).mean() / (144 * np.log(2))
    assert likelihood.scored.bits_per_dim == pytest.approx(expected)
    assert likelihood.table.item(0, 0).text() == "bound" and "bits/dim" in likelihood.summary.text()

    assert not anomaly.task.run_button.isEnabled()
    assert "has a likelihood (bound) but not the VAE's" in anomaly.task.message.text()
