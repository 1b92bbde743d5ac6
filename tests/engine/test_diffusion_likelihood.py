"""The diffusion model's variational bound on -log P(x): its parts against closed forms, the
estimate from a few timesteps against the full sum, and the snapshot's ``nll`` as a
``DensityModel`` that the CLI and Compare report as a bound."""

import json
import math

import numpy as np
import pytest
import torch
from toy_data import make_toy_dataset
from untrained_diffusion import untrained_diffusion

from genai_engine.analysis.compare import compare
from genai_engine.checkpoints import load_checkpoint
from genai_engine.cli import main
from genai_engine.data import load_dataset
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.families.base import DensityModel, bits_per_dim
from genai_engine.families.diffusion.config import DiffusionConfig
from genai_engine.families.diffusion.likelihood import (
    HALF_BIN,
    diffusion_term,
    discretised_gaussian_nll,
    posterior_variance,
    prior_kl,
    strata,
    variational_bound,
)
from genai_engine.families.diffusion.schedule import alphas_cumprod
from genai_engine.metrics.features import domain
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train


def as_x(images_u8: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, C) -> float64 (N, C, H, W) on the [-1, 1] grid."""
    return torch.from_numpy(images_u8.copy()).permute(0, 3, 1, 2).double() / 127.5 - 1


def generators(n: int, offset: int = 0) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(offset + i) for i in range(n)]


@pytest.mark.parametrize("mean", [-1.4, -1.0, -0.2, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("std", [1e-4, 0.005, 0.3, 5.0])
def test_the_discretised_gaussian_gives_the_256_levels_probabilities_summing_to_one(mean, std):
    levels = torch.arange(256, dtype=torch.float64).view(256, 1, 1, 1) / 127.5 - 1
    nll = discretised_gaussian_nll(levels, torch.full_like(levels, mean), std)
    assert torch.isfinite(nll).all() and (nll >= 0).all()  # far bins keep a tiny, finite mass
    assert torch.exp(-nll).sum().item() == pytest.approx(1.0, abs=1e-9)


def test_a_perfect_denoiser_pays_only_the_prior_and_the_decoders_floor():
    """Predicting the clean image exactly makes every KL term 0; the decoder still spreads a
    Gaussian of variance beta~_1 over neighbouring levels: -log(2 Phi(h / sigma) - 1) per
    pixel (Phi(h / sigma) for a pixel at 0 or 255, whose bin takes a whole tail)."""
    images = make_toy_dataset(n_train=1, n_test=6).test.images
    images[:, 0, 0, 0] = 128  # a mid-grey pixel: an interior bin beside the two end ones
    x = as_x(images)
    abar = alphas_cumprod(100, "cosine")

    def oracle(x_t, t):
        return None, x

    parts = variational_bound(oracle, abar, x, generators(len(x)), terms=None)
    assert torch.equal(parts.diffusion, torch.zeros(len(x), dtype=torch.float64))
    sigma = posterior_variance(abar, 1).sqrt()
    edge = (x.abs() == 1).double()
    one = torch.special.ndtr(HALF_BIN / sigma)
    expected = -(edge * torch.log(one) + (1 - edge) * torch.log(2 * one - 1)).flatten(1).sum(1)
    np.testing.assert_allclose(parts.decoder, expected, rtol=1e-9)
    default_sigma = posterior_variance(alphas_cumprod(1000, "cosine"), 1).sqrt()
    interior_bits = -math.log2(2 * float(torch.special.ndtr(HALF_BIN / default_sigma)) - 1)
    assert 0.6 < interior_bits < 0.8  # the floor at the default T the module docstring quotes
    np.testing.assert_allclose(parts.total, parts.prior + expected, rtol=1e-12)


def test_the_prior_term_is_the_gaussian_kl_and_about_zero_for_the_cosine_schedule():
    x = torch.linspace(-1, 1, 9, dtype=torch.float64).view(1, 1, 3, 3)
    short = torch.tensor([0.9, 0.6, 0.3], dtype=torch.float64)  # a short process: far from noise
    a = short[-1]
    reference = torch.distributions.kl_divergence(torch.distributions.Normal(a.sqrt() * x, (1 - a).sqrt()),
                                                  torch.distributions.Normal(0.0, 1.0)).sum()
    assert prior_kl(x, short).item() == pytest.approx(reference.item(), rel=1e-7) and reference > 0.5
    assert prior_kl(x, alphas_cumprod(1000, "cosine")).item() / 9 < 1e-8


def test_each_term_is_the_kl_from_the_posterior_to_the_ddpm_samplers_step():
    """L_t against the two Gaussians written out: q(x_{t-1} | x_t, x) and the step the DDPM
    sampler takes (DDIM with eta = 1: mean sqrt(abar') x0_hat + sqrt(1 - abar' - s^2) eps_hat,
    variance s^2), the network called at one level for the whole batch."""
    model = untrained_diffusion().model
    denoise = model.denoiser(None)
    abar = alphas_cumprod(model.config.timesteps, model.config.schedule)
    x = as_x(make_toy_dataset(n_train=1, n_test=4).test.images)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for t in (1, 7, 30, 59):
        a, a_prev = abar[t], abar[t - 1]
        x_t = a.sqrt() * x + (1 - a).sqrt() * noise
        with torch.inference_mode():
            eps_hat, x0_hat = (v.double() for v in denoise(x_t.float(), t))
        s2 = (1 - a_prev) / (1 - a) * (1 - a / a_prev)
        beta = 1 - a / a_prev
        q_mean = a_prev.sqrt() * beta / (1 - a) * x + (1 - beta).sqrt() * (1 - a_prev) / (1 - a) * x_t
        p_mean = a_prev.sqrt() * x0_hat + (1 - a_prev - s2).sqrt() * eps_hat
        expected = ((q_mean - p_mean) ** 2 / (2 * s2)).flatten(1).sum(1)
        with torch.inference_mode():
            got = diffusion_term(denoise, abar, x, torch.full((len(x),), t), noise)
        np.testing.assert_allclose(got, expected, rtol=2e-3)
        assert (got > 0).all()


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_the_denoiser_takes_one_level_per_image_as_the_samplers_one_per_batch(prediction):
    family = get_family("diffusion")
    torch.manual_seed(0)
    model = family.build(DiffusionConfig(width=8, levels=2, timesteps=60, prediction=prediction,
                                         image_shape=(1, 12, 12)))
    with torch.no_grad():
        for p in model.ema.parameters():
            p.add_(0.3 * torch.randn_like(p))
    denoise = model.denoiser(None)
    x = torch.randn(3, 1, 12, 12, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        eps, x0 = denoise(x, torch.tensor([0, 30, 59]))
        for i, t in enumerate((0, 30, 59)):
            eps_t, x0_t = denoise(x[i:i + 1], t)
            np.testing.assert_allclose(eps[i:i + 1], eps_t, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(x0[i:i + 1], x0_t, rtol=1e-4, atol=1e-5)


def test_a_few_timesteps_estimate_the_full_sum_without_bias():
    """Many draws of a 3-timestep estimate average to the sum over all 19 terms (each image has
    its own noise draws, so both are averages over the same noise distribution)."""
    family = get_family("diffusion")
    torch.manual_seed(0)
    model = family.build(DiffusionConfig(width=8, levels=1, timesteps=20, attention=False,
                                         image_shape=(1, 8, 8)))
    with torch.no_grad():  # random weights where training starts from zeros: t matters
        for p in model.ema.parameters():
            p.add_(0.3 * torch.randn_like(p))
    denoise = model.denoiser(None)
    abar = alphas_cumprod(20, "cosine")
    image = make_toy_dataset(n_train=1, n_test=1, size=8).test.images
    with torch.inference_mode():
        full = variational_bound(denoise, abar, as_x(np.repeat(image, 100, 0)), generators(100),
                                 terms=None).diffusion.numpy()
        few = variational_bound(denoise, abar, as_x(np.repeat(image, 600, 0)), generators(600, 10_000),
                                terms=3).diffusion.numpy()
        everything = variational_bound(denoise, abar, as_x(np.repeat(image, 3, 0)), generators(3),
                                       terms=10_000)
    error = math.hypot(full.std() / math.sqrt(len(full)), few.std() / math.sqrt(len(few)))
    assert abs(full.mean() - few.mean()) < 4 * error < 0.2 * full.mean()
    assert few.std() > 2 * full.std()  # the estimate is noisier per image: it is not the full sum
    np.testing.assert_allclose(everything.diffusion, full[:3], rtol=1e-6)  # more terms than T - 1: all


@pytest.mark.parametrize("timesteps", [2, 3, 20, 60, 1000])
def test_the_strata_cover_every_level_once_and_single_out_the_first(timesteps):
    for terms in sorted({1, 2, 3, 24, max(1, timesteps - 2), timesteps - 1, timesteps + 5}):
        edges = strata(terms, timesteps)
        assert len(edges) == min(terms, timesteps - 1) + 1 and edges[0] == 1 and edges[-1] == timesteps
        assert np.all(np.diff(edges) >= 1)
    if timesteps == 1000:  # the largest terms, at the first levels, are never left to chance
        np.testing.assert_array_equal(strata(24, 1000)[:8], np.arange(1, 9))


def test_the_snapshot_is_a_density_model_whose_bound_is_repeatable_and_above_the_floor():
    dataset = make_toy_dataset(n_train=1, n_test=12)
    family = get_family("diffusion")
    torch.manual_seed(0)
    snapshot = family.snapshot(family.build(DiffusionConfig(width=8, levels=2, timesteps=60,
                                                            image_shape=(1, 12, 12))))
    assert isinstance(snapshot, DensityModel) and snapshot.likelihood_kind == "bound"
    images = dataset.test.images
    nll = snapshot.nll(images)
    assert nll.shape == (12,) and nll.dtype == np.float64
    np.testing.assert_allclose(snapshot.nll(images[::-1], batch_size=5)[::-1], nll, rtol=1e-6)
    bits = bits_per_dim(nll, snapshot.config.image_shape)
    assert np.all((bits > 0) & (bits < 16))
    abar = alphas_cumprod(60, "cosine")

    def oracle(x_t, t):
        return None, as_x(images)

    floor = variational_bound(oracle, abar, as_x(images), generators(12), terms=None).total.numpy()
    assert np.all(nll > floor)  # a network that has learned nothing pays for it
    snapshot.bound_terms = None
    assert snapshot.nll(images).mean() == pytest.approx(nll.mean(), rel=0.3)
    for bad in (0, -3, 2.5, True, "all"):
        with pytest.raises(GenAIError, match="at least 1") as error:
            snapshot.bound_terms = bad
        assert "\n" not in str(error.value)


def test_the_cli_scores_a_diffusion_checkpoint_as_a_bound(tmp_path, capsys):
    toy = make_toy_dataset(n_train=64, n_test=16)
    config = DiffusionConfig.for_images(toy.image_shape, width=8, levels=2, timesteps=50)
    drain(train(toy, config, TrainConfig(epochs=1, batch_size=32, device="cpu"), family="diffusion",
                out_dir=tmp_path))
    np.savez(tmp_path / "toy.npz", images=toy.train.images, labels=toy.train.labels,
             test_images=toy.test.images, test_labels=toy.test.labels)
    common = ["likelihood", "--checkpoint", str(tmp_path / "checkpoint.pt"), "--dataset",
              str(tmp_path / "toy.npz"), "--n", "8"]
    assert main([*common, "--terms", "all", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["kind"] == "bound" and result["n_images"] == 8 and "upper bound" in captured.err
    assert result["bits_per_dim"] == pytest.approx(result["nll"] / (144 * math.log(2)))
    assert 0 < result["bits_per_dim"] < 16
    assert main([*common, "--terms", "0"]) == 2
    assert "--terms must be" in capsys.readouterr().err


def test_compare_shows_the_bound_in_bits_per_dim(tmp_path):
    if not domain.default_weights_path().is_file():
        pytest.skip("the shipped domain network is missing")
    full = load_dataset("fashion-mnist")
    np.savez(tmp_path / "slice.npz", images=full.train.images[:128, ..., 0], labels=full.train.labels[:128],
             test_images=full.test.images[:16, ..., 0], test_labels=full.test.labels[:16])
    data = load_dataset(tmp_path / "slice.npz")
    config = DiffusionConfig.for_images(data.image_shape, width=8, levels=2, timesteps=50)
    drain(train(data, config, TrainConfig(epochs=1, batch_size=128, device="cpu"), family="diffusion",
                out_dir=tmp_path))
    result = drain(compare([tmp_path / "checkpoint.pt"], data, n=16, device="cpu", inception=False))
    row = result.rows[0]
    assert row.likelihood_kind == "bound"
    assert "an upper bound on -log p(x) of 16 test images" in row.likelihood_note
    snapshot = load_checkpoint(tmp_path / "checkpoint.pt").snapshot("cpu")
    expected = bits_per_dim(snapshot.nll(data.test.images).mean(), data.image_shape)
    assert row.bits_per_dim == pytest.approx(expected) and 0 < expected < 16
