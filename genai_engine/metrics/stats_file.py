"""Feature statistics from a file as one side of FID: ``fid --save-stats`` output or pytorch-fid's.

pytorch-fid takes a statistics ``.npz`` (``mu``, ``sigma``) in place of images on either side;
so does ``evaluate``. FID needs only the mean and the covariance; KID, precision/recall, the FID
interval and the Inception Score need the features or images themselves, which such a file does
not hold, so ``evaluate`` says they are not computed.

Statistics compare only with features of the same network. ``--save-stats`` records the network
(``feature_network_id`` and ``preprocessing`` in the file's ``meta``); a file made by another
network is refused. pytorch-fid's own files record nothing, but pytorch-fid has one network
(Inception pool3), so such a file is accepted with Inception features and refused otherwise.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genai_engine.errors import DataError, GenAIError


@dataclass(frozen=True)
class NetworkIdentity:
    """What makes two sets of features comparable, and the network's name for people."""

    network_id: str
    preprocessing: str
    label: str
    dim: int

    @classmethod
    def of(cls, net) -> NetworkIdentity:
        """The identity of a loaded feature network (``load_feature_network``)."""
        return cls(net.network_id, net.preprocessing, net.label, int(net.dim))


def inception_identity() -> NetworkIdentity:
    """The Inception network's identity, without loading its weights."""
    from genai_engine.metrics.features import inception

    return NetworkIdentity(inception.NETWORK_ID, inception.PREPROCESSING, inception.LABEL,
                           inception.FEATURE_DIM)


@dataclass(frozen=True)
class SavedStatistics:
    """The mean and covariance of one side's features, read from ``path``."""

    path: str
    mean: np.ndarray  # float64 (d,)
    covariance: np.ndarray  # float64 (d, d)
    n: int | None  # images they summarise; None where the file does not say (pytorch-fid)
    network_id: str | None  # None where the file does not say (pytorch-fid)
    preprocessing: str | None

    @property
    def dim(self) -> int:
        return len(self.mean)

    def check_network(self, network: NetworkIdentity) -> str | None:
        """Raise ``GenAIError`` unless these statistics come from ``network``; return a note
        for the user when that is assumed rather than recorded."""
        if self.network_id is not None and self.network_id != network.network_id:
            raise GenAIError(f"{self.path} holds statistics of {self.network_id} features but this "
                             f"evaluation uses {network.network_id} ones; {_features_hint(self.network_id)}")
        if self.preprocessing is not None and self.preprocessing != network.preprocessing:
            raise GenAIError(f"{self.path} holds statistics of features preprocessed as "
                             f"{self.preprocessing!r}, not {network.preprocessing!r} as here; compare "
                             "it with features made the same way")
        if self.dim != network.dim:
            raise DataError(f"{self.path} holds statistics of {self.dim}-d features but "
                            f"{network.label} gives {network.dim}-d ones")
        if self.network_id is not None:
            return None
        if network.network_id != inception_identity().network_id:
            raise GenAIError(f"{self.path} does not record which feature network made it (pytorch-fid's "
                             "files do not); such statistics are taken as Inception features only: use "
                             "--features inception")
        return (f"{self.path} does not record its feature network (pytorch-fid's files do not); "
                "taken to be Inception pool3 statistics")


def _features_hint(network_id: str) -> str:
    if network_id == inception_identity().network_id:
        return "use --features inception"
    if network_id.startswith("domain-"):
        return "use --features domain with the domain network that made it"
    return "measure with the network that made it"


def is_statistics_file(spec) -> bool:
    """Whether ``spec`` names a ``.npz`` of feature statistics (``mu`` and ``sigma``, no images)."""
    if not isinstance(spec, (str, os.PathLike)) or not str(spec).lower().endswith(".npz"):
        return False
    path = Path(spec)
    if not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            names = set(data.files)
    except (OSError, ValueError, zipfile.BadZipFile):
        return False  # the image reader says what is wrong with it
    return {"mu", "sigma"} <= names and "images" not in names


def read_statistics(path: str | os.PathLike) -> SavedStatistics:
    """The statistics in ``path`` (``is_statistics_file``); ``DataError`` when they are malformed."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            mean = np.asarray(data["mu"], np.float64)
            covariance = np.asarray(data["sigma"], np.float64)
            n = int(data["n"]) if "n" in data.files else None
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: cannot read feature statistics ({error})") from None
    if mean.ndim != 1 or covariance.shape != (len(mean), len(mean)) or len(mean) == 0:
        raise DataError(f"{path}: mu must be a vector and sigma a square matrix of its size, got "
                        f"{mean.shape} and {covariance.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(covariance).all()):
        raise DataError(f"{path}: the statistics contain NaN or infinity")
    meta = meta if isinstance(meta, dict) else {}
    network_id = meta.get("feature_network_id") or meta.get("features")  # "features": older files
    return SavedStatistics(str(path), mean, covariance, n, network_id, meta.get("preprocessing"))
