"""Moving image batches between numpy (uint8, N H W C) and torch (float, N C H W in [0, 1])."""

from __future__ import annotations

import numpy as np
import torch


def images_to_tensor(images: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """uint8 (N, H, W, C) -> uint8 (N, C, H, W) on the device; floats are made per batch."""
    writable = np.require(images, requirements=("C", "W"))  # torch refuses read-only buffers
    return torch.from_numpy(writable).permute(0, 3, 1, 2).contiguous().to(device)


def to_unit(batch_u8: torch.Tensor) -> torch.Tensor:
    return batch_u8.float().div_(255.0)


def to_uint8_images(x: torch.Tensor) -> np.ndarray:
    """float (B, C, H, W) in [0, 1] -> uint8 (B, H, W, C) numpy, with plain C strides.

    A permuted tensor keeps the (B, C, H, W) memory order, and ``.contiguous()`` does not
    change it when C is 1 (size-1 dimensions do not count): a convolution downstream then
    picks another memory format, and features of decoded images would differ in the 8th
    digit from those of the same images read from an array or a file."""
    x = (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    return x.clone(memory_format=torch.contiguous_format).cpu().numpy()


def labels_tensor(labels, n: int, num_classes: int, device) -> torch.Tensor | None:
    """Class labels for ``n`` images of a conditional model (None for an unconditional one):
    ``labels`` may be None (class 0), one label for all, or one per image."""
    if not num_classes:
        return None
    values = np.zeros(n, np.int64) if labels is None else np.broadcast_to(np.asarray(labels), (n,))
    return torch.as_tensor(np.array(values, dtype=np.int64), device=device)
