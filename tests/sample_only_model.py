"""A model that samples but has no latent that decodes (as an autoregressive model has none),
for capability tests: ``sample_only()`` is a ``GenerativeModel`` and nothing more."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genai_engine.families.base import Snapshot
from genai_engine.tensors import to_uint8_images


@dataclass
class TinyConfig:
    image_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 0


class TinyGenerator(nn.Module):
    def __init__(self, config: TinyConfig) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.config = config
        self.net = nn.Linear(4, int(np.prod(config.image_shape)))

    def timeline_state(self) -> dict:
        return self.state_dict()


class SampleOnlySnapshot(Snapshot):
    family = "sample-only"

    @torch.inference_mode()
    def sample(self, n: int, seed: int = 0, labels=None, batch_size: int = 1000) -> np.ndarray:
        noise = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, 4)).astype(np.float32))
        return to_uint8_images(torch.sigmoid(self.model.net(noise)).view(-1, *self.config.image_shape))


def sample_only(image_shape=(1, 28, 28)) -> SampleOnlySnapshot:
    return SampleOnlySnapshot(TinyGenerator(TinyConfig(tuple(image_shape))))
