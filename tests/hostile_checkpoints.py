"""Hostile checkpoints and settings files, written on demand for the reliability tests.

``HOSTILE_CHECKPOINTS[name](folder, good) -> Path`` writes one bad checkpoint into ``folder``
(``good`` is a valid checkpoint path to corrupt or rewrite) and every one of them must make
``load_checkpoint`` raise ``CheckpointError`` whose text (lower-cased) holds one of
``EXPECTED[name]``. ``pickle_runs_code`` would create ``folder/PICKLE_MARKER`` if anything
unpickled it; the tests check it never appears.

``WRONG_DATASET`` loads fine on its own but must be refused when resumed on another dataset
(the fingerprint check lives in ``training.train``). ``CORRUPT_SETTINGS`` write broken
QSettings .ini files that the main window must survive.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

PICKLE_MARKER = "CHECKPOINT-PICKLE-RAN-CODE"

Writer = Callable[[Path, Path], Path]
HOSTILE_CHECKPOINTS: dict[str, Writer] = {}
EXPECTED: dict[str, tuple[str, ...]] = {}


def _hostile(*phrases: str) -> Callable[[Writer], Writer]:
    def register(write: Writer) -> Writer:
        HOSTILE_CHECKPOINTS[write.__name__] = write
        EXPECTED[write.__name__] = phrases
        return write
    return register


def _raw(good: Path) -> dict:
    return torch.load(good, map_location="cpu", weights_only=True)


def _save(payload, path: Path) -> Path:
    torch.save(payload, path)
    return path


class _TouchMarker:
    """Unpickling this calls ``os.mkdir(marker)``: proof that a loader ran code from a file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@_hostile("empty")
def zero_bytes(folder: Path, good: Path) -> Path:
    path = folder / "zero.pt"
    path.write_bytes(b"")
    return path


@_hostile("not a readable")
def truncated_zip(folder: Path, good: Path) -> Path:
    data = good.read_bytes()
    path = folder / "truncated.pt"
    path.write_bytes(data[: len(data) // 2])
    return path


@_hostile("not a readable")
def random_bytes(folder: Path, good: Path) -> Path:
    path = folder / "random.pt"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


@_hostile("could run code")
def pickle_runs_code(folder: Path, good: Path) -> Path:
    """A real torch zip whose data.pkl calls os.mkdir when unpickled."""
    path = _save({"format": "genai-lab-vae", "payload": _TouchMarker(str(folder / PICKLE_MARKER))},
                 folder / "exploit.pt")
    return path


@_hostile("not a readable")
def plain_pickle_runs_code(folder: Path, good: Path) -> Path:
    """A bare pickle (no torch zip around it) with the same payload: old torch.save format."""
    path = folder / "exploit-plain.pt"
    path.write_bytes(pickle.dumps(_TouchMarker(str(folder / PICKLE_MARKER)), protocol=2))
    return path


@_hostile("not a genai lab checkpoint")
def wrong_format_key(folder: Path, good: Path) -> Path:
    raw = _raw(good)
    raw["format"] = "someone-elses-model"
    return _save(raw, folder / "wrong-format.pt")


@_hostile("not a genai lab checkpoint")
def bare_state_dict(folder: Path, good: Path) -> Path:
    return _save(_raw(good)["model_state"], folder / "state-dict.pt")


@_hostile("weights do not fit")
def weights_do_not_match_config(folder: Path, good: Path) -> Path:
    raw = _raw(good)
    config = dict(raw["model_config"])
    config["latent_dim"] = int(config["latent_dim"]) + 3
    raw["model_config"] = config
    return _save(raw, folder / "mismatch.pt")


@_hostile("weights do not fit")
def missing_model_state(folder: Path, good: Path) -> Path:
    raw = _raw(good)
    del raw["model_state"]
    return _save(raw, folder / "no-weights.pt")


@_hostile("nan or infinite")
def nan_weights(folder: Path, good: Path) -> Path:
    raw = _raw(good)
    name = next(k for k, v in raw["model_state"].items() if v.is_floating_point())
    raw["model_state"][name] = torch.full_like(raw["model_state"][name], math.nan)
    return _save(raw, folder / "nan.pt")


@_hostile("newer genai lab")
def newer_format_version(folder: Path, good: Path) -> Path:
    raw = _raw(good)
    raw["format_version"] = 99
    return _save(raw, folder / "newer.pt")


@_hostile("not a readable")
def zip_without_torch_records(folder: Path, good: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/readme.txt", "a zip, but not a torch file")
    path = folder / "plain.zip.pt"
    path.write_bytes(buffer.getvalue())
    return path


def write_wrong_dataset(folder: Path, good: Path) -> Path:
    """Valid, but its dataset fingerprint belongs to another dataset: resuming must refuse."""
    raw = _raw(good)
    raw["dataset"] = {**raw.get("dataset", {}), "name": "other-data", "fingerprint": "0" * 16}
    return _save(raw, folder / "other-dataset.pt")


# -- settings ----------------------------------------------------------------------------------
def _settings_random(path: Path) -> None:
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 2048, dtype=np.uint8).tobytes())


def _settings_bad_values(path: Path) -> None:
    path.write_text("[General]\ndevice=quantum\nconfirm_close=@Invalid(\nlast_dataset=\x00\x01\n"
                    "last_checkpoint=/no/such/dir/model.pt\n"
                    "window\\geometry=@ByteArray(not-a-geometry)\n"
                    "[train]\nepochs=-5\nbatch_size=lots\nlatent_dim=1e99\nhidden=[[[\n"
                    "learning_rate=nan\n", encoding="latin-1")


def _settings_truncated(path: Path) -> None:
    path.write_text("[General]\ndevice=cp", encoding="utf-8")


def _settings_empty(path: Path) -> None:
    path.write_bytes(b"")


def _settings_folder(path: Path) -> None:
    path.mkdir()  # a directory where the .ini should be


CORRUPT_SETTINGS: dict[str, Callable[[Path], None]] = {
    "random_bytes": _settings_random,
    "bad_values": _settings_bad_values,
    "truncated": _settings_truncated,
    "empty": _settings_empty,
    "directory": _settings_folder,
}
