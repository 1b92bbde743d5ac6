"""A small U-Net that predicts the noise (or v) in x_t, given t and optionally a class.

Residual blocks (GroupNorm, SiLU, 3x3 convolutions) at each resolution, the timestep (a
sinusoidal embedding through an MLP) and the class (a learned embedding, with one extra "null"
class for classifier-free guidance) added inside every block, optional self-attention at the
lowest resolution, and one skip connection per level from the way down to the way up.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genai_engine.families.diffusion.config import DiffusionConfig


def timestep_embedding(t: torch.Tensor, dim: int, timesteps: int) -> torch.Tensor:
    """Sinusoids of t (B,) at geometric frequencies, (B, dim). t is rescaled to 0..1000 so the
    frequencies suit any number of steps T."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = (t.float() * (1000 / timesteps))[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(channels, 8), channels)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, emb_dim: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = _norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = _norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity: stable early training
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.heads = max(1, channels // 32)
        self.norm = _norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        q, k, v = (part.transpose(-1, -2) for part in (q, k, v))  # (B, heads, positions, channels)
        attended = F.scaled_dot_product_attention(q, k, v)
        return x + self.out(attended.transpose(-1, -2).reshape(b, c, h, w))


class UNet(nn.Module):
    def __init__(self, config: DiffusionConfig) -> None:
        super().__init__()
        self.config = config
        channels = config.channels
        emb_dim = 4 * config.width
        self.time_mlp = nn.Sequential(nn.Linear(config.width, emb_dim), nn.SiLU(),
                                      nn.Linear(emb_dim, emb_dim))
        # index num_classes is the "no label" class that classifier-free guidance contrasts with
        self.class_emb = nn.Embedding(config.num_classes + 1, emb_dim) if config.num_classes else None
        self.conv_in = nn.Conv2d(config.image_shape[0], channels[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        c_prev = channels[0]
        for i, c in enumerate(channels):
            self.down.append(nn.ModuleList(ResBlock(c_prev if j == 0 else c, c, emb_dim)
                                           for j in range(config.blocks)))
            if i < len(channels) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
            c_prev = c
        low = channels[-1]
        self.mid1 = ResBlock(low, low, emb_dim)
        self.attn = SelfAttention(low) if config.attention else nn.Identity()
        self.mid2 = ResBlock(low, low, emb_dim)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(len(channels))):
            c = channels[i]
            self.up.append(nn.ModuleList(ResBlock(c_prev + c if j == 0 else c, c, emb_dim)
                                         for j in range(config.blocks)))
            if i > 0:
                self.upsample.append(nn.Conv2d(c, channels[i - 1], 3, padding=1))
                c_prev = channels[i - 1]
        self.norm_out = _norm(channels[0])
        self.conv_out = nn.Conv2d(channels[0], config.image_shape[0], 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """x_t (B, C, H, W), integer t (B,), labels (B,) with num_classes meaning "none"."""
        emb = self.time_mlp(timestep_embedding(t, self.config.width, self.config.timesteps))
        if self.class_emb is not None:
            if labels is None:
                labels = torch.full_like(t, self.config.num_classes)
            emb = emb + self.class_emb(labels.long())
        h = self.conv_in(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.mid2(self.attn(self.mid1(h, emb)), emb)
        for i, blocks in enumerate(self.up):
            h = torch.cat([h, skips.pop()], dim=1)
            for block in blocks:
                h = block(h, emb)
            if i < len(self.upsample):
                h = self.upsample[i](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))
