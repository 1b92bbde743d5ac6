import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genai_engine.errors import GenAIError
from genai_engine.families.vae.losses import kl_per_dim, negative_elbo, reconstruction_nll
from genai_engine.families.vae.nets import ModelConfig, build_model, parse_hidden, reparameterize


def test_negative_elbo_matches_hand_computation():
    x = torch.tensor([[[[0.0, 1.0], [0.5, 0.25]]]])
    logits = torch.tensor([[[[0.3, -1.2], [2.0, 0.0]]]])
    mu = torch.tensor([[0.5, -1.0]])
    logvar = torch.tensor([[0.0, math.log(0.25)]])
    p = 1 / (1 + np.exp(-np.array([0.3, -1.2, 2.0, 0.0])))
    xs = np.array([0.0, 1.0, 0.5, 0.25])
    bce = -np.sum(xs * np.log(p) + (1 - xs) * np.log(1 - p))
    kl = 0.5 * ((0.25 + 1 - 1 - 0) + (1.0 + 0.25 - 1 - math.log(0.25)))
    objective, recon, kl_t = negative_elbo(logits, x, mu, logvar, beta=1.0)
    assert float(recon) == pytest.approx(bce, rel=1e-6)
    assert float(kl_t) == pytest.approx(kl, rel=1e-6)
    assert float(objective) == pytest.approx(bce + kl, rel=1e-6)
    beta_objective, _, _ = negative_elbo(logits, x, mu, logvar, beta=4.0)
    assert float(beta_objective) == pytest.approx(bce + 4 * kl, rel=1e-6)


def test_gaussian_likelihood_is_the_gaussian_nll():
    x = torch.rand(3, 1, 4, 4)
    logits = torch.randn(3, 1, 4, 4)
    log_sigma = torch.full((1, 4, 4), math.log(0.2))
    mean = torch.sigmoid(logits)
    expected = -torch.distributions.Normal(mean, 0.2).log_prob(x).flatten(1).sum(1)
    got = reconstruction_nll(logits, x, "gaussian", log_sigma)
    assert torch.allclose(got, expected, atol=1e-4)


def test_kl_is_zero_only_at_the_prior():
    assert float(kl_per_dim(torch.zeros(1, 3), torch.zeros(1, 3)).sum()) == 0.0
    assert float(kl_per_dim(torch.ones(1, 3), torch.zeros(1, 3)).sum()) == pytest.approx(1.5)


def test_reparameterisation_has_the_right_moments_and_gradients():
    torch.manual_seed(0)
    mu = torch.full((200_000, 1), 2.0, requires_grad=True)
    logvar = torch.full((200_000, 1), math.log(9.0), requires_grad=True)
    z = reparameterize(mu, logvar)
    assert float(z.detach().mean()) == pytest.approx(2.0, abs=0.03)
    assert float(z.detach().std()) == pytest.approx(3.0, abs=0.03)
    z.sum().backward()
    assert torch.all(mu.grad == 1.0)
    assert logvar.grad is not None and float(logvar.grad.abs().sum()) > 0


@pytest.mark.parametrize("kind,hidden,shape", [
    ("mlp", (400,), (1, 28, 28)),
    ("mlp", (64, 32), (3, 10, 10)),
    ("conv", (16, 32), (1, 28, 28)),
    ("conv", (8, 16, 16), (3, 33, 17)),  # odd sizes are restored exactly
])
@pytest.mark.parametrize("classes", [0, 4])
def test_models_round_trip_shapes(kind, hidden, shape, classes):
    model = build_model(ModelConfig(kind=kind, hidden=hidden, latent_dim=5, image_shape=shape,
                                    num_classes=classes))
    x = torch.rand(3, *shape)
    labels = torch.tensor([0, 1, 3]) if classes else None
    logits, mu, logvar = model(x, labels)
    assert logits.shape == x.shape
    assert mu.shape == logvar.shape == (3, 5)


def test_conditional_decoder_uses_the_label():
    model = build_model(ModelConfig(hidden=(32,), latent_dim=4, image_shape=(1, 6, 6), num_classes=3))
    z = torch.zeros(1, 4)
    assert not torch.allclose(model.decode(z, torch.tensor([0])), model.decode(z, torch.tensor([2])))


@pytest.mark.parametrize("bad", [
    dict(kind="rnn"), dict(latent_dim=1), dict(latent_dim=257), dict(likelihood="poisson"),
    dict(hidden=(0,)),
])
def test_bad_model_settings_are_refused(bad):
    with pytest.raises(GenAIError):
        ModelConfig(**bad)


def test_parse_hidden():
    assert parse_hidden("400") == (400,)
    assert parse_hidden("512, 256") == (512, 256)
    for bad in ("", "abc", "4.5"):
        with pytest.raises(GenAIError):
            parse_hidden(bad)


def test_bce_with_logits_equals_the_classic_sigmoid_bce():
    logits, x = torch.randn(4, 1, 5, 5), torch.rand(4, 1, 5, 5)
    classic = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(1)
    assert torch.allclose(reconstruction_nll(logits, x, "bernoulli"), classic, atol=1e-4)
