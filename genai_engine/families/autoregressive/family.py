"""The autoregressive family: training step, per-epoch exact test likelihood, preview, CLI options."""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from genai_engine.distributed import DistContext
from genai_engine.families.autoregressive.config import ARConfig
from genai_engine.families.autoregressive.inference import ARInference
from genai_engine.families.autoregressive.nets import PixelTransformer, image_nll
from genai_engine.families.base import Batch, EpochMeasure, Family, TrainingStep, adam, distributed
from genai_engine.tensors import to_uint8_images, to_unit

# Scoring a test image costs about a third of training on it: the first 1,000 test images (a
# tenth of Fashion-MNIST's test split) are scored after each epoch, in a tenth of the time.
MEASURE_IMAGES = 1000
EVAL_BATCH = 100
GRAD_CLIP = 1.0  # transformers train steadier with the gradient norm capped


class ARStep(TrainingStep):
    """Cross-entropy of every pixel given the ones before it (teacher forcing), one Adam."""

    def __init__(self, model: PixelTransformer, train_config, device: torch.device,
                 dist: DistContext) -> None:
        self.model = model
        self.net = distributed(model, device, dist)
        self.optimizers = [adam(model.parameters(), train_config.lr, device)]
        self.per_bit = 1.0 / (model.config.tokens * math.log(2))

    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]:
        tokens = self.model.to_tokens(batch.x)
        loss = image_nll(self.net(tokens, batch.y), tokens).sum()
        optimizer = self.optimizers[0]
        optimizer.zero_grad(set_to_none=True)
        (loss / len(tokens)).backward()  # DDP averages over ranks: the global-batch mean
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        optimizer.step()
        loss = loss.detach()
        return {"loss": loss, "bits_per_dim": loss * self.per_bit}


@torch.inference_mode()
def measure_nll(model: PixelTransformer, images: torch.Tensor, labels: torch.Tensor | None,
             dist: DistContext) -> float:
    """Mean exact NLL (nats per image) of the first ``MEASURE_IMAGES`` test images; under
    torchrun each rank scores every ``world_size``-th of them and the sums are added."""
    was_training = model.training
    model.eval()
    n = min(len(images), MEASURE_IMAGES)
    mine = torch.arange(dist.rank, n, dist.world_size, device=images.device)
    total = torch.zeros((), dtype=torch.float64, device=images.device)
    for index in mine.split(EVAL_BATCH):
        tokens = model.to_tokens(to_unit(images[index]))
        total += image_nll(model(tokens, None if labels is None else labels[index]), tokens).sum().double()
    model.train(was_training)
    return float(dist.all_reduce_sum(total)) / max(n, 1)


class ARFamily(Family):
    name = "autoregressive"
    title = "Autoregressive model (pixel transformer)"
    config_type = ARConfig
    snapshot_type = ARInference
    # ~40-80 images/s on a 2-core CPU: short epochs give a measure and a checkpoint every few minutes
    train_defaults = {"lr": 3e-3, "batch_size": 32, "epochs": 4, "epoch_images": 4000}
    loss_unit = "nats/image"
    divergence_hint = "Try a smaller learning rate (transformers often need 1e-3 or less)."

    def build(self, config: ARConfig) -> PixelTransformer:
        return PixelTransformer(config)

    def training_step(self, model, train_config, device, dist) -> ARStep:
        return ARStep(model, train_config, device, dist)

    def measure(self, model, test_x, test_y, dist) -> EpochMeasure:
        loss = measure_nll(model, test_x, test_y, dist)
        return EpochMeasure({"loss": loss, "bits_per_dim": loss / (model.config.tokens * math.log(2))}, {})

    @torch.inference_mode()
    def preview(self, model: PixelTransformer, x_u8, y) -> np.ndarray:
        """Test images (at K levels), then each pixel as the model predicts it from the true pixels
        before it (the mean level of its predicted distribution: grey where it is unsure).

        One forward pass: drawing samples costs a pass per pixel, too slow to repeat every
        second while training on a CPU."""
        was_training = model.training
        model.eval()
        tokens = model.to_tokens(to_unit(x_u8))
        probs = torch.softmax(model(tokens, y).float(), dim=-1)
        mean_level = probs @ torch.arange(model.config.levels, dtype=probs.dtype, device=probs.device)
        model.train(was_training)
        return np.concatenate([to_uint8_images(model.to_images(t)) for t in (tokens, mean_level)])

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        d = ARConfig
        group = parser.add_argument_group("Autoregressive (--family autoregressive)")
        group.add_argument("--levels", type=int, default=d.levels,
                           help=f"pixel values are rounded to this many levels K (default {d.levels})")
        group.add_argument("--ar-width", type=int, default=d.width,
                           help=f"transformer width (default {d.width})")
        group.add_argument("--ar-layers", type=int, default=d.layers,
                           help=f"transformer blocks (default {d.layers})")
        group.add_argument("--ar-heads", type=int, default=d.heads,
                           help=f"attention heads, dividing the width (default {d.heads})")

    def config_from_args(self, args, dataset) -> ARConfig:
        return ARConfig(levels=args.levels, width=args.ar_width, layers=args.ar_layers, heads=args.ar_heads,
                        image_shape=dataset.image_shape,
                        num_classes=dataset.num_classes if args.conditional else 0)

    def summary_fields(self, config: ARConfig) -> dict:
        return {"levels": config.levels}

    def describe(self, config: ARConfig) -> str:
        return (f"Pixel transformer, {config.layers} layers x {config.width} wide, "
                f"{config.heads} heads, K = {config.levels} levels")
