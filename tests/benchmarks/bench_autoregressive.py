"""The autoregressive family on Fashion-MNIST: sampling with and without the key/value cache,
and the engine's trainer vs a plain hand-written loop of the same model for the same time.
With ``--text``, the same on characters (python-docs) instead.

    python tests/benchmarks/bench_autoregressive.py [--sample-images 4] [--repeats 3]
        [--train-seconds 150] [--samples-png runs/ar_samples.png]
    python tests/benchmarks/bench_autoregressive.py --text [--text-budget 300]

Sampling: an untrained model of the default config (28x28, K levels) draws the same seeded
images with the cache (one position per pixel) and naively (a full forward pass over the prefix
per pixel); medians over ``--repeats``, interleaved so both see the same machine load. The two
must give identical images. Training (``--train-seconds`` > 0): the app's trainer, as a user
runs it for that time (the family's defaults with a time limit of those seconds, ``genai-lab
train --family autoregressive --minutes M``: its schedule planned over them, its per-epoch
measures, previews and checkpoints included in them), and a plain loop of the same model (Adam
at the same rate, constant) take turns of 5 s (``race.py``) until each has run that long; then
the same first 1,000 test images are scored exactly with both models. Prints one JSON line last.

Text (``--text``): the engine's trainer runs the family's text defaults (what ``genai-lab train
--family autoregressive --dataset python-docs`` does), stopped after ``--text-budget`` seconds of
optimisation if it has not finished by then; a plain char-GPT loop of the same model (random
windows of the training text, cross-entropy, Adam at the same rate, constant) then trains for
the same seconds. Both are scored on the same test windows (bits/char). The engine's model then
writes ``--text-chars`` characters with and without the cache at temperature 0.8 (tokens/s; the
texts must match).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np
import torch
from race import TurnClock, take_turns

from genai_engine.data import load_dataset
from genai_engine.data.text import encode_text, python_docs_text, split_point
from genai_engine.distributed import SINGLE
from genai_engine.families import get_family
from genai_engine.families.autoregressive.config import ARConfig
from genai_engine.families.autoregressive.family import MEASURE_IMAGES, measure_nll
from genai_engine.families.autoregressive.nets import PixelTransformer, image_nll
from genai_engine.sampling import save_samples
from genai_engine.tasks import TaskControl
from genai_engine.tensors import images_to_tensor
from genai_engine.training import EPOCHS_MAX, EpochRecord, StepRecord, TrainConfig, train

FAMILY = get_family("autoregressive")


def sampling_rates(config: ARConfig, n: int, repeats: int) -> dict:
    torch.manual_seed(0)
    snapshot = FAMILY.snapshot(PixelTransformer(config))
    cached, naive, same = [], [], True
    for _ in range(repeats):
        start = time.perf_counter()
        a = snapshot.sample(n, seed=1)
        cached.append(n / (time.perf_counter() - start))
        start = time.perf_counter()
        b = snapshot.sample(n, seed=1, cached=False)
        naive.append(n / (time.perf_counter() - start))
        same &= bool(np.array_equal(a, b))
        print(f"cached {cached[-1]:.2f} img/s  naive {naive[-1]:.3f} img/s", flush=True)
    return {"sample_images": n, "cached_images_per_s_median": round(statistics.median(cached), 3),
            "naive_images_per_s_median": round(statistics.median(naive), 4),
            "ratio_cached_over_naive": round(statistics.median(cached) / statistics.median(naive), 1),
            "cached_equals_naive": same}


def plain_steps(model: PixelTransformer, train_u8, lr: float, batch: int):
    """The same network trained by a hand-written loop (Adam, constant lr, clipped), one step
    per ``next``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    while True:
        order = torch.randperm(len(train_u8))
        for i in range(len(train_u8) // batch):
            tokens = model.to_tokens(train_u8[order[i * batch:(i + 1) * batch]].float() / 255)
            loss = image_nll(model(tokens), tokens).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            model.images_seen += batch
            yield


def image_race(dataset, config: ARConfig, seconds: float, out_dir: str) -> dict:
    """The plain loop and the app's trainer (the family's defaults with a time limit of
    ``seconds``) take turns (``race.py``); then both models score the same first test images
    exactly."""
    torch.manual_seed(0)
    plain = PixelTransformer(config)
    plain.images_seen = 0
    cpu = torch.device("cpu")
    d = FAMILY.train_defaults
    clock = TurnClock()  # the app's minutes pass on its own turns only
    settings = {**TrainConfig().to_dict(), **d, "device": "cpu", "minutes": seconds / 60,
                "epochs": EPOCHS_MAX}
    app = train(dataset, config, TrainConfig(**settings), family=FAMILY.name, out_dir=out_dir, clock=clock)
    plain_s, app_s, last = take_turns(plain_steps(plain, images_to_tensor(dataset.train.images, cpu),
                                                  d["lr"], d["batch_size"]), app, seconds, clock=clock)
    from genai_engine.checkpoints import load_checkpoint

    checkpoint = load_checkpoint(f"{out_dir}/checkpoint.pt")
    app_train_s = float(checkpoint.raw["train_seconds"])
    test = images_to_tensor(dataset.test.images, cpu)
    per_dim = config.tokens * math.log(2)
    return {"plain_seconds": round(plain_s, 1), "app_seconds": round(app_s, 1),
            "plain_train_images_per_s": round(plain.images_seen / plain_s, 2),
            "app_train_images_per_s": round(last.images_per_s, 2) if last else None,
            "app_optimisation_seconds": round(app_train_s, 1),  # the rest: measures, previews, saves
            "plain_images": plain.images_seen,
            "app_images": round(app_train_s * last.images_per_s) if last else 0,
            "app_epochs": checkpoint.epoch,
            "plain_test_bits_per_dim": round(measure_nll(plain, test, None, SINGLE) / per_dim, 4),
            "app_test_bits_per_dim": round(
                measure_nll(checkpoint.snapshot().model, test, None, SINGLE) / per_dim, 4),
            "checkpoint": str(checkpoint.path)}


def plain_text_loop(train_ids: torch.Tensor, dataset, config: ARConfig, seconds: float, lr: float,
                    batch: int) -> dict:
    """A char-GPT as a user would write it: random windows of the training text, cross-entropy of
    every next character, Adam (constant rate, clipped), for ``seconds`` of optimisation."""
    torch.manual_seed(0)
    model = PixelTransformer(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    length = config.tokens
    spent, windows = 0.0, 0
    while spent < seconds:
        start = time.perf_counter()
        offsets = torch.randint(len(train_ids) - length + 1, (batch,))
        x = torch.stack([train_ids[i:i + length] for i in offsets.tolist()])
        loss = image_nll(model(x), x).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        spent += time.perf_counter() - start
        windows += batch
    test = images_to_tensor(dataset.test.images, torch.device("cpu"))
    nll = measure_nll(model, test, None, SINGLE)
    return {"seconds": spent, "windows_per_s": windows / spent,
            "test_bits_per_char": nll / (length * math.log(2))}


def engine_text_run(dataset, budget: float) -> tuple[dict, str]:
    """The trainer with the family's text defaults, stopped after ``budget`` seconds of training."""
    control = TaskControl()
    defaults = FAMILY.train_defaults_for(dataset)  # what `genai-lab train` uses for the corpus
    settings = TrainConfig(**{**TrainConfig().to_dict(), **defaults, "device": "cpu"})
    seconds, last = 0.0, None
    for record in train(dataset, None, settings, family=FAMILY.name, out_dir="runs/bench_autoregressive_text",
                        control=control):
        if isinstance(record, StepRecord):
            seconds = record.step * settings.batch_size / record.images_per_s  # optimisation only
            if seconds >= budget:
                control.cancel()
        elif isinstance(record, EpochRecord):
            last = record
            print(f"engine epoch {record.epoch}: test {record.test['bits_per_char']:.3f} bits/char "
                  f"({seconds:.0f} s)", flush=True)
    return {"seconds": seconds, "windows_per_s": last.images_per_s,
            "test_bits_per_char": last.test["bits_per_char"], "epochs": last.epoch,
            "settings": settings.to_dict()}, last.checkpoint


def text_sampling(checkpoint: str, chars: int) -> dict:
    from genai_engine.checkpoints import load_checkpoint

    snapshot = load_checkpoint(checkpoint).snapshot()
    texts, rates = {}, {}
    for cached in (True, False):
        start = time.perf_counter()
        characters = snapshot.generate("The ", chars, temperature=0.8, use_cache=cached)  # as `generate`
        texts[cached] = "".join(characters)
        rates[cached] = chars / (time.perf_counter() - start)
    return {"sample_chars": chars, "cached_tokens_per_s": round(rates[True], 1),
            "naive_tokens_per_s": round(rates[False], 1),
            "ratio_cached_over_naive": round(rates[True] / rates[False], 2),
            "cached_equals_naive": texts[True] == texts[False], "sample": "The " + texts[True]}


def text_benchmark(budget: float, chars: int) -> dict:
    dataset = load_dataset("python-docs")
    config = FAMILY.default_config(dataset)
    engine, checkpoint = engine_text_run(dataset, budget)
    ids = torch.from_numpy(encode_text(python_docs_text(), dataset.vocabulary).astype(np.int64))
    train_ids = ids[:split_point(len(ids))]  # the engine's training part of the text
    settings = engine["settings"]
    plain = plain_text_loop(train_ids, dataset, config, engine["seconds"], settings["lr"],
                            settings["batch_size"])
    return {"benchmark": "autoregressive-text", "corpus": "python-docs", "characters": config.levels,
            "context": config.tokens, "width": config.width, "layers": config.layers, "heads": config.heads,
            "lr": settings["lr"], "batch_size": settings["batch_size"], "text_budget_s": budget,
            "test_windows": len(dataset.test), "torch_threads": torch.get_num_threads(),
            "engine_train_seconds": round(engine["seconds"], 1), "engine_epochs": engine["epochs"],
            "engine_windows_per_s": round(engine["windows_per_s"], 1),
            "engine_test_bits_per_char": round(engine["test_bits_per_char"], 4),
            "plain_train_seconds": round(plain["seconds"], 1),
            "plain_windows_per_s": round(plain["windows_per_s"], 1),
            "plain_test_bits_per_char": round(plain["test_bits_per_char"], 4),
            **text_sampling(checkpoint, chars)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample-images", type=int, default=8, help="0: no sampling comparison")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: one token's small operations lose time to thread hand-offs)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-seconds", type=float, default=0.0, help="0: sampling only")
    parser.add_argument("--samples-png", default=None, help="save 16 samples of the engine's model here")
    parser.add_argument("--text", action="store_true", help="the text benchmark (python-docs) instead")
    parser.add_argument("--text-budget", type=float, default=300.0, help="seconds of training per side")
    parser.add_argument("--text-chars", type=int, default=400, help="characters written to time sampling")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.text:
        print(json.dumps(text_benchmark(args.text_budget, args.text_chars)))
        return
    dataset = load_dataset("fashion-mnist")
    config = FAMILY.default_config(dataset)
    result = {"benchmark": "autoregressive", "levels": config.levels, "width": config.width,
              "layers": config.layers, "heads": config.heads, "torch_threads": torch.get_num_threads()}
    if args.sample_images > 0:
        result.update(sampling_rates(config, args.sample_images, args.repeats))
    if args.train_seconds > 0:
        import tempfile

        with tempfile.TemporaryDirectory() as out_dir:
            race = image_race(dataset, config, args.train_seconds, out_dir)
            result.update({"train_seconds": args.train_seconds, "test_images_scored": MEASURE_IMAGES,
                           **{k: v for k, v in race.items() if k != "checkpoint"}})
            if args.samples_png:
                from genai_engine.checkpoints import load_checkpoint

                start = time.perf_counter()
                samples = load_checkpoint(race["checkpoint"]).snapshot().sample(16, seed=0)
                result["samples_seconds_16"] = round(time.perf_counter() - start, 2)
                result["samples_png"] = str(save_samples(samples, args.samples_png))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
