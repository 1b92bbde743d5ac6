"""On-disk cache of real-data feature statistics.

Featurising the real images is the slow half of an evaluation (10,000 Fashion-MNIST test images
through Inception take minutes on a CPU), and it gives the same answer every time, so it is
done once per (dataset fingerprint, split, feature network, preprocessing) and kept under
``user_data_dir()/stats_cache``. An entry holds the streaming statistics (count, mean, centred
scatter), a seeded uniform sample of at most ``max_features`` feature rows (for KID and
precision/recall) and the k-NN radii of those rows for precision/recall.

Safety: the file name is a hash of the key, and the key is also stored inside the file and
compared field by field on load, so an entry for other data (another fingerprint) is never
used, whatever its name. Unreadable entries are ignored. Writes are atomic
(``files.atomic_write``), so readers never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genai_engine.files import atomic_write
from genai_engine.metrics.statistics import FeatureStats

CACHE_VERSION = 2  # 2: the kept rows are a bottom-k sample (reservoir.py), not Algorithm R's


def default_cache_dir() -> Path:
    from genai_engine.resources import user_data_dir

    return user_data_dir() / "stats_cache"


@dataclass(frozen=True)
class CacheKey:
    fingerprint: str
    split: str
    network_id: str
    preprocessing: str
    max_features: int
    seed: int = 0
    version: int = CACHE_VERSION

    def as_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint, "split": self.split, "network_id": self.network_id,
            "preprocessing": self.preprocessing, "max_features": int(self.max_features),
            "seed": int(self.seed), "version": int(self.version),
        }

    @property
    def file_name(self) -> str:
        text = json.dumps(self.as_dict(), sort_keys=True)
        return f"real-{hashlib.sha256(text.encode()).hexdigest()[:24]}.npz"


@dataclass
class RealStatsEntry:
    key: CacheKey
    stats: FeatureStats
    features: np.ndarray  # float32 (min(n, max_features), dim): a uniform sample of the rows
    info: dict = field(default_factory=dict)  # free-form: dataset name, seconds taken, ...
    radii: dict[int, np.ndarray] = field(default_factory=dict)  # k -> k-NN radii of ``features``


def cache_folder(root: str | os.PathLike | None = None) -> Path:
    return Path(root) if root is not None else default_cache_dir()


def load_entry(key: CacheKey, root: str | os.PathLike | None = None) -> RealStatsEntry | None:
    """The cached entry for exactly ``key``, or ``None`` (missing, foreign, or unreadable)."""
    try:
        path = cache_folder(root) / key.file_name  # the default folder is made on first use
    except OSError:  # no writable home: no cache, which is not an error
        return None
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = json.loads(str(data["key"]))
            if stored != key.as_dict():
                return None
            stats = FeatureStats.from_arrays(data, prefix="stats_")
            features = np.asarray(data["features"], dtype=np.float32)
            info = json.loads(str(data["info"])) if "info" in data.files else {}
            radii = {
                int(name[len("radii_k"):]): np.asarray(data[name], dtype=np.float32)
                for name in data.files
                if name.startswith("radii_k")
            }
    except Exception:  # truncated, not an npz, wrong fields: treat as absent
        return None
    if features.ndim != 2 or features.shape[1] != stats.dim or stats.n < 1:
        return None
    radii = {k: r for k, r in radii.items() if r.shape == (len(features),)}
    return RealStatsEntry(key, stats, features, info, radii)


def save_entry(entry: RealStatsEntry, root: str | os.PathLike | None = None) -> Path:
    """Write ``entry`` atomically; returns its path."""
    path = cache_folder(root) / entry.key.file_name
    arrays = entry.stats.to_arrays(prefix="stats_")
    arrays["features"] = np.ascontiguousarray(entry.features, dtype=np.float32)
    arrays["key"] = np.asarray(json.dumps(entry.key.as_dict(), sort_keys=True))
    arrays["info"] = np.asarray(json.dumps(entry.info, sort_keys=True, default=str))
    for k, radii in entry.radii.items():
        arrays[f"radii_k{int(k)}"] = np.asarray(radii, dtype=np.float32)
    return atomic_write(path, lambda handle: np.savez(handle, **arrays))  # type: ignore[arg-type]  # numpy's stubs fear a key named allow_pickle


def clear_cache(root: str | os.PathLike | None = None) -> int:
    """Delete every cache entry; returns how many files were removed."""
    folder = cache_folder(root)
    removed = 0
    for path in folder.glob("real-*.npz"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
