"""Diffusion sampling speed: ms per image for each sampler and step count, engine vs naive.

The engine samples a batch under ``torch.inference_mode`` with channels-last weights (the
snapshot's path); the naive reference is what a first implementation does: one image at a
time, under ``torch.no_grad`` only, default memory layout. Both run the same default U-Net
(untrained: speed does not depend on the weights) on 28x28 grey images.

    python tests/benchmarks/bench_diffusion.py [--batch 64] [--steps 10,25,50,250] [--naive-images 4]

Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from genai_engine.families import get_family
from genai_engine.families.diffusion import samplers
from genai_engine.families.diffusion.config import DiffusionConfig
from genai_engine.families.diffusion.samplers import SAMPLERS, SamplingSettings


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", default="10,25,50,250")
    parser.add_argument("--naive-images", type=int, default=4, help="images the naive loop times")
    parser.add_argument("--channels-last", choices=("on", "off"), default="on")
    args = parser.parse_args()
    family = get_family("diffusion")
    torch.manual_seed(0)
    model = family.build(DiffusionConfig())
    snapshot = family.snapshot(model)
    if args.channels_last == "off":
        snapshot.model.to(memory_format=torch.contiguous_format)
    engine_ms(snapshot, SamplingSettings(steps=2), 2)  # warm-up: first calls pay for kernel setup
    naive_ms(model, SamplingSettings(steps=2), 1)
    rows = []
    for steps in [int(s) for s in args.steps.split(",")]:
        for sampler in SAMPLERS:
            settings = SamplingSettings(sampler=sampler, steps=steps)
            row = {"sampler": sampler, "steps": steps,
                   "engine_ms_per_image": round(engine_ms(snapshot, settings, args.batch), 2),
                   "naive_ms_per_image": round(naive_ms(model, settings, args.naive_images), 2)}
            row["speedup"] = round(row["naive_ms_per_image"] / row["engine_ms_per_image"], 2)
            rows.append(row)
            print(row, flush=True)
    print(json.dumps({"benchmark": "diffusion_sampling", "batch": args.batch, "device": "cpu",
                      "channels_last": args.channels_last, "torch_threads": torch.get_num_threads(),
                      "parameters": snapshot.parameter_count, "rows": rows}))


if __name__ == "__main__":
    main()
