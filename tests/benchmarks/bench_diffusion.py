"""Diffusion: the engine's family vs a plain hand-written DDPM loop of the same U-Net, same run.

The plain loop is what a user writes from the DDPM paper (Ho et al.) with the cosine schedule of
Nichol & Dhariwal: the engine's default U-Net (16/32/64 on 28x28, attention at 7x7, ~0.7 M
parameters), uniform random t, eps-prediction MSE, Adam at ``--plain-lr`` (constant), an EMA of
the weights (0.999, with the usual (1 + n) / (10 + n) warm-up), batch 64, the data preloaded as
one uint8 tensor, and deterministic DDIM (eta 0, x0 clipped) written here, batched under
``torch.no_grad``. Measured in one process:

* training throughput (images/s): interleaved repeats of ``--train-steps`` steps, medians;
* quality at equal wall time: each trains for ``--budget`` seconds of its own running time, the
  two taking turns of 5 s (``race.py``) so that a shared machine's load falls on both alike (the app with
  its diffusion defaults, per-epoch measures and checkpoints included, stopped at the budget
  if its defaults run longer), then domain FID, precision and recall of ``--samples`` samples against the test
  split (``genai_engine.metrics.evaluate``): the app's default sampler (DDIM, 25 steps) and its
  best one (DPM-Solver++ 2M) at 10 steps, against plain DDIM at 25 and 50 steps on the plain
  model, and plain DDIM at 50 steps on the app's model (same model, fewer steps);
* sampling: images/s of each sample set, and ms per image of every sampler at ``--steps``
  (the engine batched under inference mode with channels-last weights, vs a naive loop of one
  image at a time under ``no_grad``, default layout, on an untrained U-Net: speed does not
  depend on the weights).

    python tests/benchmarks/bench_diffusion.py [--budget 300] [--samples 5000] [--train-steps 60]
        [--repeats 3] [--steps 10,25,50,250] [--batch 64] [--naive-images 4]

With the defaults it runs for about 35-45 minutes on a 2-core CPU (two 300 s trainings, about
20 minutes of sampling for 5 x 5,000 samples, and the speed table). Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from race import take_turns

from genai_engine.checkpoints import load_checkpoint
from genai_engine.data import Dataset, ImageSet, load_dataset
from genai_engine.families import get_family
from genai_engine.families.diffusion import samplers
from genai_engine.families.diffusion.config import DiffusionConfig
from genai_engine.families.diffusion.samplers import SAMPLERS, SamplingSettings
from genai_engine.families.diffusion.unet import UNet
from genai_engine.metrics.evaluate import evaluate, run_to_result
from genai_engine.tasks import TaskControl, drain
from genai_engine.tensors import images_to_tensor
from genai_engine.training import TrainConfig, train

PLAIN_BATCH = 64
EMA_DECAY = 0.999
SAMPLE_BATCH = 500

# --------------------------------------------------------------------------- the plain loop


def cosine_abar(timesteps: int, s: float = 0.008) -> torch.Tensor:
    """abar_t, t = 0 .. T-1, of the cosine schedule (Nichol & Dhariwal, eq. 17), betas clipped at 0.999."""
    steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    return torch.cumprod(1 - (1 - f[1:] / f[:-1]).clamp(max=0.999), 0).float()


class PlainDDPM:
    def __init__(self, config: DiffusionConfig, lr: float) -> None:
        torch.manual_seed(0)
        self.net = UNet(config)
        self.ema = copy.deepcopy(self.net).requires_grad_(False)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.abar = cosine_abar(config.timesteps)
        self.timesteps = config.timesteps
        self.updates = 0

    def step(self, x0: torch.Tensor) -> None:
        t = torch.randint(0, self.timesteps, (len(x0),))
        noise = torch.randn_like(x0)
        a = self.abar[t].view(-1, 1, 1, 1)
        loss = F.mse_loss(self.net(a.sqrt() * x0 + (1 - a).sqrt() * noise, t), noise)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        decay = min(EMA_DECAY, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            for average, weight in zip(self.ema.parameters(), self.net.parameters(), strict=True):
                average.lerp_(weight, 1 - decay)
        self.updates += 1


def plain_steps(model: PlainDDPM, train_u8):
    """The plain loop, one step per ``next``: shuffled epochs of batches of 64."""
    n = len(train_u8)
    while True:
        order = torch.randperm(n)
        for i in range(n // PLAIN_BATCH):
            model.step(train_u8[order[i * PLAIN_BATCH:(i + 1) * PLAIN_BATCH]].float() / 127.5 - 1)
            yield


def plain_train(train_u8, config, lr, *, steps: int):
    """Train ``steps`` steps; returns (model, images/s)."""
    model = PlainDDPM(config, lr)
    start = time.perf_counter()
    for _ in zip(range(steps), plain_steps(model, train_u8), strict=False):
        pass
    return model, steps * PLAIN_BATCH / (time.perf_counter() - start)


@torch.no_grad()
def plain_ddim(net, abar: torch.Tensor, image_shape, n: int, steps: int, seed: int = 0) -> np.ndarray:
    """Deterministic DDIM (Song et al., eta 0) from seeded noise: uint8 (N, H, W, C)."""
    net.eval()
    timesteps = len(abar)
    sequence = torch.linspace(timesteps - 1, 0, steps).round().long().tolist()
    generator = torch.Generator().manual_seed(seed)
    parts = []
    for start in range(0, n, SAMPLE_BATCH):
        x = torch.randn((min(SAMPLE_BATCH, n - start), *image_shape), generator=generator)
        for i, t in enumerate(sequence):
            a = abar[t]
            a_next = abar[sequence[i + 1]] if i + 1 < len(sequence) else torch.tensor(1.0)
            eps = net(x, torch.full((len(x),), t))
            x0 = ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)
            x = a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps
        parts.append(((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy())
    return np.concatenate(parts)

# --------------------------------------------------------------------------- the app


def app_settings(**changes) -> TrainConfig:
    return TrainConfig(**{**get_family("diffusion").train_defaults, "device": "cpu", **changes})


def app_rate(dataset, config, steps) -> float:
    """Training images/s of the app on ``steps`` batches (its per-epoch measure excluded)."""
    batch = app_settings().batch_size
    subset = Dataset("subset", ImageSet(dataset.train.images[:steps * batch]), dataset.test,
                     class_names=dataset.class_names)
    done = drain(train(subset, config, app_settings(epochs=1, epoch_images=0), family="diffusion"))
    return done.samples_per_s


def race(train_u8, dataset, config, lr, budget, out_dir):
    """Both train for ``budget`` seconds of their own running time, taking turns (``race.py``):
    the app with its diffusion defaults, per-epoch measures and checkpoints included, stopped at
    the budget if its defaults run longer. Returns (plain model, app checkpoint, app seconds)."""
    plain = PlainDDPM(config, lr)
    control = TaskControl()
    app_run = train(dataset, config, app_settings(), family="diffusion", out_dir=out_dir, control=control)
    _, app_s, _ = take_turns(plain_steps(plain, train_u8), app_run, budget, control=control)
    return plain, load_checkpoint(f"{out_dir}/checkpoint.pt"), app_s


def app_samples(snapshot, n, sampler, steps):
    snapshot.configure_sampling(sampler=sampler, steps=steps, eta=0.0)
    return snapshot.sample(n, seed=0)

# --------------------------------------------------------------------------- measures


def quality(dataset, draw, features):
    """Samples from ``draw()`` scored against the test split, with their sampling rate."""
    start = time.perf_counter()
    images = draw()
    rate = len(images) / (time.perf_counter() - start)
    result = run_to_result(evaluate(dataset, images, n=len(images), features=features, kid=False,
                                    inception_score_splits=None, bootstrap=0, device="cpu"))
    return {"fid": round(result.fid, 3), "precision": round(result.precision, 3),
            "recall": round(result.recall, 3), "sampling_images_per_s": round(rate, 1)}


def engine_ms(snapshot, settings: SamplingSettings, batch: int) -> float:
    snapshot.configure_sampling(**settings.to_dict())
    start = time.perf_counter()
    snapshot.sample(batch, seed=0)
    return 1000 * (time.perf_counter() - start) / batch


def naive_ms(model, settings: SamplingSettings, images: int) -> float:
    """One image at a time, no inference mode, no channels-last."""
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(images):
            z = torch.randn((1, *model.config.image_shape), generator=torch.Generator().manual_seed(i))
            samplers.run(settings, model.denoiser(None), model.abar, model.config.timesteps, z,
                         torch.Generator().manual_seed(i))
    return 1000 * (time.perf_counter() - start) / images


def speed_table(config, steps_list, batch, naive_images, channels_last) -> tuple[list[dict], int]:
    family = get_family("diffusion")
    torch.manual_seed(0)
    model = family.build(config)
    snapshot = family.snapshot(model)
    if not channels_last:
        snapshot.model.to(memory_format=torch.contiguous_format)
    engine_ms(snapshot, SamplingSettings(steps=2), 2)  # warm-up: first calls pay for kernel setup
    naive_ms(model, SamplingSettings(steps=2), 1)
    rows = []
    for steps in steps_list:
        for sampler in SAMPLERS:
            settings = SamplingSettings(sampler=sampler, steps=min(steps, config.timesteps))
            row = {"sampler": sampler, "steps": settings.steps,
                   "engine_ms_per_image": round(engine_ms(snapshot, settings, batch), 2),
                   "naive_ms_per_image": round(naive_ms(model, settings, naive_images), 2)}
            row["speedup"] = round(row["naive_ms_per_image"] / row["engine_ms_per_image"], 2)
            rows.append(row)
            print(row, flush=True)
    return rows, snapshot.parameter_count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="fashion-mnist", help="a built-in name or a path")
    parser.add_argument("--features", default="domain", choices=("domain", "inception"),
                        help="FID's feature network (domain: the Fashion-MNIST CNN, for 28x28 grey)")
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds for the quality race")
    parser.add_argument("--samples", type=int, default=5000, help="samples per FID")
    parser.add_argument("--plain-lr", type=float, default=1e-3, help="the plain loop's Adam learning rate")
    parser.add_argument("--train-steps", type=int, default=60, help="steps per throughput repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", default="10,25,50,250", help="sampling steps of the ms/image table")
    parser.add_argument("--batch", type=int, default=64, help="images per engine batch in the ms/image table")
    parser.add_argument("--naive-images", type=int, default=4, help="images the naive loop times")
    parser.add_argument("--channels-last", choices=("on", "off"), default="on")
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    family = get_family("diffusion")
    config = family.default_config(dataset)
    train_u8 = images_to_tensor(dataset.train.images, torch.device("cpu"))

    plain_train(train_u8, config, args.plain_lr, steps=5)  # warm-up: first calls, allocator
    app_rate(dataset, config, 5)
    plain_rates, app_rates = [], []
    for _ in range(args.repeats):  # interleaved so both see the same machine load
        plain_rates.append(plain_train(train_u8, config, args.plain_lr, steps=args.train_steps)[1])
        app_rates.append(app_rate(dataset, config, args.train_steps))
        print(f"plain {plain_rates[-1]:.0f} img/s  app {app_rates[-1]:.0f} img/s", flush=True)

    def scored(draw):
        return quality(dataset, draw, args.features)

    def ddim_of(net, steps):
        return lambda: plain_ddim(net, cosine_abar(config.timesteps), config.image_shape, args.samples, steps)

    with tempfile.TemporaryDirectory() as out_dir:
        plain, checkpoint, app_seconds = race(train_u8, dataset, config, args.plain_lr, args.budget, out_dir)
    plain_quality = {"ddim_25": scored(ddim_of(plain.ema, 25)), "ddim_50": scored(ddim_of(plain.ema, 50))}
    print(f"plain after {args.budget:.0f} s ({plain.updates} steps): {plain_quality}", flush=True)
    snapshot = checkpoint.snapshot("cpu")
    app_quality = {
        "default_ddim_25": scored(lambda: app_samples(snapshot, args.samples, "ddim", 25)),
        "best_dpm++2m_10": scored(lambda: app_samples(snapshot, args.samples, "dpm++2m", 10)),
        "plain_ddim_50_same_model": scored(ddim_of(snapshot.model.ema, 50)),
    }
    print(f"app after {app_seconds:.0f} s: {app_quality}", flush=True)

    rows, parameters = speed_table(config, [int(s) for s in args.steps.split(",")], args.batch,
                                   args.naive_images, args.channels_last == "on")
    print(json.dumps({
        "benchmark": "diffusion",
        "dataset": dataset.name,
        "model": family.describe(config),
        "parameters": parameters,
        "train_defaults": family.train_defaults,
        "plain_lr": args.plain_lr,
        "steps_per_repeat": args.train_steps,
        "repeats": args.repeats,
        "plain_images_per_s_median": round(statistics.median(plain_rates)),
        "app_images_per_s_median": round(statistics.median(app_rates)),
        "ratio_app_over_plain": round(statistics.median(app_rates) / statistics.median(plain_rates), 3),
        "ratio_per_repeat_median": round(statistics.median(
            a / p for a, p in zip(app_rates, plain_rates, strict=True)), 3),
        "budget_s": args.budget,
        "samples": args.samples,
        "features": args.features,
        "plain_steps_trained": plain.updates,
        "plain_quality": plain_quality,
        "app_seconds": round(app_seconds, 1),
        "app_epochs_trained": checkpoint.epoch,
        "app_quality": app_quality,
        "app_default_25_beats_plain_25":
            app_quality["default_ddim_25"]["fid"] <= plain_quality["ddim_25"]["fid"],
        "app_best_10_beats_plain_ddim_50_same_model":
            app_quality["best_dpm++2m_10"]["fid"] <= app_quality["plain_ddim_50_same_model"]["fid"],
        "sampling_batch": args.batch,
        "channels_last": args.channels_last,
        "speed_rows": rows,
        "torch_threads": torch.get_num_threads(),
        "device": "cpu",
    }))


if __name__ == "__main__":
    main()
