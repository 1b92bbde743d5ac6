"""Small tensor helpers shared by the feature networks."""

from __future__ import annotations

import numpy as np
import torch


def as_tensor(images) -> torch.Tensor:
    """A tensor view of a uint8 batch; read-only arrays (the data cache's) are copied first."""
    if isinstance(images, torch.Tensor):
        return images
    images = np.asarray(images)
    if not images.flags.writeable:
        images = images.copy()
    return torch.from_numpy(images)
