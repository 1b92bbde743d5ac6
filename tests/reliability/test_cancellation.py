"""Cancel every kind of task right after it starts, start another at once: nothing hangs and
nothing is left running. Closing the main window mid-training is quick and keeps the model."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from genai_engine.checkpoints import load_checkpoint
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.training import TrainConfig, train

pytestmark = pytest.mark.timeout(180)


def _training(state, out):
    dataset = state.dataset
    config = ModelConfig(hidden=(32,), latent_dim=4, image_shape=dataset.image_shape)
    return lambda control: train(dataset, config, TrainConfig(epochs=3, batch_size=100,
                                                             device="cpu"),
                                 out_dir=out, control=control)


def _likelihood(state):
    from genai_engine.analysis.likelihood import estimate_nll

    images = state.dataset.test.images[:200]
    return lambda control: estimate_nll(state.model, images, ks=(1, 50), control=control)


def _evaluation(state):
    metrics = pytest.importorskip("genai_engine.metrics.evaluate")
    real, fake = state.dataset.test.images[:300], state.dataset.train.images[:300]
    return lambda control: metrics.evaluate(
        real, fake, device="cpu", kid=False,
        precision_recall_k=None, inception_score_splits=None, use_cache=False, control=control)


def _decode(state):
    model: VAEInference = state.model
    z = np.random.default_rng(0).standard_normal((64, model.latent_dim)).astype(np.float32)

    def work(control):
        for _ in range(20):  # a burst of slider decodes
            if not control.checkpoint():
                return
            yield model.decode(z)
    return work


KINDS = {"training": _training, "likelihood": _likelihood, "evaluation": _evaluation,
         "decode": _decode}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cancel_at_once_then_start_again(qtbot, ready_state, tmp_path, kind):
    runner = ready_state.runner
    factory = KINDS[kind]
    make = (lambda: factory(ready_state, tmp_path / "run")) if kind == "training" else (
        lambda: factory(ready_state))
    outcomes, errors = [], []
    first = runner.submit(kind, make(), on_cancelled=lambda: outcomes.append("cancelled"),
                          on_finished=lambda _r: outcomes.append("finished"),
                          on_error=errors.append)
    first.cancel()
    second = runner.submit(kind, make(), on_finished=lambda _r: outcomes.append("second"),
                           on_cancelled=lambda: outcomes.append("second-cancelled"),
                           on_error=errors.append)
    qtbot.waitUntil(lambda: first.done, timeout=30_000)
    assert not errors, errors
    assert outcomes[0] in ("cancelled", "finished")  # a task may finish before it looks
    time.sleep(0.2)
    second.cancel()  # the second one was running normally; stop it as a user would
    qtbot.waitUntil(lambda: not runner.active, timeout=60_000)
    assert not errors, errors
    assert runner.pool.waitForDone(10_000) and runner.pool.activeThreadCount() == 0
    if kind == "training" and (tmp_path / "run").exists():
        saved = sorted((tmp_path / "run").glob("*.pt"))
        for path in saved:  # whatever a cancelled run left on disk is loadable
            load_checkpoint(path)


def test_close_window_mid_training_is_quick_and_keeps_the_checkpoint(
        qtbot, app_state, settings, tiny_dataset):
    from desktop.main_window import MainWindow

    settings.confirm_close = False
    app_state.set_dataset(tiny_dataset)
    window = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(window)
    window.show()
    tab = window.train_tab
    tab.form.field("hidden").setText("32")
    tab.form.field("latent_dim").setValue(4)
    tab.form.batch_size.setValue(100)
    tab.form.epochs.setValue(200)
    steps = []
    handle = tab.start()
    assert handle is not None
    handle.signals.progress.connect(steps.append)
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=60_000)
    started = time.monotonic()
    assert window.close()
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"closing took {elapsed:.1f} s"
    assert not app_state.runner.active and app_state.runner.pool.activeThreadCount() == 0
    saved = Path(tab.last_checkpoint)
    assert saved.is_file() and load_checkpoint(saved).model_config.latent_dim == 4
