"""What the GAN family measures after each epoch: the discriminator on held-out images, the
mode-collapse monitor and the sensitivity of the generator to each latent dimension.

Cheap on purpose (a fraction of a second for Fashion-MNIST on a CPU): 1,000 samples from fixed
noise (the same latents every epoch, so the curves show the model changing, not the noise),
a 1,000-image slice of the test split and 16 latents for the sensitivity.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from genai_engine.errors import GenAIError
from genai_engine.families.base import EpochMeasure, prior_samples
from genai_engine.families.gan.losses import discriminator_loss
from genai_engine.families.gan.nets import GAN
from genai_engine.tensors import to_uint8_images, to_unit

SAMPLES = 1000
TEST_SLICE = 1000
SAMPLE_SEED = 1_000_003
SENSITIVITY_LATENTS = 16
SENSITIVITY_STEP = 0.5  # in units of the prior's standard deviation
CHUNK = 1024  # images per generator call


@functools.cache
def domain_network(image_shape: tuple[int, int, int]):
    """The shipped domain classifier when it is installed and fits images of ``image_shape``
    (C, H, W); else None. Loaded once per process."""
    from genai_engine.metrics.features.domain import load_domain_network

    c, h, w = image_shape
    try:
        network = load_domain_network(device="cpu")
        network.check_images((1, h, w, c))
    except GenAIError:
        return None
    return network


def _decode(model: GAN, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    parts = [model.decode_images(z[s:s + CHUNK], None if labels is None else labels[s:s + CHUNK])
             for s in range(0, len(z), CHUNK)]
    return torch.cat(parts)


def latent_sensitivity(model: GAN, device) -> np.ndarray:
    """Mean |change of a pixel| (in [0, 1]) when one latent dimension moves by half a standard
    deviation, over a fixed batch of latents: (D,), the order of Explore's sliders."""
    config = model.config
    d, n = config.latent_dim, SENSITIVITY_LATENTS
    z = torch.from_numpy(prior_samples(n, d, SAMPLE_SEED + 1)).to(device)
    labels = torch.arange(n, device=device) % config.num_classes if config.num_classes else None
    base = model.decode_images(z, labels)
    moved = (z.unsqueeze(0) + SENSITIVITY_STEP * torch.eye(d, device=device).unsqueeze(1)).reshape(d * n, d)
    out = _decode(model, moved, None if labels is None else labels.repeat(d))
    return (out.view(d, n, -1) - base.view(1, n, -1)).abs().mean((1, 2)).double().cpu().numpy()


def _mean_distance(rows: torch.Tensor) -> float:
    n = rows.shape[0]
    return float(torch.cdist(rows, rows).sum() / max(n * (n - 1), 1))


def mode_collapse(fake_u8: np.ndarray, real_u8: np.ndarray) -> tuple[dict, dict]:
    """(metrics, diagnostics) of the mode-collapse monitor.

    ``diversity``: mean pairwise distance between samples divided by the same on the test slice
    (1 = as varied as real images; it falls as modes collapse), measured in the domain
    classifier's feature space when the classifier fits the images, else in pixels.
    With the classifier: ``class_histogram`` (share of samples per class it predicts) and
    ``coverage``, the fraction of classes that get at least a quarter of a fair share."""
    _, h, w, c = fake_u8.shape
    network = domain_network((c, h, w))
    if network is None:
        fake = torch.from_numpy(fake_u8.reshape(len(fake_u8), -1)).float() / 255
        real = torch.from_numpy(real_u8.reshape(len(real_u8), -1)).float() / 255
        return {"diversity": _mean_distance(fake) / max(_mean_distance(real), 1e-12)}, {}
    fake_features, logits = network.extract(fake_u8)
    real_features, _ = network.extract(real_u8)
    k = network.num_classes
    histogram = np.bincount(logits.argmax(1), minlength=k) / len(fake_u8)
    diversity = (_mean_distance(torch.from_numpy(fake_features))
                 / max(_mean_distance(torch.from_numpy(real_features)), 1e-12))
    metrics = {"coverage": float((histogram >= 1 / (4 * k)).mean()), "diversity": diversity}
    return metrics, {"class_histogram": histogram}


@torch.inference_mode()
def measure_gan(model: GAN, test_x: torch.Tensor, test_y: torch.Tensor | None) -> EpochMeasure:
    """Test metrics ``loss_d`` (on as many test images as samples, without the gradient
    penalty), ``d_real`` (mean D on the test slice), ``d_fake`` (on the samples), the
    mode-collapse monitor, and ``latent_importance``. D runs in eval mode (running statistics)."""
    config = model.config
    device = test_x.device
    was_training = model.training
    model.eval()
    try:
        z = torch.from_numpy(prior_samples(SAMPLES, config.latent_dim, SAMPLE_SEED)).to(device)
        labels = torch.arange(SAMPLES, device=device) % config.num_classes if config.num_classes else None
        fake = _decode(model, z, labels)
        real_u8 = test_x[:TEST_SLICE]
        real_y = None if test_y is None else test_y[:TEST_SLICE]
        score_real = model.discriminator(to_unit(real_u8) * 2 - 1, real_y)
        score_fake = model.discriminator(fake * 2 - 1, labels)
        m = min(len(score_real), len(score_fake))
        loss_d = float(discriminator_loss(config.loss, score_real[:m], score_fake[:m]).mean())
        if config.loss == "ns":
            score_real, score_fake = torch.sigmoid(score_real), torch.sigmoid(score_fake)
        metrics = {"loss_d": loss_d, "d_real": float(score_real.mean()), "d_fake": float(score_fake.mean())}
        collapse, diagnostics = mode_collapse(to_uint8_images(fake), to_uint8_images(to_unit(real_u8)))
        diagnostics["latent_importance"] = latent_sensitivity(model, device)
    finally:
        model.train(was_training)
    return EpochMeasure({**metrics, **collapse}, diagnostics)
