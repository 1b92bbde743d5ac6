"""Decoding one latent point through each epoch's decoder snapshot."""

import dataclasses

import numpy as np
import pytest
from toy_data import make_toy_dataset

from genai_engine.analysis.timeline import TimelineDecoder, decode_timeline, filmstrip_epochs
from genai_engine.checkpoints import load_checkpoint
from genai_engine.errors import GenAIError
from genai_engine.families.base import decode_each_class
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.nets import ModelConfig
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
    bare = dataclasses.replace(checkpoint, raw={k: v for k, v in checkpoint.raw.items()
                                                if k != "timeline"})  # the fixture is shared
    timeline = TimelineDecoder(bare)
    assert timeline.epochs == []
    with pytest.raises(GenAIError, match="snapshots"):
        timeline.decode_all(np.zeros(3, np.float32))


def test_an_epoch_decoder_and_a_filmstrip_of_chosen_epochs(checkpoint):
    timeline = TimelineDecoder(checkpoint)
    assert timeline._model is None, "building a TimelineDecoder must not copy the model"
    assert timeline.final_epoch == 3
    z = np.array([0.3, 0.1, -0.7], np.float32)
    second = timeline.at(2)
    assert second.epoch == 2 and second.config is timeline.config
    assert np.array_equal(second.decode(z), timeline.decode(z, epoch=2))
    assert timeline.at(99).epoch == 3 and timeline.at(0).epoch == 1
    epochs, frames = timeline.decode_all(z, epochs=[1, 3])
    assert epochs.tolist() == [1, 3]
    assert np.array_equal(frames[1], timeline.decode(z, 3))


def test_filmstrip_epochs_keep_the_first_and_the_last():
    assert filmstrip_epochs([1, 2, 3], 12) == [1, 2, 3]
    picked = filmstrip_epochs(list(range(1, 101)), 12)
    assert len(picked) == 12 and picked[0] == 1 and picked[-1] == 100
    assert picked == sorted(set(picked))
    assert filmstrip_epochs(list(range(5, 50)), 2) == [5, 49]


def test_a_conditional_timeline_decodes_each_class(tmp_path):
    toy = make_toy_dataset(n_train=256, n_test=64)
    done = drain(train(toy, ModelConfig(hidden=(32,), latent_dim=2, image_shape=toy.image_shape,
                                        num_classes=3),
                       TrainConfig(epochs=2, batch_size=32, device="cpu"), out_dir=tmp_path))
    checkpoint = load_checkpoint(done.checkpoint)
    timeline = TimelineDecoder(checkpoint)
    z = np.array([0.4, -0.2], np.float32)
    grid = decode_each_class(timeline.at(1), z, 3)
    assert grid.shape == (3, 12, 12, 1)
    for k in range(3):
        assert np.array_equal(grid[k], timeline.decode(z, 1, labels=[k]))
    assert not np.array_equal(grid[0], grid[2]), "the class should change the decoding"
