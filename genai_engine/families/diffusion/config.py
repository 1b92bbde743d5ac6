"""``DiffusionConfig``: the U-Net's size and the noise process, with form metadata.

Every field carries ``metadata`` (label, a sentence of help, choices or bounds) from which the
desktop builds its Train form; ``image_shape`` and ``num_classes`` come from the dataset and
are hidden there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from genai_engine.errors import GenAIError
from genai_engine.families.base import FamilyConfig

SCHEDULES = ("cosine", "linear")
PREDICTIONS = ("eps", "v")
# Channels at U-Net level i are width * CHANNEL_MULTS[i]: a narrow first level (where the pixels
# are, so most of the compute) and wider low-resolution levels, which cost little. Width 16 gives
# 16/32/64 on 28x28, the plain DDPM loop of issue 14 that beat a 2.7 M U-Net at 300 s on 2 cores.
CHANNEL_MULTS = (1, 2, 4, 4)


def _meta(label: str, help: str, **extra) -> dict:
    return {"label": label, "help": help, **extra}


def max_levels(image_shape) -> int:
    """How many U-Net levels the image allows: each level below the first halves H and W, which
    must stay even (28 -> 14 -> 7: 3 levels), and the lowest level must keep at least 3 pixels."""
    _, height, width = image_shape
    levels = 1
    while (levels < len(CHANNEL_MULTS) and height % 2 == 0 and width % 2 == 0
           and min(height, width) // 2 >= 3):
        height, width, levels = height // 2, width // 2, levels + 1
    return levels


@dataclass
class DiffusionConfig(FamilyConfig):
    width: int = field(default=16, metadata=_meta(
        "U-Net width", "Channels of the first U-Net level; deeper levels have two and four times as "
        "many. Wider nets learn finer detail but train and sample more slowly (16 suits a CPU, "
        "64 a GPU).", min=8, max=256))
    levels: int = field(default=3, metadata=_meta(
        "U-Net levels", "How many resolutions the U-Net works at (28x28 with 3 levels: 28, 14 and "
        "7 pixels). Limited by how often the image size can be halved.", min=1, max=len(CHANNEL_MULTS)))
    blocks: int = field(default=1, metadata=_meta(
        "Blocks per level", "Residual blocks at each resolution. More blocks give a deeper, slower "
        "network.", min=1, max=4))
    attention: bool = field(default=True, metadata=_meta(
        "Attention at the lowest resolution", "Self-attention lets every position of the smallest "
        "feature map look at every other one, which helps global shape."))
    timesteps: int = field(default=1000, metadata=_meta(
        "Noise steps T", "Length of the forward noising process. Samplers may take far fewer "
        "steps than this.", min=10, max=10_000))
    schedule: str = field(default="cosine", metadata=_meta(
        "Noise schedule", "How fast noise is added over the T steps. Cosine destroys the image "
        "more gradually than linear, which suits small images.", choices=SCHEDULES))
    prediction: str = field(default="eps", metadata=_meta(
        "Prediction target", "What the network predicts: the added noise (eps) or the velocity v, "
        "a mix of noise and image that behaves better at the noisiest steps.", choices=PREDICTIONS))
    ema_decay: float = field(default=0.999, metadata=_meta(
        "EMA decay", "Samples come from an exponential moving average of the weights; closer to "
        "1 averages over more steps, giving smoother but slower-to-improve samples.", min=0.0, max=0.99999))
    cond_drop: float = field(default=0.1, metadata=_meta(
        "Label dropout", "Share of training images whose class label is hidden, so the model also "
        "learns to generate without a label: needed for classifier-free guidance.", min=0.0, max=1.0))
    image_shape: tuple[int, int, int] = field(default=(1, 28, 28), metadata=_meta(
        "Image shape", "Channels, height and width of the images.", hidden=True))
    num_classes: int = field(default=0, metadata=_meta(
        "Classes", "Number of classes of a conditional model; 0 for an unconditional one.", hidden=True))

    def __post_init__(self) -> None:
        self.image_shape = tuple(int(s) for s in self.image_shape)
        self.width, self.levels, self.blocks = int(self.width), int(self.levels), int(self.blocks)
        self.timesteps, self.num_classes = int(self.timesteps), int(self.num_classes)
        self.attention = bool(self.attention)
        self.ema_decay, self.cond_drop = float(self.ema_decay), float(self.cond_drop)
        for name in ("width", "levels", "blocks", "timesteps", "ema_decay", "cond_drop"):
            meta = self.__dataclass_fields__[name].metadata
            value = getattr(self, name)
            if not (math.isfinite(value) and meta["min"] <= value <= meta["max"]):
                raise GenAIError(f"{meta['label'].lower()} must be between {meta['min']} and "
                                 f"{meta['max']}, got {value}")
        if self.schedule not in SCHEDULES:
            raise GenAIError(f"unknown noise schedule {self.schedule!r}; choose cosine or linear")
        if self.prediction not in PREDICTIONS:
            raise GenAIError(f"unknown prediction target {self.prediction!r}; choose eps or v")
        if self.num_classes < 0:
            raise GenAIError(f"the number of classes must be 0 or more, got {self.num_classes}")
        most = max_levels(self.image_shape)
        if self.levels > most:
            _, height, width = self.image_shape
            raise GenAIError(f"images of {height}x{width} allow at most {most} U-Net levels, got "
                             f"{self.levels}; choose fewer levels")

    @property
    def latent_dim(self) -> int:
        """Under deterministic sampling the starting noise, one number per pixel, is the latent."""
        return math.prod(self.image_shape)

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(self.width * m for m in CHANNEL_MULTS[:self.levels])


    @classmethod
    def for_images(cls, image_shape, num_classes: int = 0, **settings) -> DiffusionConfig:
        """The default config sized for the data: as many levels (up to 3, or 4 from 64 pixels)
        as the image allows."""
        default = 4 if min(image_shape[1:]) >= 64 else 3
        settings.setdefault("levels", min(default, max_levels(image_shape)))
        return cls(image_shape=tuple(image_shape), num_classes=num_classes, **settings)
