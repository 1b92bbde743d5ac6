"""Image sources for evaluation: streams of uint8 batches of known length and shape.

An ``ImageSource`` says how many images it holds, their (H, W, C) shape and, for real data, a
cache identity (dataset fingerprint and split); ``shard(batch_size, rank, world)`` yields
``(first position, uint8 batch)`` for the batches one torchrun rank featurises. The builders
turn what a user hands ``evaluate`` into one: ``real_source`` (a built-in name, a path, a
``Dataset``, an ``ImageSet`` or an array), ``fake_source`` (a checkpoint, a model snapshot, a
path, an array or an iterable of batches), ``model_source`` (a snapshot's samples),
``decoded_prior_source`` (prior samples through any decoder, e.g. one epoch
of a training timeline) and ``sampled_source`` (a model's own ``sample``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from genai_engine.errors import DataError, GenAIError

DEFAULT_N = 10_000  # generated images when a checkpoint is evaluated without ``n``
SAMPLE_CHUNK = 1000  # generated images are drawn in fixed chunks: results do not depend on batch size


@dataclass
class ImageSource:
    """A stream of uint8 image batches of known length, plus a cache identity when real."""

    total: int
    shape: tuple[int, int, int]  # (H, W, C)
    shard: Callable[[int, int, int], Iterator[tuple[int, np.ndarray]]]  # (batch_size, rank, world) ->
    # (first position, uint8 batch) of each batch that rank featurises
    fingerprint: str | None = None
    split: str = ""
    name: str = ""
    chunk: int | None = 0  # batches never cross multiples of it (0: one chunk; None: unknown)

    def share(self, batch_size: int, rank: int, world: int) -> int:
        """How many images ``shard(batch_size, rank, world)`` yields (estimated when the
        stream's chunks are not known in advance)."""
        if self.chunk is None:
            return -(-self.total // world)
        batches = plan_batches(self.total, batch_size, self.chunk)[rank::world]
        return sum(stop - start for start, stop in batches)


def plan_batches(total: int, batch_size: int, chunk: int = 0) -> list[tuple[int, int]]:
    """(start, stop) of each batch of a stream of ``total`` images: ``batch_size`` at a time,
    restarting at every multiple of ``chunk`` (0: no chunks). Under torchrun rank r featurises
    batches r, r + world, ...: each rank gets exactly the batches one process would make, so
    every image goes through the network in the same batch, and gives the same features."""
    chunk = chunk or max(total, 1)
    plan = []
    for begin in range(0, total, chunk):
        end = min(total, begin + chunk)
        plan += [(start, min(start + batch_size, end)) for start in range(begin, end, batch_size)]
    return plan


def array_source(images: np.ndarray, n: int | None, seed: int, name: str) -> ImageSource:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
        raise DataError(
            f"{name}: expected uint8 images (N, H, W, 1|3), got {images.dtype} {images.shape}"
        )
    if len(images) == 0:
        raise DataError(f"{name}: no images")
    index = None
    if n is not None and n < len(images):
        # a random subset, not the first n: files are often sorted by class
        index = np.sort(np.random.default_rng(seed).choice(len(images), n, replace=False))
    total = len(images) if index is None else len(index)

    def shard(batch_size: int, rank: int, world: int):
        for start, stop in plan_batches(total, batch_size)[rank::world]:
            yield start, images[start:stop] if index is None else images[index[start:stop]]

    return ImageSource(total, tuple(images.shape[1:]), shard, name=name)


def real_source(real, split: str, seed: int) -> ImageSource:
    from genai_engine.data import Dataset, ImageSet, load_dataset, read_image_set
    from genai_engine.data.builtin import find_builtin
    from genai_engine.data.dataset import fingerprint_arrays

    if isinstance(real, (str, os.PathLike)):
        spec = str(real)
        if find_builtin(spec) is not None:
            real = load_dataset(spec)
        else:
            images = read_image_set(spec).images
            source = array_source(images, None, seed, spec)
            source.fingerprint, source.split = fingerprint_arrays(images), "images"
            return source
    if isinstance(real, Dataset):
        source = array_source(real.split(split).images, None, seed, f"{real.name} ({split})")
        source.fingerprint, source.split = real.fingerprint, split
        return source
    images = real.images if isinstance(real, ImageSet) else np.asarray(real)
    source = array_source(images, None, seed, "real images")
    source.fingerprint, source.split = fingerprint_arrays(images), "images"
    return source


def model_source(model, n: int, seed: int, name: str = "model samples") -> ImageSource:
    """Samples of a snapshot of any family (a ``GenerativeModel``), drawn chunk by chunk: the
    same images as ``sampling.sample_model(model, n, seed)``."""
    from genai_engine.families.base import LatentDecoder
    from genai_engine.sampling import require_images

    require_images(model)
    num_classes = int(getattr(model.config, "num_classes", 0) or 0)
    if isinstance(model, LatentDecoder):
        return decoded_prior_source(model, model.latent_dim, num_classes, n, seed, name)
    return sampled_source(model, num_classes, n, seed, name)


def checkpoint_source(checkpoint, n: int, seed: int, device: str) -> ImageSource:
    """``model_source`` on a checkpoint's weights (``sampling.sample_images``' images)."""
    return model_source(checkpoint.snapshot(device), n, seed, "checkpoint samples")


def decoded_prior_source(decoder, latent_dim: int, num_classes: int, n: int, seed: int,
                         name: str) -> ImageSource:
    """``n`` prior samples (drawn with ``seed``) decoded by ``decoder`` (anything with
    ``LatentSnapshot.decode``'s signature, e.g. one epoch of a training timeline) in chunks of
    ``SAMPLE_CHUNK``; a conditional decoder (``num_classes`` > 0) gets labels 0, 1, ... in turn."""
    from genai_engine.families.base import prior_samples

    probe_label = np.zeros(1, np.int64) if num_classes else None
    probe = decoder.decode(np.zeros((1, latent_dim), np.float32), probe_label)

    def shard(batch_size: int, rank: int, world: int):
        # every rank draws all n latents from the seed and decodes whole chunks, as one
        # process does, so a rank's images are bit for bit the single-process ones
        z_all = prior_samples(n, latent_dim, seed)
        mine = plan_batches(n, batch_size, SAMPLE_CHUNK)[rank::world]
        for begin, batches in itertools.groupby(mine, key=lambda b: b[0] - b[0] % SAMPLE_CHUNK):
            stop = min(n, begin + SAMPLE_CHUNK)
            labels = np.arange(begin, stop) % num_classes if num_classes else None
            images = decoder.decode(z_all[begin:stop], labels)
            for first, last in batches:
                yield first, images[first - begin : last - begin]

    return ImageSource(n, tuple(probe.shape[1:]), shard, name=name, chunk=SAMPLE_CHUNK)


def sampled_source(model, num_classes: int, n: int, seed: int, name: str) -> ImageSource:
    """``n`` samples of a model without a decodable latent (``model.sample``), drawn in chunks
    of ``SAMPLE_CHUNK`` with seeds ``seed + chunk index``, so every rank and batch size sees
    the same images; a conditional model gets labels 0, 1, ... in turn."""
    probe = model.sample(1, seed=seed, labels=np.zeros(1, np.int64) if num_classes else None)

    def shard(batch_size: int, rank: int, world: int):
        mine = plan_batches(n, batch_size, SAMPLE_CHUNK)[rank::world]
        for begin, batches in itertools.groupby(mine, key=lambda b: b[0] - b[0] % SAMPLE_CHUNK):
            stop = min(n, begin + SAMPLE_CHUNK)
            labels = np.arange(begin, stop) % num_classes if num_classes else None
            images = model.sample(stop - begin, seed=seed + begin // SAMPLE_CHUNK, labels=labels)
            for first, last in batches:
                yield first, images[first - begin : last - begin]

    return ImageSource(n, tuple(probe.shape[1:]), shard, name=name, chunk=SAMPLE_CHUNK)


def _cut_all(first: np.ndarray, rest, batch_size: int):
    for chunk in itertools.chain((first,), rest):
        chunk = np.asarray(chunk)
        for start in range(0, len(chunk), batch_size):
            yield chunk[start : start + batch_size]


def fake_source(fake, n: int | None, seed: int, device: str) -> ImageSource:
    from genai_engine.data import ImageSet, read_image_set
    from genai_engine.families.base import GenerativeModel

    if type(fake).__name__ == "Checkpoint" and hasattr(fake, "model_config"):
        return checkpoint_source(fake, int(n or DEFAULT_N), seed, device)
    if isinstance(fake, GenerativeModel):  # a weight snapshot (e.g. of a running training), on its device
        return model_source(fake, int(n or DEFAULT_N), seed)
    if isinstance(fake, (str, os.PathLike)):
        return array_source(read_image_set(fake).images, n, seed, str(fake))
    if isinstance(fake, ImageSet):
        return array_source(fake.images, n, seed, "generated images")
    if isinstance(fake, np.ndarray):
        return array_source(fake, n, seed, "generated images")
    if isinstance(fake, Iterable):
        if n is None:
            raise GenAIError("give n (the number of images) with an iterator of image batches")
        iterator = iter(fake)
        try:
            first = np.asarray(next(iterator))
        except StopIteration:
            raise DataError("no generated images") from None

        def shard(batch_size: int, rank: int, world: int):
            # re-cut the caller's chunks: a 1000-image chunk through Inception would need
            # 1000 x 3 x 299 x 299 floats at once. Under torchrun every rank iterates its own
            # (identical) iterable and keeps its batches.
            position = 0
            for k, images in enumerate(_cut_all(first, iterator, batch_size)):
                if k % world == rank:
                    yield position, images
                position += len(images)

        return ImageSource(int(n), tuple(first.shape[1:]), shard, name="generated images", chunk=None)
    raise GenAIError(f"cannot evaluate generated images given as {type(fake).__name__}")
