"""The shared fixtures themselves work: other desktop tests rely on them."""

from genai_engine.checkpoints import load_checkpoint


def test_tiny_dataset_shape(tiny_dataset):
    assert len(tiny_dataset.train) == 2000 and len(tiny_dataset.test) == 500
    assert tiny_dataset.image_shape == (1, 28, 28)
    assert tiny_dataset.num_classes == 10


def test_tiny_checkpoint_loads(tiny_checkpoint):
    checkpoint = load_checkpoint(tiny_checkpoint)
    assert checkpoint.epoch == 1
    assert checkpoint.model_config.latent_dim == 8


def test_ready_state_has_model(ready_state, qtbot):
    assert ready_state.model is not None and ready_state.dataset is not None
    image = ready_state.model.decode([0.0] * 8)
    assert image.shape == (28, 28, 1)
    done = []
    ready_state.runner.call("noop", lambda: 42, on_finished=done.append)
    qtbot.waitUntil(lambda: done == [42], timeout=5000)


def test_settings_are_isolated(settings, isolated_home):
    assert str(isolated_home) in settings.path
    settings.device = "cpu"
    settings.sync()
    assert (isolated_home / "settings.ini").exists()
