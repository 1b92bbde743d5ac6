"""Sampling settings described for the app (``Snapshot.sampling_fields``), and the denoising
helpers the Generate tab uses: filmstrip frames and the timed steps-vs-quality trade."""

import dataclasses

import numpy as np
import pytest
from untrained_diffusion import TIMESTEPS, untrained_diffusion
from untrained_gan import untrained_gan

from genai_engine.analysis.denoising import filmstrip_frames, steps_trade
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.families.base import StepwiseDenoiser, prior_samples


def test_families_without_settings_describe_none():
    gan = untrained_gan((1, 12, 12))
    assert gan.sampling_fields() is None and not isinstance(gan, StepwiseDenoiser)


def test_diffusion_fields_carry_form_metadata_and_round_trip():
    model = untrained_diffusion()
    assert isinstance(model, StepwiseDenoiser)
    settings = model.sampling_fields()
    meta = {f.name: f.metadata for f in dataclasses.fields(settings)}
    assert list(meta) == ["sampler", "steps", "eta", "guidance"]
    assert set(meta["sampler"]["choices"]) == {"ddim", "ddpm", "dpm++2m"}
    assert meta["guidance"]["conditional"] and all(m["help"] for m in meta.values())
    model.configure_sampling(**{**dataclasses.asdict(settings), "sampler": "dpm++2m", "steps": 7})
    assert model.sampling_fields().sampler == "dpm++2m" and model.sampling_fields().steps == 7


def test_more_steps_than_the_noise_steps_are_refused_not_cut():
    model = untrained_diffusion()
    with pytest.raises(GenAIError, match=f"at most {TIMESTEPS} steps, not {TIMESTEPS + 1}"):
        model.configure_sampling(steps=TIMESTEPS + 1)
    assert model.sampling.steps == 25
    model.configure_sampling(steps=TIMESTEPS)
    assert model.sampling.steps == TIMESTEPS


def test_autoregressive_fields_describe_its_knobs():
    family = get_family("autoregressive")
    config = family.config_type(levels=4, width=16, layers=1, heads=1, image_shape=(1, 6, 6))
    snapshot = family.snapshot(family.build(config))
    settings = snapshot.sampling_fields()
    labels = [f.metadata["label"] for f in dataclasses.fields(settings)]
    assert labels == ["Temperature", "Top-k", "Top-p"]
    snapshot.configure_sampling(**{**dataclasses.asdict(settings), "temperature": 0.5})
    assert snapshot.sampling_fields().temperature == 0.5


def test_filmstrip_frames_are_evenly_spaced_from_first_to_last():
    assert list(filmstrip_frames(26, 6)) == [0, 5, 10, 15, 20, 25]
    assert list(filmstrip_frames(3, 8)) == [0, 1, 2]  # a short film: every frame once
    with pytest.raises(GenAIError):
        filmstrip_frames(0, 4)


def test_steps_trade_samples_the_same_noise_with_each_count():
    model = untrained_diffusion()
    z = prior_samples(1, model.latent_dim, 4)[0]
    rows = list(steps_trade(model, [2, 9], z))
    assert [(r.steps, r.done, r.total) for r in rows] == [(2, 1, 2), (9, 2, 2)]
    for row in rows:
        model.configure_sampling(steps=row.steps)
        assert np.array_equal(row.image, model.decode(z)) and row.ms_per_image > 0
    assert not np.array_equal(rows[0].image, rows[1].image)
    with pytest.raises(GenAIError):
        list(steps_trade(model, [], z))
