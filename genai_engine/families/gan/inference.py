"""``GANInference``: a GAN snapshot that samples, decodes and inverts (fits z to an image).

A GAN has no encoder. ``invert`` searches for the latent whose image is closest to a target by
gradient descent on z through the frozen generator, and reports how close it got: where the
generator cannot draw an image, no z reproduces it, which is the lesson.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from genai_engine.families.base import LatentSnapshot, prior_samples
from genai_engine.families.gan.config import GANConfig
from genai_engine.families.gan.nets import GAN
from genai_engine.tensors import images_to_tensor, to_unit

INVERT_SEED = 0
PROGRESS_RECORDS = 50  # about this many progress records per inversion


@dataclass
class InversionProgress:
    step: int
    steps: int
    loss: float  # mean squared pixel error (pixels in [0, 1]) over the images, at this step


@dataclass
class InversionResult:
    z: np.ndarray  # float32 (N, D): the fitted latents
    reconstructions: np.ndarray  # uint8 (N, H, W, C): their images
    error: np.ndarray  # float64 (N,): mean squared pixel error in [0, 1], from the uint8 images
    steps: int  # steps done (fewer than asked when cancelled)
    cancelled: bool = False


def pixel_mse(a_u8: np.ndarray, b_u8: np.ndarray) -> np.ndarray:
    """Per-image mean squared difference of uint8 images, pixels scaled to [0, 1]: a
    reconstruction error any family's reconstructions can be compared in."""
    diff = (a_u8.astype(np.float64) - b_u8.astype(np.float64)) / 255.0
    return (diff ** 2).reshape(len(diff), -1).mean(1)


class GANInference(LatentSnapshot):
    family = "gan"
    model: GAN
    config: GANConfig

    def __init__(self, model, device: str = "cpu", class_names=None) -> None:
        super().__init__(model, device, class_names)
        self.model.requires_grad_(False)  # inversion differentiates w.r.t. z only

    @property
    def parameter_count(self) -> int:
        return self.model.parameter_count

    def invert(self, images: np.ndarray, labels=None, *, steps: int = 500, control=None,
               lr: float = 0.05) -> Iterator[InversionProgress | InversionResult]:
        """Fit z to uint8 images (N, H, W, C) with Adam on the mean squared pixel error; yields
        ``InversionProgress`` records, then one ``InversionResult`` (also when ``control``
        cancels it, with the latents found so far and ``cancelled=True``). z starts from seeded
        prior samples, so a call repeats."""
        target = to_unit(images_to_tensor(np.asarray(images), self.device))
        n = len(target)
        y = self._labels(labels, n)
        z = torch.from_numpy(prior_samples(n, self.latent_dim, INVERT_SEED)).to(self.device)
        z.requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=lr)
        every = max(1, steps // PROGRESS_RECORDS)
        done, cancelled = 0, False
        for step in range(1, steps + 1):
            if control is not None and not control.checkpoint():
                cancelled = True
                break
            per_image = (self.model.decode_images(z, y) - target).pow(2).flatten(1).mean(1)
            optimizer.zero_grad(set_to_none=True)
            per_image.sum().backward()  # a sum: each image's step does not depend on the others
            optimizer.step()
            done = step
            if step % every == 0 or step == steps:
                yield InversionProgress(step, steps, float(per_image.detach().mean()))
        fitted = z.detach().cpu().numpy().copy()
        reconstructions = self.decode(fitted, None if labels is None else np.asarray(labels))
        yield InversionResult(fitted, reconstructions, pixel_mse(reconstructions, np.asarray(images)),
                              done, cancelled)
