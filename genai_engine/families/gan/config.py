"""``GANConfig``: what a GAN is made of, with the metadata the desktop builds its form from.

Every field carries ``metadata``: ``label`` and ``help`` (one or two sentences for a student),
``choices`` or ``min``/``max`` where they apply, and ``hidden`` for fields the data decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from genai_engine.errors import GenAIError
from genai_engine.families.base import FamilyConfig

KINDS = ("dcgan", "mlp")
LOSSES = ("ns", "hinge", "wgan-gp")
LOSS_NAMES = {"ns": "non-saturating loss", "hinge": "hinge loss",
              "wgan-gp": "Wasserstein loss with gradient penalty"}
LATENT_RANGE = (2, 256)
WIDTH_RANGE = (4, 1024)
D_STEPS_RANGE = (1, 10)


@dataclass
class GANConfig(FamilyConfig):
    kind: str = field(default="dcgan", metadata={
        "label": "Architecture", "choices": KINDS,
        "help": "dcgan: convolutional generator and discriminator (Radford et al. 2015), sized from "
                "the images. mlp: fully connected networks, as in the original 2014 GAN."})
    latent_dim: int = field(default=64, metadata={
        "label": "Latent dimensions", "min": LATENT_RANGE[0], "max": LATENT_RANGE[1],
        "help": "Length of the noise vector z the generator turns into an image. Each dimension "
                "becomes a slider in Explore."})
    width: int = field(default=64, metadata={
        "label": "Width", "min": WIDTH_RANGE[0], "max": WIDTH_RANGE[1],
        "help": "Channels of the generator's last and the discriminator's first block (doubling "
                "per block inward); the MLP's hidden layers are 4x and 8x this. Wider learns more "
                "but trains slower."})
    loss: str = field(default="ns", metadata={
        "label": "Loss", "choices": LOSSES,
        "help": "ns: the non-saturating loss of the 2014 paper. hinge: a margin loss used by "
                "spectral-norm GANs. wgan-gp: a critic estimates the Wasserstein distance, kept "
                "1-Lipschitz by a gradient penalty (weight 10)."})
    spectral_norm: bool = field(default=False, metadata={
        "label": "Spectral norm in D",
        "help": "Limit how fast the discriminator's output can change (Miyato et al. 2018): "
                "steadier training, often slower to sharpen."})
    ema: float = field(default=0.999, metadata={
        "label": "EMA of G", "min": 0.0, "max": 0.9999,
        "help": "Sample from an exponential moving average of the generator's weights, which "
                "smooths out the duel's jitter. 0 turns it off."})
    d_steps: int = field(default=1, metadata={
        "label": "D steps per G step", "min": D_STEPS_RANGE[0], "max": D_STEPS_RANGE[1],
        "help": "Discriminator updates before each generator update. WGAN-GP papers use 5; "
                "1 is usual for the other losses."})
    image_shape: tuple[int, int, int] = field(default=(1, 28, 28), metadata={"hidden": True})  # (C, H, W)
    num_classes: int = field(default=0, metadata={"hidden": True})  # > 0: class-conditional

    def __post_init__(self) -> None:
        self.image_shape = tuple(int(s) for s in self.image_shape)
        if self.kind not in KINDS:
            raise GenAIError(f"unknown GAN architecture {self.kind!r}; choose dcgan or mlp")
        if self.loss not in LOSSES:
            raise GenAIError(f"unknown GAN loss {self.loss!r}; choose ns, hinge or wgan-gp")
        for name, (low, high) in (("latent dim", LATENT_RANGE), ("width", WIDTH_RANGE),
                                  ("D steps", D_STEPS_RANGE)):
            value = getattr(self, name.replace(" ", "_").lower())
            if int(value) != value or not low <= int(value) <= high:
                raise GenAIError(f"{name} must be a whole number from {low} to {high}, got {value}")
        if not (math.isfinite(self.ema) and 0.0 <= self.ema < 1.0):
            raise GenAIError(f"the EMA decay must be 0 (off) or between 0 and 1, e.g. 0.999; got {self.ema}")
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise GenAIError(f"image shape must be (channels, height, width), got {self.image_shape}")
        if int(self.num_classes) < 0:
            raise GenAIError(f"the number of classes must be 0 or more, got {self.num_classes}")
        self.latent_dim, self.width, self.d_steps = int(self.latent_dim), int(self.width), int(self.d_steps)
        self.num_classes, self.ema = int(self.num_classes), float(self.ema)
        self.spectral_norm = bool(self.spectral_norm)

