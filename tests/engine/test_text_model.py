"""The autoregressive family as a character model: training, exact resume, the text snapshot."""

import math

import numpy as np
import pytest
import torch
from toy_data import make_toy_text

from genai_engine.checkpoints import load_checkpoint
from genai_engine.data.text import text_dataset
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.families.autoregressive.config import ARConfig
from genai_engine.families.base import (
    DensityModel,
    GenerativeModel,
    LatentDecoder,
    StepwiseSampler,
    TextGenerator,
    capabilities,
)
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

FAMILY = get_family("autoregressive")
SETTINGS = dict(batch_size=16, epoch_images=160, lr=1e-2, schedule="constant", device="cpu")


@pytest.fixture(scope="module")
def corpus():
    return text_dataset("toy", make_toy_text(), "toy", context=16)


def tiny_config(dataset, **changes) -> ARConfig:
    return ARConfig(**{"width": 16, "layers": 1, "heads": 2, "image_shape": dataset.image_shape,
                       "vocabulary": dataset.vocabulary, **changes})


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """A tiny character model after two short epochs (100 steps, a second or two), and its checkpoint."""
    run = tmp_path_factory.mktemp("text_run")
    settings = TrainConfig(epochs=2, **{**SETTINGS, "epoch_images": 800})
    done = drain(train(corpus, tiny_config(corpus, width=32), settings, family=FAMILY.name, out_dir=run))
    return done, load_checkpoint(done.checkpoint)


def test_the_config_of_a_corpus_is_a_character_model(corpus):
    config = FAMILY.default_config(corpus)
    assert config.is_text and config.levels == len(corpus.vocabulary) and config.tokens == 16
    assert ARConfig.from_dict(config.to_dict()) == config
    assert ARConfig.__dataclass_fields__["vocabulary"].metadata["hidden"]
    assert "21 characters, context 16" in FAMILY.describe(config)
    with pytest.raises(GenAIError, match="must not repeat"):
        ARConfig(image_shape=(1, 1, 16), vocabulary="abca")
    with pytest.raises(GenAIError, match="--context"):
        ARConfig(image_shape=(1, 1, 5000), vocabulary="ab")


def test_training_reports_bits_per_char_and_ids_are_read_exactly(trained, corpus):
    done, checkpoint = trained
    uniform = math.log2(len(corpus.vocabulary))
    assert "test_bits_per_dim" not in done.history
    assert done.history["test_bits_per_char"][1] < 0.6 * uniform  # far below uniform guessing
    bits = done.history["test_bits_per_char"][1]
    assert done.history["test_loss"][1] == pytest.approx(bits * 16 * math.log(2))
    model = checkpoint.model
    x = torch.from_numpy(np.array(corpus.train.images[:4])).permute(0, 3, 1, 2).float() / 255
    assert np.array_equal(model.to_tokens(x).numpy(), corpus.train.images[:4, 0, :, 0])
    assert FAMILY.preview(model, x, None).shape[0] == 0  # no images to show while training


def test_training_resumes_exactly(corpus, tmp_path):
    config = tiny_config(corpus)
    straight = drain(train(corpus, config, TrainConfig(epochs=2, **SETTINGS), family=FAMILY.name))
    first = drain(train(corpus, config, TrainConfig(epochs=1, **SETTINGS), family=FAMILY.name,
                        out_dir=tmp_path))
    resumed = drain(train(corpus, None, TrainConfig(epochs=2, **SETTINGS),
                          resume=load_checkpoint(first.checkpoint)))
    assert resumed.history["test_bits_per_char"] == straight.history["test_bits_per_char"]


def test_a_text_snapshot_generates_text_and_is_no_image_model(trained):
    _, checkpoint = trained
    snapshot = checkpoint.snapshot()
    assert isinstance(snapshot, TextGenerator) and capabilities(snapshot)["text"]
    for image_capability in (GenerativeModel, LatentDecoder, DensityModel, StepwiseSampler):
        assert not isinstance(snapshot, image_capability)
    assert snapshot.vocabulary == checkpoint.model_config.vocabulary and snapshot.context == 16
    assert snapshot.likelihood_kind == "exact"


def test_cached_generation_writes_the_same_text_as_the_naive_method_beyond_the_window(trained):
    snapshot = trained[1].snapshot()
    knobs = dict(temperature=0.9, top_p=0.95, seed=3)
    cached = "".join(snapshot.generate("the cat", 60, **knobs))  # 67 characters: 5 window hops of 8
    assert cached == "".join(snapshot.generate("the cat", 60, use_cache=False, **knobs))
    assert len(cached) == 60 and set(cached) <= set(snapshot.vocabulary)
    assert cached != "".join(snapshot.generate("the cat", 60, **{**knobs, "seed": 4}))
    assert "on the" in cached  # the toy corpus's words, after a second of training


def test_next_distribution_before_and_after_the_knobs(trained):
    snapshot = trained[1].snapshot()
    characters, before, after = snapshot.next_distribution("the cat sat on th", top_k=3)
    assert characters == list(snapshot.vocabulary) and before.sum() == pytest.approx(1, abs=1e-9)
    assert after.sum() == pytest.approx(1, abs=1e-9) and np.count_nonzero(after) == 3
    assert set(np.flatnonzero(after)) == set(np.argsort(before)[-3:])  # the three likeliest stay
    assert characters[int(np.argmax(before))] == "e"
    _, _, greedy = snapshot.next_distribution("the cat sat on th", temperature=0)
    assert greedy.max() == 1 and characters[int(np.argmax(greedy))] == "e"
    with pytest.raises(GenAIError, match="top-p"):
        snapshot.next_distribution("the", top_p=0)


def test_bits_per_char_follows_the_window_rule_of_generation(trained):
    """Scoring a text in one call equals adding up the next-character probabilities of every
    prefix, across several hops of the window."""
    snapshot = trained[1].snapshot()
    text = "the cat sat on the mat.\na dog ran on the tre"  # 44 characters, context 16
    nats = [-math.log(snapshot.next_distribution(text[:t])[1][snapshot.vocabulary.index(text[t])])
            for t in range(len(text))]
    assert snapshot.bits_per_char(text) == pytest.approx(sum(nats) / (len(text) * math.log(2)), rel=1e-6)


def test_prompt_characters_outside_the_vocabulary_are_refused_at_once(trained):
    snapshot = trained[1].snapshot()
    with pytest.raises(GenAIError, match=r"the prompt holds characters this model never learned: 'Q'"):
        snapshot.generate("Quite", 10)
    with pytest.raises(GenAIError, match="the length must be"):
        snapshot.generate("the", -1)
