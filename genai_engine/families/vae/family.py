"""The VAE family: config, training step, per-epoch measure and CLI options."""

from __future__ import annotations

import argparse

import numpy as np
import torch

from genai_engine.distributed import SINGLE, DistContext
from genai_engine.families.base import Batch, EpochMeasure, Family, TrainingStep, adam, distributed
from genai_engine.families.vae.inference import VAEInference
from genai_engine.families.vae.losses import kl_per_dim, negative_elbo
from genai_engine.families.vae.nets import LATENT_RANGE, VAE, ModelConfig, build_model, parse_hidden
from genai_engine.tensors import to_uint8_images, to_unit

EVAL_BATCH = 1000


class VAEStep(TrainingStep):
    """The negative ELBO (beta-weighted KL) with one Adam optimizer."""

    def __init__(self, model: VAE, train_config, device: torch.device, dist: DistContext) -> None:
        self.model = model
        self.net = distributed(model, device, dist)
        self.optimizers = [adam(model.parameters(), train_config.lr, device)]
        self.beta = float(train_config.beta)

    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]:
        logits, mu, logvar = self.net(batch.x, batch.y)
        objective, recon, kl = negative_elbo(logits, batch.x, mu, logvar, self.model.config.likelihood,
                                             getattr(self.model, "log_sigma", None), self.beta)
        optimizer = self.optimizers[0]
        optimizer.zero_grad(set_to_none=True)
        (objective / len(batch.x)).backward()  # DDP averages over ranks: the global-batch mean
        optimizer.step()
        return {"loss": recon + kl, "recon": recon, "kl": kl}


@torch.inference_mode()
def evaluate_elbo(model: VAE, images: torch.Tensor, labels: torch.Tensor | None,
                  dist: DistContext = SINGLE) -> dict:
    """Negative ELBO (beta = 1) on a whole split, in nats per image, and KL per dimension.

    Under torchrun each rank evaluates every ``world_size``-th image and the sums are added.
    """
    was_training = model.training
    model.eval()
    n = len(images)
    if dist.enabled:
        images = images[dist.rank::dist.world_size]
        labels = None if labels is None else labels[dist.rank::dist.world_size]
    sums = torch.zeros(model.config.latent_dim + 1, dtype=torch.float64)  # KL per dim, recon
    for start in range(0, len(images), EVAL_BATCH):
        x = to_unit(images[start:start + EVAL_BATCH])
        y = None if labels is None else labels[start:start + EVAL_BATCH]
        logits, mu, logvar = model(x, y)
        _, recon, _ = negative_elbo(logits, x, mu, logvar, model.config.likelihood,
                                    getattr(model, "log_sigma", None))
        sums[-1] += float(recon)
        sums[:-1] += kl_per_dim(mu, logvar).sum(0).double().cpu()
    model.train(was_training)
    if dist.enabled:
        device_sums = dist.all_reduce_sum(sums.to(next(model.parameters()).device))
        sums = device_sums.cpu()
    sums /= max(n, 1)
    kl_dims, recon = sums[:-1], float(sums[-1])
    kl = float(kl_dims.sum())
    return {"loss": recon + kl, "recon": recon, "kl": kl, "kl_per_dim": kl_dims.numpy()}


class VAEFamily(Family):
    name = "vae"
    title = "Variational autoencoder"
    config_type = ModelConfig
    snapshot_type = VAEInference
    loss_unit = "nats/image"
    preview_kind = "reconstructions"

    def build(self, config: ModelConfig) -> VAE:
        return build_model(config)

    def training_step(self, model, train_config, device, dist) -> VAEStep:
        return VAEStep(model, train_config, device, dist)

    def measure(self, model, test_x, test_y, dist) -> EpochMeasure:
        test = evaluate_elbo(model, test_x, test_y, dist)
        # KL per dimension says which latent dimensions the decoder uses: the sliders' order.
        return EpochMeasure({k: test[k] for k in ("loss", "recon", "kl")},
                            {"latent_importance": test["kl_per_dim"]})

    @torch.inference_mode()
    def preview(self, model: VAE, x_u8, y) -> np.ndarray:
        """k test images, then their reconstructions."""
        was_training = model.training
        model.eval()
        x = to_unit(x_u8)
        mu, _ = model.encode(x, y)
        recon = model.decode_images(mu, y)
        model.train(was_training)
        return np.concatenate([to_uint8_images(x), to_uint8_images(recon)])

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("VAE (--family vae)")
        group.add_argument("--model", choices=("mlp", "conv"), default="mlp",
                           help="encoder and decoder: fully connected (mlp) or convolutional (conv)")
        group.add_argument("--hidden", default=None,
                           help="hidden widths, e.g. 400 or 512,256 (conv: channels, default 32,64)")
        group.add_argument("--latent-dim", type=int, default=None,  # GAN shares it: default per family
                           help=f"latent dimensions ({LATENT_RANGE[0]}..{LATENT_RANGE[1]}; VAE default "
                           f"{ModelConfig.latent_dim})")
        group.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli",
                           help="the decoder's distribution of a pixel value")

    def config_from_args(self, args, dataset) -> ModelConfig:
        hidden = args.hidden or ("32,64" if args.model == "conv" else "400")
        return ModelConfig(kind=args.model, hidden=parse_hidden(hidden),
                           latent_dim=args.latent_dim or ModelConfig.latent_dim,
                           likelihood=args.likelihood, image_shape=dataset.image_shape,
                           num_classes=dataset.num_classes if args.conditional else 0)

    def describe(self, config: ModelConfig) -> str:
        return f"{config.kind.upper()} VAE, latent {config.latent_dim}"
