"""Training speed: the engine's trainer vs a plain hand-written PyTorch loop, same run.

Both train the reference model (MLP 784-400-20, Adam, batch 128) on Fashion-MNIST held in
memory. Also measures time to quality: wall time until the test negative ELBO is <= 245 for
the app's default settings vs the plain loop at lr 1e-3.

    python tests/benchmarks/bench_train.py [--epochs 2] [--repeats 3] [--quality]

Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from genai_engine.data import load_dataset
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.tasks import drain
from genai_engine.tensors import images_to_tensor
from genai_engine.training import EpochRecord, TrainConfig, train

TARGET_ELBO = 245.0


class PlainVAE(nn.Module):
    """The pytorch/examples VAE, written out by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.fc4(F.relu(self.fc3(z))), mu, logvar


def plain_epochs(train_u8, epochs, lr=1e-3, batch=128, test_u8=None, target=None):
    """Returns (images/s, seconds to reach target or None). Timing excludes evaluation."""
    torch.manual_seed(0)
    model = PlainVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(train_u8)
    seconds, images, reached = 0.0, 0, None
    for _ in range(epochs):
        order = torch.randperm(n)
        start = time.perf_counter()
        for i in range(n // batch):
            x = train_u8[order[i * batch:(i + 1) * batch]].float() / 255
            logits, mu, logvar = model(x)
            bce = F.binary_cross_entropy_with_logits(logits, x.view(-1, 784), reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            optimizer.zero_grad()
            (bce + kl).backward()
            optimizer.step()
            images += len(x)
        seconds += time.perf_counter() - start
        if target is not None and reached is None:
            if plain_test_loss(model, test_u8) <= target:
                reached = seconds
    return images / seconds, reached


@torch.inference_mode()
def plain_test_loss(model, test_u8):
    total = 0.0
    for start in range(0, len(test_u8), 1000):
        x = test_u8[start:start + 1000].float() / 255
        logits, mu, logvar = model(x)
        total += float(F.binary_cross_entropy_with_logits(logits, x.view(-1, 784), reduction="sum"))
        total += float(-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()))
    return total / len(test_u8)


def engine_rate(dataset, epochs):
    config = TrainConfig(epochs=epochs, lr=1e-3, batch_size=128, schedule="constant", device="cpu")
    done = drain(train(dataset, ModelConfig(hidden=(400,), latent_dim=20), config))
    return done.samples_per_s


def engine_time_to_target(dataset, epochs):
    """Defaults of the app; training seconds (evaluation excluded) until test loss <= target."""
    config = TrainConfig(device="cpu", epochs=epochs)
    for record in train(dataset, ModelConfig(image_shape=dataset.image_shape), config):
        if isinstance(record, EpochRecord) and record.test_loss <= TARGET_ELBO:
            return record.epoch, record.elapsed_s, record.test_loss
    return None, None, None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quality", action="store_true", help="also measure time to ELBO 245")
    args = parser.parse_args()
    dataset = load_dataset("fashion-mnist")
    train_u8 = images_to_tensor(dataset.train.images, torch.device("cpu"))
    plain, engine = [], []
    for _ in range(args.repeats):  # interleaved so both see the same machine load
        plain.append(plain_epochs(train_u8, args.epochs)[0])
        engine.append(engine_rate(dataset, args.epochs))
        print(f"plain {plain[-1]:.0f} img/s  engine {engine[-1]:.0f} img/s", flush=True)
    result = {
        "benchmark": "train_throughput",
        "epochs_per_repeat": args.epochs,
        "repeats": args.repeats,
        "plain_images_per_s_median": round(statistics.median(plain)),
        "engine_images_per_s_median": round(statistics.median(engine)),
        "ratio_engine_over_plain": round(statistics.median(engine) / statistics.median(plain), 3),
        "torch_threads": torch.get_num_threads(),
    }
    if args.quality:
        test_u8 = images_to_tensor(dataset.test.images, torch.device("cpu"))
        _, plain_seconds = plain_epochs(train_u8, 15, test_u8=test_u8, target=TARGET_ELBO)
        epoch, engine_seconds, loss = engine_time_to_target(dataset, TrainConfig().epochs)
        result.update({
            "target_test_elbo": TARGET_ELBO,
            "plain_seconds_to_target": plain_seconds,
            "engine_seconds_to_target": engine_seconds,
            "engine_epoch_at_target": epoch,
            "engine_test_elbo_at_target": loss,
            "time_ratio_engine_over_plain": (engine_seconds / plain_seconds
                                             if engine_seconds and plain_seconds else None),
        })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
