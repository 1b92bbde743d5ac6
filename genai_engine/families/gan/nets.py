"""The GAN's networks: a generator G (z -> image in [-1, 1], tanh) and a discriminator D
(image in [-1, 1] -> one score per image, a logit), DCGAN or MLP, optionally class-conditional,
and the ``GAN`` module that holds both and an EMA copy of G.

Sampling decision (BatchNorm): images are always generated with G in **eval** mode, using the
running statistics G gathered on its own training batches. Then an image depends on its own z
only, not on what else is in the batch: a slider decodes one z to the same picture a sample
grid shows, and a seed gives the same samples at any batch size. G trains in train mode (batch
statistics), as DCGAN does. ``GAN.decode_images`` enforces this itself.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from genai_engine.errors import GenAIError
from genai_engine.families.gan.config import GANConfig

MAX_BLOCKS = 4  # 64x64 images: 4x4 -> 64x64 in four doublings, as pytorch/examples dcgan


def dcgan_blocks(height: int, width: int) -> int:
    """Stride-2 blocks between the image and the smallest feature map: halve both sides while
    they stay whole and at least 3 (28 -> 7: 2 blocks; 32 -> 4: 3; 64 -> 4: 4)."""
    blocks = 0
    while (blocks < MAX_BLOCKS and height % 2 == 0 and width % 2 == 0
           and height // 2 >= 3 and width // 2 >= 3):
        height, width, blocks = height // 2, width // 2, blocks + 1
    return blocks


def _one_hot(labels: torch.Tensor | None, num_classes: int, batch: int, device) -> torch.Tensor | None:
    if not num_classes:
        return None
    if labels is None:
        labels = torch.zeros(batch, dtype=torch.long, device=device)
    return F.one_hot(labels.long(), num_classes).float()


class Generator(nn.Module):
    """z (B, D) [+ one-hot label] -> images (B, C, H, W) in [-1, 1]."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        z_in = config.latent_dim + config.num_classes  # the label is concatenated to z
        if config.kind == "mlp":
            hidden = (4 * config.width, 8 * config.width)
            self.body = nn.Sequential(
                nn.Linear(z_in, hidden[0]), nn.LeakyReLU(0.2),
                nn.Linear(hidden[0], hidden[1]), nn.LeakyReLU(0.2),
                nn.Linear(hidden[1], c * h * w))
            return
        blocks = dcgan_blocks(h, w)
        if blocks == 0:
            raise GenAIError(f"a DCGAN needs image sides that halve evenly (like 28, 32 or 64), not "
                             f"{h}x{w}; resize the images (--image-size) or use the mlp architecture")
        self._base = (h >> blocks, w >> blocks)
        top = config.width << (blocks - 1)
        # A linear projection of z to the smallest feature map: the same maths as DCGAN's first
        # transposed convolution over a 1x1 input.
        self.project = nn.Linear(z_in, top * self._base[0] * self._base[1], bias=False)
        layers: list[nn.Module] = [nn.BatchNorm2d(top), nn.ReLU(True)]
        channels = top
        for i in range(blocks):
            last = i == blocks - 1
            out = c if last else channels // 2
            layers.append(nn.ConvTranspose2d(channels, out, 4, 2, 1, bias=False))
            layers += [] if last else [nn.BatchNorm2d(out), nn.ReLU(True)]
            channels = out
        self.body = nn.Sequential(*layers)
        self._top = top

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        condition = _one_hot(labels, self.config.num_classes, z.shape[0], z.device)
        h = z if condition is None else torch.cat([z, condition], 1)
        if self.config.kind == "mlp":
            return torch.tanh(self.body(h)).view(-1, *self.config.image_shape)
        h = self.project(h).view(-1, self._top, *self._base)
        return torch.tanh(self.body(h))


class Discriminator(nn.Module):
    """images (B, C, H, W) in [-1, 1] -> scores (B,), logits. Conditional: a projection
    discriminator (Miyato & Koyama 2018) adds <embed(y), features> to the score.

    BatchNorm is used only with the ns and hinge losses and no spectral norm: the gradient
    penalty is defined per image (batch statistics would mix images), and spectral norm
    already does BatchNorm's job of keeping D tame."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        norm = config.loss != "wgan-gp" and not config.spectral_norm
        sn = spectral_norm if config.spectral_norm else (lambda module: module)
        if config.kind == "mlp":
            hidden = (8 * config.width, 4 * config.width)
            self.body = nn.Sequential(
                nn.Flatten(), sn(nn.Linear(c * h * w, hidden[0])), nn.LeakyReLU(0.2),
                sn(nn.Linear(hidden[0], hidden[1])), nn.LeakyReLU(0.2))
            features = hidden[1]
        else:
            blocks = dcgan_blocks(h, w)
            layers: list[nn.Module] = []
            channels, out = c, config.width
            for i in range(blocks):
                layers.append(sn(nn.Conv2d(channels, out, 4, 2, 1, bias=not norm)))
                layers += [nn.BatchNorm2d(out)] if norm and i > 0 else []  # DCGAN: none on the first
                layers.append(nn.LeakyReLU(0.2, True))
                channels, out = out, out * 2
            self.body = nn.Sequential(*layers, nn.Flatten())
            features = channels * (h >> blocks) * (w >> blocks)
        # A linear score over the flattened last feature map: DCGAN's final full-size convolution.
        self.head = sn(nn.Linear(features, 1))
        self.embed = None
        if config.num_classes:
            embed = nn.Embedding(config.num_classes, features)
            # small, like the other weights: N(0, 1) rows would swamp the score at the start
            nn.init.normal_(embed.weight, 0.0, 0.02)
            self.embed = sn(embed)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = self.body(x)
        score = self.head(features).squeeze(1)
        if self.embed is not None:
            if labels is None:
                labels = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
            score = score + (self.embed(labels.long()) * features).sum(1)
        return score


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.'s initialisation: conv weights N(0, 0.02), BatchNorm scales N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class GAN(nn.Module):
    """G and D, and ``ema`` (a frozen moving average of G) when ``config.ema`` > 0.

    The EMA lives in the module (weights, BatchNorm buffers and ``ema_updates``), so checkpoints,
    the trainer's last-good copy and a resume carry it exactly."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)
        if config.kind == "dcgan":
            self.generator.apply(dcgan_init)
            # Only DCGAN's own D (with BatchNorm): a WGAN critic at N(0, 0.02) starts with a
            # near-zero input gradient that the penalty then spends its first steps fixing, and
            # spectral norm re-parametrises the weights.
            if config.loss != "wgan-gp" and not config.spectral_norm:
                self.discriminator.apply(dcgan_init)
        self.ema = copy.deepcopy(self.generator).requires_grad_(False) if config.ema else None
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))

    @property
    def sampler(self) -> Generator:
        """The generator images are sampled from: the EMA when there is one."""
        return self.ema if self.ema is not None else self.generator

    @torch.no_grad()
    def update_ema(self) -> None:
        """ema <- d * ema + (1 - d) * G, with a warm-up d = min(decay, (1 + t) / (10 + t)) so the
        average does not drag the random initial weights through a short run. BatchNorm's
        running statistics are copied: they describe G's current activations."""
        if self.ema is None:
            return
        t = float(self.ema_updates)
        decay = min(self.config.ema, (1.0 + t) / (10.0 + t))
        ema_params = list(self.ema.parameters())
        torch._foreach_lerp_(ema_params, [p.detach() for p in self.generator.parameters()], 1.0 - decay)
        for mine, theirs in zip(self.ema.buffers(), self.generator.buffers(), strict=True):
            mine.copy_(theirs)
        self.ema_updates += 1

    def decode_images(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Latent (B, D) -> images (B, C, H, W) in [0, 1], always with BatchNorm in eval mode
        (see the module docstring)."""
        sampler = self.sampler
        was_training = sampler.training
        sampler.eval()
        try:
            return (sampler(z, labels) + 1.0) * 0.5
        finally:
            sampler.train(was_training)

    def timeline_state(self) -> dict[str, torch.Tensor]:
        """The sampling generator's weights and running statistics (the EMA's when on)."""
        prefix = "ema." if self.ema is not None else "generator."
        return {k: v for k, v in self.state_dict().items() if k.startswith(prefix) and v.is_floating_point()}

    @property
    def parameter_count(self) -> int:
        """G and D, not the EMA copy."""
        return sum(p.numel() for m in (self.generator, self.discriminator) for p in m.parameters())

