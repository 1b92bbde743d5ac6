"""Replay training: decode a latent point through every per-epoch decoder snapshot.

Training keeps a light float16 copy of the decoder after each epoch (``Checkpoint.timeline``:
a list of ``{'epoch': int, 'decoder': state_dict}``). ``TimelineDecoder`` swaps those weights
into one private model copy, so memory stays at one model however long the run was.

    timeline = TimelineDecoder(checkpoint)          # cheap; nothing decoded yet
    timeline.epochs                                 # [1, 2, ..., 6]
    image = timeline.decode(z, epoch=3)             # (H, W, C) uint8 for z of shape (D,)
    epochs, images = timeline.decode_all(z)         # (T,), (T, H, W, C): one frame per epoch
    epochs, images = decode_timeline(checkpoint, z) # the same in one call
    timeline.at(3).decode(z)                        # a decoder with LatentSnapshot's decode()
    filmstrip_epochs(timeline.epochs, 12)           # at most 12 of them, first and last kept

Calls are thread-safe (one lock around the swap-and-decode), pure numpy in and out, and run
under ``torch.inference_mode()``; the private model copy is made on the first decode, and an
epoch's weights are converted to float32 on first use and kept. Building a ``TimelineDecoder``
only reads the snapshots' shapes, so a GUI thread may do it.
"""

from __future__ import annotations

import copy
import threading

import numpy as np
import torch

from genai_engine.checkpoints import Checkpoint
from genai_engine.errors import CheckpointError, GenAIError
from genai_engine.tensors import labels_tensor, to_uint8_images


class TimelineDecoder:
    def __init__(self, checkpoint: Checkpoint, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.family = checkpoint.family
        self.config = checkpoint.model_config
        self.final_epoch = int(checkpoint.epoch)
        self._source = checkpoint.model
        self._model = None  # the private copy, made by the first decode
        model_state = self._source.state_dict()
        entries = sorted(checkpoint.timeline, key=lambda entry: int(entry["epoch"]))
        self._snapshots: list[dict[str, torch.Tensor]] = []
        for entry in entries:
            state = entry["decoder"]
            for name, tensor in state.items():
                if name not in model_state or tuple(tensor.shape) != tuple(model_state[name].shape):
                    raise CheckpointError(f"the timeline snapshot of epoch {entry['epoch']} does not "
                                          f"fit the model ({name!r})")
            self._snapshots.append(state)
        self.epochs: list[int] = [int(entry["epoch"]) for entry in entries]
        self._float32: dict[int, dict[str, torch.Tensor]] = {}
        self._at: dict[int, EpochDecoder] = {}
        self._loaded: int | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.epochs)

    def index_of(self, epoch: int) -> int:
        """Position of ``epoch`` in ``epochs`` (the latest snapshot at or before it)."""
        if not self.epochs:
            raise GenAIError("this checkpoint keeps no per-epoch snapshots")
        position = int(np.searchsorted(self.epochs, int(epoch), side="right")) - 1
        return max(position, 0)

    def at(self, epoch: int) -> EpochDecoder:
        """The decoder as it was after ``epoch``, with ``LatentSnapshot.decode``'s signature."""
        epoch = self.epochs[self.index_of(epoch)]
        if epoch not in self._at:  # one object per epoch: callers may compare them
            self._at[epoch] = EpochDecoder(self, epoch)
        return self._at[epoch]

    def _load(self, index: int) -> None:
        if self._model is None:
            self._model = copy.deepcopy(self._source).to(self.device).eval()
        if self._loaded == index:
            return
        weights = self._float32.get(index)
        if weights is None:
            weights = {k: v.to(self.device, torch.float32) for k, v in self._snapshots[index].items()}
            self._float32[index] = weights
        self._model.load_state_dict(weights, strict=False)
        self._loaded = index

    def _labels(self, labels, n: int) -> torch.Tensor | None:
        return labels_tensor(labels, n, self.config.num_classes, self.device)

    def decode(self, z: np.ndarray, epoch: int, labels=None) -> np.ndarray:
        """Decode ``z`` (D,) or (N, D) with the decoder as it was after ``epoch``: uint8
        (H, W, C) or (N, H, W, C). ``labels`` pick the class of a conditional model."""
        z = np.asarray(z, np.float32)
        single = z.ndim == 1
        zt = torch.from_numpy(np.atleast_2d(z).copy()).to(self.device)
        index = self.index_of(epoch)
        with self._lock, torch.inference_mode():
            self._load(index)
            images = to_uint8_images(self._model.decode_images(zt, self._labels(labels, len(zt))))
        return images[0] if single else images

    def snapshot_at(self, epoch: int):
        """The family's snapshot (``Checkpoint.snapshot``'s kind) with the weights of ``epoch``:
        what samples a model without a decodable latent after each epoch."""
        from genai_engine.families import get_family

        with self._lock:
            self._load(self.index_of(epoch))
            return get_family(self.family).snapshot(self._model, str(self.device))

    def decode_all(self, z: np.ndarray, labels=None, epochs=None) -> tuple[np.ndarray, np.ndarray]:
        """One latent point ``z`` (D,) through every snapshot (or those of ``epochs``):
        (epochs int64 (T,), uint8 images (T, H, W, C)), oldest first."""
        z = np.asarray(z, np.float32)
        if z.ndim != 1:
            raise GenAIError("decode_all takes one latent point of shape (D,)")
        if not self.epochs:
            raise GenAIError("this checkpoint keeps no per-epoch snapshots; train with this "
                             "version of GenAI Lab to record a timeline")
        epochs = self.epochs if epochs is None else [int(epoch) for epoch in epochs]
        frames = [self.decode(z, epoch, labels) for epoch in epochs]
        return np.asarray(epochs, np.int64), np.stack(frames)


class EpochDecoder:
    """One epoch of a ``TimelineDecoder``, usable wherever a ``LatentSnapshot`` decodes."""

    def __init__(self, timeline: TimelineDecoder, epoch: int) -> None:
        self.timeline = timeline
        self.epoch = int(epoch)
        self.config = timeline.config

    def decode(self, z: np.ndarray, labels=None) -> np.ndarray:
        return self.timeline.decode(z, self.epoch, labels)


def filmstrip_epochs(epochs: list[int], most: int) -> list[int]:
    """At most ``most`` epochs, evenly spread, always keeping the first and the last."""
    if len(epochs) <= most:
        return list(epochs)
    picks = np.unique(np.round(np.linspace(0, len(epochs) - 1, max(most, 2))).astype(int))
    return [int(epochs[i]) for i in picks]


def decode_timeline(checkpoint: Checkpoint, z: np.ndarray, labels=None,
                    device: str | torch.device = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """(epochs (T,), uint8 images (T, H, W, C)): ``z`` decoded after each training epoch."""
    return TimelineDecoder(checkpoint, device).decode_all(z, labels)
