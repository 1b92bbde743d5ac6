"""The autoregressive family: training step, per-epoch exact test likelihood, preview, CLI options.

One network, two kinds of data: images (pixel tokens at K levels) and text corpora (a character
model: ``config.vocabulary`` set, windows of character ids, measured in bits per character).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from genai_engine.distributed import DistContext
from genai_engine.errors import GenAIError
from genai_engine.families.autoregressive.config import TEXT_SHAPE, TEXT_TRAINING, ARConfig
from genai_engine.families.autoregressive.inference import ARInference
from genai_engine.families.autoregressive.nets import PixelTransformer, image_nll
from genai_engine.families.autoregressive.text_inference import TextInference
from genai_engine.families.base import Batch, EpochMeasure, Family, TrainingStep, adam, distributed
from genai_engine.tensors import to_uint8_images, to_unit

# Scoring a test image costs about a third of training on it: the first 1,000 test images (a
# tenth of Fashion-MNIST's test split, or windows of a text: all 726 of python-docs) are
# scored after each epoch, in a tenth of the time.
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
        self.unit = bits_unit(model.config)

    def __call__(self, batch: Batch) -> dict[str, torch.Tensor]:
        tokens = self.model.to_tokens(batch.x)
        loss = image_nll(self.net(tokens, batch.y), tokens).sum()
        optimizer = self.optimizers[0]
        optimizer.zero_grad(set_to_none=True)
        (loss / len(tokens)).backward()  # DDP averages over ranks: the global-batch mean
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        optimizer.step()
        loss = loss.detach()
        return {"loss": loss, self.unit: loss * self.per_bit}


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


def bits_unit(config: ARConfig) -> str:
    """The metric name of the loss in bits: per character of text, or per pixel-channel."""
    return "bits_per_char" if config.is_text else "bits_per_dim"


class ARFamily(Family):
    name = "autoregressive"
    title = "Autoregressive model (transformer over pixels or characters)"
    config_type = ARConfig
    snapshot_type = ARInference
    # ~40-100 images/s on a 2-core CPU: epochs of a few thousand images give a measure and a
    # checkpoint every minute or two; the rate and schedule: see config.py
    train_defaults = {"lr": 6e-3, "batch_size": 32, "epochs": 3, "epoch_images": 6000,
                      "schedule": "late-decay"}
    loss_unit = "nats per image or text window"
    preview_kind = "predictions"
    divergence_hint = "Try a smaller learning rate (halve it; larger images may need 1e-3 or less)."

    def build(self, config: ARConfig) -> PixelTransformer:
        return PixelTransformer(config)

    def training_step(self, model, train_config, device, dist) -> ARStep:
        return ARStep(model, train_config, device, dist)

    def measure(self, model, test_x, test_y, dist) -> EpochMeasure:
        loss = measure_nll(model, test_x, test_y, dist)
        bits = loss / (model.config.tokens * math.log(2))
        return EpochMeasure({"loss": loss, bits_unit(model.config): bits}, {})

    @torch.inference_mode()
    def preview(self, model: PixelTransformer, x_u8, y) -> np.ndarray:
        """Test images (at K levels), then each pixel as the model predicts it from the true pixels
        before it (the mean level of its predicted distribution: grey where it is unsure).

        One forward pass: drawing samples costs a pass per pixel, too slow to repeat every
        second while training on a CPU. A character model shows no images: none (0 of them)."""
        if model.config.is_text:
            return super().preview(model, x_u8, y)
        was_training = model.training
        model.eval()
        tokens = model.to_tokens(to_unit(x_u8))
        probs = torch.softmax(model(tokens, y).float(), dim=-1)
        mean_level = probs @ torch.arange(model.config.levels, dtype=probs.dtype, device=probs.device)
        model.train(was_training)
        return np.concatenate([to_uint8_images(model.to_images(t)) for t in (tokens, mean_level)])

    def train_defaults_for(self, dataset) -> dict:
        """A text corpus trains with its own settings (``TEXT_TRAINING``, see config.py)."""
        return {**self.train_defaults, **(TEXT_TRAINING if dataset.vocabulary is not None else {})}

    def default_config(self, dataset) -> ARConfig:
        if dataset.vocabulary is not None:
            return ARConfig(**TEXT_SHAPE, image_shape=dataset.image_shape, vocabulary=dataset.vocabulary)
        return ARConfig(image_shape=dataset.image_shape)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        d, t = ARConfig, TEXT_SHAPE
        group = parser.add_argument_group("Autoregressive (--family autoregressive)")
        group.add_argument("--levels", type=int, default=None,
                           help=f"pixel values are rounded to this many levels K (default {d.levels}; "
                                "text: its characters)")
        group.add_argument("--ar-width", type=int, default=None,
                           help=f"transformer width (default {d.width}; text {t['width']})")
        group.add_argument("--ar-layers", type=int, default=None,
                           help=f"transformer blocks (default {d.layers}; text {t['layers']})")
        group.add_argument("--ar-heads", type=int, default=None,
                           help=f"attention heads, dividing the width (default {d.heads}; text {t['heads']})")

    def config_from_args(self, args, dataset) -> ARConfig:
        config = self.default_config(dataset)
        if config.is_text and args.levels is not None:
            raise GenAIError("--levels does not apply to a text corpus: the model's levels are its "
                             f"{config.levels} characters; leave --levels out")
        given = {"levels": args.levels, "width": args.ar_width, "layers": args.ar_layers,
                 "heads": args.ar_heads, "num_classes": dataset.num_classes if args.conditional else 0}
        return ARConfig.from_dict({**config.to_dict(), **{k: v for k, v in given.items() if v is not None}})

    def summary_fields(self, config: ARConfig) -> dict:
        if config.is_text:
            return {"characters": config.levels, "context": config.tokens}
        return {"levels": config.levels}

    def describe(self, config: ARConfig) -> str:
        if config.is_text:
            return (f"Character transformer, {config.layers} layers x {config.width} wide, "
                    f"{config.heads} heads, {config.levels} characters, context {config.tokens}")
        return (f"Pixel transformer, {config.layers} layers x {config.width} wide, "
                f"{config.heads} heads, K = {config.levels} levels")

    def snapshot(self, model: PixelTransformer, device: str = "cpu",
                 class_names=None) -> ARInference | TextInference:
        """An ``ARInference`` for images, a ``TextInference`` for a character model."""
        kind = TextInference if model.config.is_text else ARInference
        return kind(model, device, class_names)
