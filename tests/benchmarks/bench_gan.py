"""GAN training: the engine's GAN family vs a plain hand-written DCGAN loop, same run.

The plain loop is what a user would write following pytorch/examples ``dcgan``: the same
architecture (28x28: z 64 -> 128x7x7 -> 64x14x14 -> 1x28x28; D mirrored; 0.67 M parameters),
Adam 2e-4 with betas (0.5, 0.999), batch 128, BCE on D's sigmoid, Fashion-MNIST preloaded as one
uint8 tensor. Three measures:

* training throughput (images/s), interleaved repeats of ``--steps`` steps each, medians;
* quality at equal wall time: each trains for ``--budget`` seconds (the app with its GAN
  defaults, per-epoch measure and checkpoints included), then domain FID, precision and
  recall of 5,000 samples against the test split (``genai_engine.metrics.evaluate``);
* sampling throughput of the app's snapshot (the EMA generator with the default config).

    python tests/benchmarks/bench_gan.py [--budget 120] [--steps 60] [--repeats 3]

Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import numpy as np
import torch
from torch import nn

from genai_engine.checkpoints import load_checkpoint
from genai_engine.data import Dataset, ImageSet, load_dataset
from genai_engine.families import get_family
from genai_engine.families.gan.config import GANConfig
from genai_engine.metrics.evaluate import evaluate, run_to_result
from genai_engine.tasks import TaskControl, drain
from genai_engine.tensors import images_to_tensor
from genai_engine.training import StepRecord, TrainConfig, train

NZ = 64
SAMPLES = 5000


class PlainG(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, 128, 7, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class PlainD(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
            nn.Conv2d(128, 1, 7, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1)


def weights_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def plain_train(train_u8, *, steps=None, budget=None, batch=128):
    """Train for ``steps`` steps or ``budget`` seconds; returns (G, images/s)."""
    torch.manual_seed(0)
    net_g, net_d = PlainG(), PlainD()
    net_g.apply(weights_init)
    net_d.apply(weights_init)
    opt_g = torch.optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    n = len(train_u8)
    done, start = 0, time.perf_counter()
    while True:
        order = torch.randperm(n)
        for i in range(n // batch):
            elapsed = time.perf_counter() - start
            if (steps is not None and done >= steps) or (budget is not None and elapsed >= budget):
                return net_g, done * batch / (time.perf_counter() - start)
            real = train_u8[order[i * batch:(i + 1) * batch]].float() / 127.5 - 1
            ones, zeros = torch.ones(len(real)), torch.zeros(len(real))
            net_d.zero_grad()
            err_real = bce(net_d(real), ones)
            err_real.backward()
            fake = net_g(torch.randn(len(real), NZ, 1, 1))
            err_fake = bce(net_d(fake.detach()), zeros)
            err_fake.backward()
            opt_d.step()
            net_g.zero_grad()
            err_g = bce(net_d(fake), ones)
            err_g.backward()
            opt_g.step()
            done += 1


@torch.inference_mode()
def plain_samples(net_g, n=SAMPLES, seed=0):
    net_g.eval()  # the same BatchNorm decision as the app: running statistics
    z = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, NZ)).astype(np.float32))
    images = (net_g(z.view(n, NZ, 1, 1)) + 1) * 127.5
    return images.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def app_settings(epochs):
    family = get_family("gan")
    return TrainConfig(**{**family.train_defaults, "epochs": epochs, "device": "cpu"})


def app_rate(dataset, steps, batch=128):
    subset = Dataset("fashion-mnist-subset", ImageSet(dataset.train.images[:steps * batch]),
                     dataset.test, class_names=dataset.class_names)
    done = drain(train(subset, GANConfig(image_shape=dataset.image_shape), app_settings(1), family="gan"))
    return done.samples_per_s


def app_train_for(dataset, budget, out_dir):
    """The app's GAN defaults for ``budget`` seconds of wall time (its per-epoch measure and
    checkpoints included); returns the checkpoint."""
    control = TaskControl()
    for record in train(dataset, GANConfig(image_shape=dataset.image_shape), app_settings(1000),
                        family="gan", out_dir=out_dir, control=control):
        if isinstance(record, StepRecord) and record.elapsed_s >= budget:
            control.cancel()
    return load_checkpoint(f"{out_dir}/checkpoint.pt")


def quality(dataset, images):
    result = run_to_result(evaluate(dataset, images, n=len(images), features="domain", kid=False,
                                    inception_score_splits=None, bootstrap=0, device="cpu"))
    return {"fid": round(result.fid, 3), "precision": round(result.precision, 3),
            "recall": round(result.recall, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=120.0, help="training seconds for the quality race")
    parser.add_argument("--steps", type=int, default=60, help="steps per throughput repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    dataset = load_dataset("fashion-mnist")
    train_u8 = images_to_tensor(dataset.train.images, torch.device("cpu"))
    plain, app = [], []
    for _ in range(args.repeats):  # interleaved so both see the same machine load
        plain.append(plain_train(train_u8, steps=args.steps)[1])
        app.append(app_rate(dataset, args.steps))
        print(f"plain {plain[-1]:.0f} img/s  app {app[-1]:.0f} img/s", flush=True)
    net_g, _ = plain_train(train_u8, budget=args.budget)
    plain_quality = quality(dataset, plain_samples(net_g))
    print(f"plain after {args.budget:.0f} s: {plain_quality}", flush=True)
    with tempfile.TemporaryDirectory() as out_dir:
        checkpoint = app_train_for(dataset, args.budget, out_dir)
    snapshot = checkpoint.snapshot("cpu")
    start = time.perf_counter()
    samples = snapshot.sample(SAMPLES, seed=0)
    sampling_rate = SAMPLES / (time.perf_counter() - start)
    app_quality = quality(dataset, samples)
    print(f"app after {args.budget:.0f} s: {app_quality}", flush=True)
    print(json.dumps({
        "benchmark": "gan_train",
        "model": get_family("gan").describe(checkpoint.model_config),
        "parameters": snapshot.parameter_count,
        "steps_per_repeat": args.steps,
        "repeats": args.repeats,
        "plain_images_per_s_median": round(statistics.median(plain)),
        "app_images_per_s_median": round(statistics.median(app)),
        "ratio_app_over_plain": round(statistics.median(app) / statistics.median(plain), 3),
        "budget_s": args.budget,
        "samples": SAMPLES,
        "features": "domain",
        "plain_quality": plain_quality,
        "app_quality": app_quality,
        "app_epochs_trained": checkpoint.epoch,
        "app_sampling_images_per_s": round(sampling_rate),
        "torch_threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
