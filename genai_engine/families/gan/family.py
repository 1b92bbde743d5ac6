"""The GAN family: training step (two optimizers, an EMA), per-epoch measure, CLI options."""

from __future__ import annotations

import argparse

import numpy as np
import torch

from genai_engine.families.base import (
    Batch,
    EpochMeasure,
    Family,
    TrainingStep,
    adam,
    distributed,
    prior_samples,
)
from genai_engine.families.gan.config import LATENT_RANGE, LOSS_NAMES, GANConfig
from genai_engine.families.gan.inference import GANInference
from genai_engine.families.gan.losses import discriminator_loss, generator_loss, gradient_penalty
from genai_engine.families.gan.monitor import measure_gan
from genai_engine.families.gan.nets import GAN
from genai_engine.families.vae.nets import ModelConfig as VAEConfig
from genai_engine.tensors import to_uint8_images

ADAM_BETAS = (0.5, 0.999)  # DCGAN's: a short momentum memory suits a moving target
PREVIEW_TILES = 16
PREVIEW_SEED = 20_140_610  # the fixed noise of the preview grid
# The discriminator "wins outright" when it tells real from fake almost perfectly for this many
# reports in a row (about 10 s of training at the trainer's 5 reports a second).
WIN_STREAK = 50
EXPLODED = 1e6  # a per-image loss or score beyond this is a blow-up, not training


class GANStep(TrainingStep):
    """``d_steps`` discriminator updates, then one generator update (Adam, betas 0.5/0.999).

    Returned metrics are sums over the batch: ``loss_g``, ``loss_d`` (gradient penalty
    included) and the mean scores ``d_real`` = D(x), ``d_fake`` = D(G(z)) of the last D step,
    as probabilities for the ns loss (sigmoid of the logit), as raw scores for hinge and
    wgan-gp (whose critics do not output probabilities)."""

    def __init__(self, model: GAN, train_config, device: torch.device, dist) -> None:
        self.model = model
        self.net_g = distributed(model.generator, device, dist)
        self.net_d = distributed(model.discriminator, device, dist)
        self.opt_g = adam(model.generator.parameters(), train_config.lr, device, ADAM_BETAS)
        self.opt_d = adam(model.discriminator.parameters(), train_config.lr, device, ADAM_BETAS)
        self.optimizers = [self.opt_g, self.opt_d]
        self.streak = 0  # consecutive reports in which D won outright

    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]:
        config = self.model.config
        real = batch.x * 2.0 - 1.0  # G's tanh range
        n = real.shape[0]
        for i in range(config.d_steps):
            z = torch.randn(n, config.latent_dim, device=real.device)
            last = i == config.d_steps - 1
            with torch.set_grad_enabled(last):  # the last fakes are reused for G's step, as DCGAN does
                fake = self.net_g(z, batch.y)
            score_real = self.net_d(real, batch.y)
            score_fake = self.net_d(fake.detach(), batch.y)
            loss_d = discriminator_loss(config.loss, score_real, score_fake)
            if config.loss == "wgan-gp":
                loss_d = loss_d + gradient_penalty(self.net_d, real, fake.detach(), batch.y)
            loss_d = loss_d.sum()
            self.opt_d.zero_grad(set_to_none=True)
            (loss_d / n).backward()  # DDP averages over ranks: the global-batch mean
            self.opt_d.step()
        loss_g = generator_loss(config.loss, self.net_d(fake, batch.y)).sum()
        self.opt_g.zero_grad(set_to_none=True)
        (loss_g / n).backward()  # also fills D's gradients; D's next step clears them first
        self.opt_g.step()
        self.model.update_ema()
        real_out, fake_out = score_real.detach(), score_fake.detach()
        if config.loss == "ns":
            real_out, fake_out = torch.sigmoid(real_out), torch.sigmoid(fake_out)
        return {"loss_g": loss_g.detach(), "loss_d": loss_d.detach(),
                "d_real": real_out.sum(), "d_fake": fake_out.sum()}

    def health(self, metrics: dict[str, float]) -> str | None:
        wild = [name for name, value in metrics.items() if abs(value) > EXPLODED]
        if wild:
            return f"{wild[0]} exploded to {metrics[wild[0]]:.3g}"
        loss = self.model.config.loss
        if loss == "ns":
            won = metrics["d_real"] > 0.99 and metrics["d_fake"] < 0.01
        elif loss == "hinge":
            won = metrics["loss_d"] < 0.01  # every real and fake beyond the margin
        else:
            won = False  # a Wasserstein critic has no winning state: its scores are unbounded
        self.streak = self.streak + 1 if won else 0
        if self.streak >= WIN_STREAK:
            return (f"the discriminator has won outright for {WIN_STREAK} reports in a row (it tells "
                    "every real image from every fake), so the generator gets no useful gradient")
        return None

    def state_dict(self) -> dict:
        return {**super().state_dict(), "streak": self.streak}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.streak = int(state.get("streak", 0))


def preview_latents(config: GANConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """The fixed noise (and labels) of the preview grid: the same tiles at every call."""
    z = prior_samples(PREVIEW_TILES, config.latent_dim, PREVIEW_SEED)
    labels = np.arange(PREVIEW_TILES) % config.num_classes if config.num_classes else None
    return z, labels


class GANFamily(Family):
    name = "gan"
    title = "Generative adversarial network"
    config_type = GANConfig
    snapshot_type = GANInference
    train_defaults = {"lr": 2e-4, "batch_size": 128, "epochs": 3, "schedule": "constant"}
    headline = "loss_d"
    loss_unit = "per image"
    divergence_hint = ("For a GAN, try a smaller learning rate (2e-4 is the usual one), spectral norm "
                       "in the discriminator, the hinge or wgan-gp loss, or a narrower discriminator.")

    def build(self, config: GANConfig) -> GAN:
        return GAN(config)

    def training_step(self, model, train_config, device, dist) -> GANStep:
        return GANStep(model, train_config, device, dist)

    def measure(self, model, test_x, test_y, dist) -> EpochMeasure:
        return measure_gan(model, test_x, test_y)

    @torch.inference_mode()
    def preview(self, model: GAN, x_u8, y) -> np.ndarray:
        """A grid of samples from fixed noise: watch the same latents sharpen."""
        z, labels = preview_latents(model.config)
        device = model.ema_updates.device
        zt = torch.from_numpy(z).to(device)
        yt = None if labels is None else torch.from_numpy(labels).to(device)
        return to_uint8_images(model.decode_images(zt, yt))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        fields = GANConfig.__dataclass_fields__
        group = parser.add_argument_group("GAN (--family gan)")
        group.add_argument("--gan-model", choices=fields["kind"].metadata["choices"], default="dcgan",
                           help="generator and discriminator architecture")
        group.add_argument("--gan-loss", choices=fields["loss"].metadata["choices"], default="ns",
                           help="ns (non-saturating), hinge or wgan-gp")
        # shared with the VAE (registered after it, this help is the one shown): default per family
        group.add_argument("--latent-dim", type=int, default=None,
                           help=f"latent dimensions ({LATENT_RANGE[0]}..{LATENT_RANGE[1]}; default: the "
                           f"family's, {VAEConfig.latent_dim} for a VAE, {GANConfig.latent_dim} for a GAN)")
        group.add_argument("--width", type=int, default=GANConfig.width,
                           help="channels of G's last and D's first block")
        group.add_argument("--spectral-norm", action="store_true", help="spectral norm in the discriminator")
        group.add_argument("--ema", type=float, default=GANConfig.ema,
                           help="EMA decay of the sampling generator, 0 = off")
        group.add_argument("--d-steps", type=int, default=GANConfig.d_steps,
                           help="discriminator steps per generator step")

    def config_from_args(self, args, dataset) -> GANConfig:
        return GANConfig(kind=args.gan_model, loss=args.gan_loss,
                         latent_dim=args.latent_dim or GANConfig.latent_dim, width=args.width,
                         spectral_norm=args.spectral_norm, ema=args.ema, d_steps=args.d_steps,
                         image_shape=dataset.image_shape,
                         num_classes=dataset.num_classes if args.conditional else 0)

    def describe(self, config: GANConfig) -> str:
        parts = [f"{'DCGAN' if config.kind == 'dcgan' else 'MLP GAN'}, latent {config.latent_dim}",
                 LOSS_NAMES[config.loss]]
        if config.spectral_norm:
            parts.append("spectral norm")
        if config.ema:
            parts.append(f"EMA {config.ema:g}")
        if config.num_classes:
            parts.append(f"conditional on {config.num_classes} classes")
        return ", ".join(parts)
