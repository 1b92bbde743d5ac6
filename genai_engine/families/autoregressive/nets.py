"""The pixel transformer: a small GPT over an image's pixel tokens, with a key/value cache.

An image (C, H, W) becomes a sequence of ``C*H*W`` tokens in raster order, channels interleaved
(row by row, pixel by pixel, R then G then B), each pixel value rounded to one of K levels.
Input position ``i`` holds the token before pixel ``i`` (a start token at 0: one per class for a
conditional model, so the class token "prompts" the image) plus a learned position embedding;
the output at ``i`` is the logits of pixel ``i`` over the K levels. Causal attention lets
position ``i`` see inputs ``0..i`` only, so one forward pass scores every pixel given the ones
before it (teacher forcing), and the log-likelihood of an image is exact. A character model
(``config.vocabulary``) is the same network over a window of character ids, K = the characters.

Sampling feeds one token at a time. ``run(inputs, cache)`` keeps every layer's keys and values
of the positions already seen, so each new pixel costs one position's work instead of a
forward pass over the whole prefix.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genai_engine.families.autoregressive.config import ARConfig

INIT_STD = 0.02  # GPT-2's: small embeddings and weights keep the residual stream near unit scale


def quantise(x: torch.Tensor, levels: int) -> torch.Tensor:
    """Pixel values in [0, 1] -> the nearest of ``levels`` evenly spaced levels, as int64 0..K-1."""
    return torch.round(x * (levels - 1)).long()


def dequantise(tokens: torch.Tensor, levels: int) -> torch.Tensor:
    """Levels 0..K-1 -> values in [0, 1] (level 0 is black, level K-1 white)."""
    return tokens.float() / (levels - 1)


class KVCache:
    """Keys and values of every layer for the positions already run, (B, heads, length, d) each."""

    def __init__(self, config: ARConfig, batch: int, device, dtype) -> None:
        shape = (batch, config.heads, config.tokens, config.width // config.heads)
        self.keys = [torch.empty(shape, device=device, dtype=dtype) for _ in range(config.layers)]
        self.values = [torch.empty(shape, device=device, dtype=dtype) for _ in range(config.layers)]
        self.length = 0  # positions stored

    def extend(self, layer: int, keys: torch.Tensor, values: torch.Tensor):
        """Store the new positions' keys and values; return all of them so far."""
        end = self.length + keys.shape[2]
        self.keys[layer][:, :, self.length:end] = keys
        self.values[layer][:, :, self.length:end] = values
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]


class CausalSelfAttention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, h: torch.Tensor, cache: KVCache | None, layer: int) -> torch.Tensor:
        b, t, width = h.shape
        q, k, v = self.qkv(h).view(b, t, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        start = 0
        if cache is not None:
            start = cache.length
            k, v = cache.extend(layer, k, v)
        if t == 1:  # one new position sees everything before it: no mask
            y = F.scaled_dot_product_attention(q, k, v)
        elif start == 0:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # several new positions after cached ones (a prompt fed in parts)
            seen = torch.arange(start + t, device=h.device)
            mask = seen[None, :] <= (start + torch.arange(t, device=h.device))[:, None]
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(y.transpose(1, 2).reshape(b, t, width))


class Block(nn.Module):
    """Pre-norm transformer block: attention to earlier positions, then an MLP (4x wide)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = CausalSelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, h: torch.Tensor, cache: KVCache | None, layer: int) -> torch.Tensor:
        h = h + self.attention(self.norm1(h), cache, layer)
        return h + self.mlp(self.norm2(h))


class PixelTransformer(nn.Module):
    def __init__(self, config: ARConfig) -> None:
        super().__init__()
        self.config = config
        k = config.levels
        # token ids: pixel levels 0..K-1, then the start token(s): K + class
        self.token_embedding = nn.Embedding(k + max(config.num_classes, 1), config.width)
        self.position_embedding = nn.Parameter(torch.zeros(config.tokens, config.width))
        self.blocks = nn.ModuleList(Block(config.width, config.heads) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, k)
        self.apply(_init_weights)
        nn.init.normal_(self.position_embedding, std=INIT_STD)
        for block in self.blocks:  # residual branches scaled down with depth (GPT-2)
            for proj in (block.attention.proj, block.mlp[2]):
                nn.init.normal_(proj.weight, std=INIT_STD / math.sqrt(2 * config.layers))

    # --- images <-> tokens ---------------------------------------------------------------
    @property
    def _grid(self) -> int:
        """The values [0, 1] is divided into: K levels, or for text the 256 uint8 values that
        hold character ids exactly (an id i arrives from the trainer as i / 255)."""
        return 256 if self.config.is_text else self.config.levels

    def to_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) in [0, 1] -> tokens (B, C*H*W) in raster order, channels interleaved."""
        return quantise(x, self._grid).permute(0, 2, 3, 1).flatten(1)

    def to_images(self, tokens: torch.Tensor) -> torch.Tensor:
        """Tokens (B, C*H*W) -> images (B, C, H, W) in [0, 1] (fractional levels give in-between greys)."""
        c, h, w = self.config.image_shape
        return dequantise(tokens, self._grid).view(-1, h, w, c).permute(0, 3, 1, 2)

    def start_tokens(self, labels: torch.Tensor | None, batch: int, device) -> torch.Tensor:
        """The token every image starts from: its class's for a conditional model, (B,)."""
        if labels is None or not self.config.num_classes:
            return torch.full((batch,), self.config.levels, dtype=torch.long, device=device)
        return labels.long().to(device) + self.config.levels

    def inputs(self, tokens: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The input sequence for teacher forcing: the start token, then every pixel but the last."""
        start = self.start_tokens(labels, tokens.shape[0], tokens.device)
        return torch.cat([start[:, None], tokens[:, :-1]], dim=1)

    # --- the network ---------------------------------------------------------------------
    def new_cache(self, batch: int) -> KVCache:
        weight = self.head.weight
        return KVCache(self.config, batch, weight.device, weight.dtype)

    def run(self, inputs: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Input ids (B, T) -> logits (B, T, K). Without a cache the ids are positions 0..T-1;
        with one they follow the ``cache.length`` positions it holds, and are added to it."""
        start = cache.length if cache is not None else 0
        h = self.token_embedding(inputs) + self.position_embedding[start:start + inputs.shape[1]]
        for layer, block in enumerate(self.blocks):
            h = block(h, cache, layer)
        if cache is not None:
            cache.length += inputs.shape[1]
        return self.head(self.norm(h))

    def forward(self, tokens: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Tokens (B, L) -> the logits of every pixel given the pixels before it, (B, L, K)."""
        return self.run(self.inputs(tokens, labels))

    def timeline_state(self) -> dict[str, torch.Tensor]:
        """Every weight: the model has no separate decoder, sampling needs all of it."""
        return self.state_dict()


def image_nll(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Exact negative log-likelihood of each quantised image in nats, (B,)."""
    return F.cross_entropy(logits.transpose(1, 2), tokens, reduction="none").sum(1)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=INIT_STD)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
