"""The VAE family's networks: an MLP one (the classic 784-400-20) and a convolutional one.

Both map images in [0, 1] laid out (B, C, H, W) to a diagonal Gaussian posterior and decode a
latent vector to per-pixel *logits*; the likelihood (Bernoulli or Gaussian) lives in
``losses.py``. With ``num_classes > 0`` the model is a conditional VAE: a one-hot label is
fed to both the encoder and the decoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genai_engine.errors import GenAIError
from genai_engine.families.base import FamilyConfig
from genai_engine.families.vae.losses import decoded_mean

MODEL_KINDS = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")
LATENT_RANGE = (2, 256)


# Field metadata ("label", "help", "choices", "min"/"max", "presets", "hidden") is what the
# app's Train form is built from: every family describes its options the same way.
@dataclass
class ModelConfig(FamilyConfig):
    kind: str = field(default="mlp", metadata={
        "label": "Architecture",
        "choices": {"mlp": "MLP (fully connected)", "conv": "Convolutional"},
        # the default widths follow the architecture (widths the user typed are kept)
        "presets": {"mlp": {"hidden": (400,)}, "conv": {"hidden": (32, 64)}},
        "help": "<b>MLP</b>: fully connected layers on the flattened image (the classic 784-400-20 "
                "VAE); fast on a CPU.<br><b>Conv</b>: stride-2 convolution blocks; sharper on larger "
                "or colour images, slower on a CPU."})
    # MLP: layer widths; conv: channels per stride-2 block
    hidden: tuple[int, ...] = field(default=(400,), metadata={
        "label": "Hidden widths",
        "help": "Width of each hidden layer (MLP) or channels of each convolution block (conv), "
                "comma-separated: <tt>400</tt> or <tt>512,256</tt>."})
    latent_dim: int = field(default=20, metadata={
        "label": "Latent dimensions", "min": LATENT_RANGE[0], "max": LATENT_RANGE[1],
        "help": "Number of dimensions of the latent code <i>z</i>. The encoder predicts a "
                "Gaussian for each; the decoder turns <i>z</i> back into an image. Unused "
                "dimensions collapse to the prior (KL ≈ 0) and show grey in the KL bars."})
    likelihood: str = field(default="bernoulli", metadata={
        "label": "Likelihood",
        "choices": {"bernoulli": "Bernoulli (cross-entropy)", "gaussian": "Gaussian (learned noise)"},
        "help": "How a reconstruction is scored against the input pixels.<br><b>Bernoulli</b>: "
                "binary cross-entropy; suits mostly black-and-white images such as "
                "Fashion-MNIST.<br><b>Gaussian</b>: squared error with a learned noise level "
                "per pixel; suits photos."})
    image_shape: tuple[int, int, int] = field(default=(1, 28, 28), metadata={"hidden": True})  # (C, H, W)
    # > 0 makes a conditional VAE
    num_classes: int = field(default=0, metadata={"hidden": True})

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)
        self.image_shape = tuple(int(s) for s in self.image_shape)
        if self.kind not in MODEL_KINDS:
            raise GenAIError(f"unknown model {self.kind!r}; choose mlp or conv")
        if self.likelihood not in LIKELIHOODS:
            raise GenAIError(f"unknown likelihood {self.likelihood!r}; choose bernoulli or gaussian")
        low, high = LATENT_RANGE
        if not low <= int(self.latent_dim) <= high:
            raise GenAIError(f"latent dim must be between {low} and {high}, got {self.latent_dim}")
        if not self.hidden or any(h < 1 or h > 8192 for h in self.hidden):
            raise GenAIError(f"hidden widths must be 1..8192, got {self.hidden}")
        if self.kind == "conv" and len(self.hidden) > 5:
            raise GenAIError("a conv model takes at most 5 channel widths")



def parse_hidden(text: str) -> tuple[int, ...]:
    """'400' or '512,256' -> (400,) or (512, 256)."""
    try:
        widths = tuple(int(part) for part in str(text).replace(" ", "").split(",") if part)
    except ValueError:
        raise GenAIError(f"hidden widths must be integers like 400 or 512,256, got {text!r}") from None
    if not widths:
        raise GenAIError("give at least one hidden width, e.g. 400")
    return widths


class VAE(nn.Module):
    """Shared VAE logic; subclasses provide ``_encode_features`` and ``_decode_logits``."""

    config: ModelConfig

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        # Gaussian likelihood: one learned log-std per pixel (starts at sigma = 0.1).
        if config.likelihood == "gaussian":
            self.log_sigma = nn.Parameter(torch.full(config.image_shape, math.log(0.1)))

    def one_hot(self, labels: torch.Tensor | None, batch: int, device) -> torch.Tensor | None:
        if not self.config.num_classes:
            return None
        if labels is None:
            labels = torch.zeros(batch, dtype=torch.long, device=device)
        return F.one_hot(labels.long(), self.config.num_classes).float()

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        return self._encode(x, self.one_hot(labels, x.shape[0], x.device))

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Latent (B, D) -> logits (B, C, H, W)."""
        return self._decode(z, self.one_hot(labels, z.shape[0], z.device))

    def decode_images(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Latent (B, D) -> the images the decoder shows, (B, C, H, W) in [0, 1]."""
        return decoded_mean(self.decode(z, labels))

    def timeline_state(self) -> dict[str, torch.Tensor]:
        """The decoder's weights: what an epoch's timeline snapshot keeps."""
        keep = ("decoder.", "fc_decode.", "up.", "log_sigma")
        return {k: v for k, v in self.state_dict().items() if k.startswith(keep)}

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        condition = self.one_hot(labels, x.shape[0], x.device)
        mu, logvar = self._encode(x, condition)
        z = reparameterize(mu, logvar)
        return self._decode(z, condition), mu, logvar


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps, so gradients flow through mu and logvar."""
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


def _with_condition(h: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
    return h if condition is None else torch.cat([h, condition], dim=1)


def _mlp(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for w_in, w_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(w_in, w_out), nn.ReLU()]
    return nn.Sequential(*layers)


class MLPVAE(VAE):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        pixels = math.prod(config.image_shape)
        hidden = list(config.hidden)
        k = config.num_classes
        self.encoder = _mlp([pixels + k, *hidden])
        self.fc_mu = nn.Linear(hidden[-1], config.latent_dim)
        self.fc_logvar = nn.Linear(hidden[-1], config.latent_dim)
        self.decoder = nn.Sequential(
            _mlp([config.latent_dim + k, *reversed(hidden)]), nn.Linear(hidden[0], pixels)
        )

    def _encode(self, x, condition):
        h = self.encoder(_with_condition(x.flatten(1), condition))
        return self.fc_mu(h), self.fc_logvar(h)

    def _decode(self, z, condition):
        return self.decoder(_with_condition(z, condition)).view(-1, *self.config.image_shape)


class ConvVAE(VAE):
    """Stride-2 4x4 conv blocks down, mirrored transposed convs up, for any image size."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        channels, height, width = config.image_shape
        widths = list(config.hidden)
        k = config.num_classes
        down: list[nn.Module] = []
        shapes = [(height, width)]
        c_in = channels
        for c_out in widths:
            down += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
            h, w = shapes[-1]
            shapes.append(((h + 2 - 4) // 2 + 1, (w + 2 - 4) // 2 + 1))
            c_in = c_out
        if min(shapes[-1]) < 1:
            raise GenAIError(f"images of {height}x{width} are too small for {len(widths)} conv blocks")
        self._shapes = shapes  # spatial size after each block, to undo them exactly
        self.encoder = nn.Sequential(*down, nn.Flatten())
        flat = widths[-1] * shapes[-1][0] * shapes[-1][1]
        self.fc_mu = nn.Linear(flat + k, config.latent_dim)
        self.fc_logvar = nn.Linear(flat + k, config.latent_dim)
        self.fc_decode = nn.Sequential(nn.Linear(config.latent_dim + k, flat), nn.ReLU())
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)
            for c_in, c_out in zip(widths[::-1], [*widths[-2::-1], channels], strict=True)
        )

    def _encode(self, x, condition):
        h = _with_condition(self.encoder(x), condition)
        return self.fc_mu(h), self.fc_logvar(h)

    def _decode(self, z, condition):
        h0, w0 = self._shapes[-1]
        h = self.fc_decode(_with_condition(z, condition)).view(-1, self.config.hidden[-1], h0, w0)
        targets = self._shapes[-2::-1]
        for i, layer in enumerate(self.up):
            h = layer(h, output_size=targets[i])
            if i < len(self.up) - 1:
                h = F.relu(h)
        return h


def build_model(config: ModelConfig) -> VAE:
    return (MLPVAE if config.kind == "mlp" else ConvVAE)(config)
