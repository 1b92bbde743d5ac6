"""Decoding one latent point through each epoch's decoder snapshot."""

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.analysis.timeline import TimelineDecoder, decode_timeline
from genai_engine.checkpoints import load_checkpoint
from genai_engine.errors import GenAIError
from genai_engine.inference import VAEInference
from genai_engine.models import ModelConfig
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    toy = make_toy_dataset()
    out = tmp_path_factory.mktemp("timeline")
    done = drain(train(toy, ModelConfig(hidden=(32,), latent_dim=3, image_shape=toy.image_shape),
                       TrainConfig(epochs=3, batch_size=32, device="cpu"), out_dir=out))
    return load_checkpoint(done.checkpoint)


def test_one_frame_per_epoch_ending_at_the_final_model(checkpoint):
    z = np.array([0.5, -1.0, 0.2], np.float32)
    epochs, images = decode_timeline(checkpoint, z)
    assert epochs.tolist() == [1, 2, 3]
    assert images.shape == (3, 12, 12, 1) and images.dtype == np.uint8
    final = VAEInference.from_checkpoint(checkpoint).decode(z)
    # The last snapshot is the final decoder, stored in float16.
    assert np.abs(images[-1].astype(int) - final.astype(int)).max() <= 2
    assert np.abs(images[0].astype(int) - images[-1].astype(int)).mean() > 1  # training changed it


def test_decode_by_epoch_matches_decode_all_and_the_model_is_untouched(checkpoint):
    timeline = TimelineDecoder(checkpoint)
    assert len(timeline) == 3 and timeline.epochs == [1, 2, 3]
    z = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    _, frames = timeline.decode_all(z[1])
    assert np.array_equal(timeline.decode(z, epoch=2)[1], frames[1])
    assert np.array_equal(timeline.decode(z[1], epoch=1), frames[0])
    assert timeline.index_of(99) == 2 and timeline.index_of(0) == 0
    before = VAEInference.from_checkpoint(checkpoint).decode(z)
    timeline.decode(z, epoch=1)
    assert np.array_equal(VAEInference.from_checkpoint(checkpoint).decode(z), before)


def test_a_checkpoint_without_snapshots(checkpoint):
    checkpoint.raw = {k: v for k, v in checkpoint.raw.items() if k != "timeline"}
    timeline = TimelineDecoder(checkpoint)
    assert timeline.epochs == []
    with pytest.raises(GenAIError, match="snapshots"):
        timeline.decode_all(np.zeros(3, np.float32))
