"""Inference-time graph surgery shared by the feature networks: fold batch-norm into convolutions.

A convolution followed by an eval-mode batch-norm is one affine map per output channel, so the
pair becomes a single convolution with a bias: ``w' = w * g / sqrt(v + eps)``,
``b' = beta + (b - m) * g / sqrt(v + eps)``. The arithmetic is done in float64 and rounded once.
"""

from __future__ import annotations

import torch


def fold_batch_norm(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    mean: torch.Tensor,
    var: torch.Tensor,
    eps: float,
    gamma: torch.Tensor | None = None,
    beta: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(weight, bias)`` of the convolution equal to ``bn(conv(x))`` in eval mode."""
    w = weight.detach().double()
    scale = 1.0 / torch.sqrt(var.detach().double() + eps)
    if gamma is not None:
        scale = scale * gamma.detach().double()
    b = torch.zeros_like(scale) if bias is None else bias.detach().double()
    shift = (b - mean.detach().double()) * scale
    if beta is not None:
        shift = shift + beta.detach().double()
    fused_w = w * scale.reshape(-1, *([1] * (w.dim() - 1)))
    return fused_w.to(weight.dtype).contiguous(), shift.to(weight.dtype).contiguous()
