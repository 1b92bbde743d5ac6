"""The domain feature network: a small CNN classifier trained on the images being modelled.

Inception-V3 was trained on ImageNet photographs; on 28x28 grayscale clothes it is slow and
not very discerning. A classifier trained on the target domain gives features that are cheap to
compute and sensitive to what matters there. Its global-average-pooled last convolution (the
layer before the classifier, like Inception's pool3) gives 128-d features for FID, KID and
precision/recall; its logits give the Inception Score. Numbers computed with it are labelled
as domain numbers: they do not compare with published Inception FIDs.

The shipped network (``resources/models/domain_fashion_mnist.pt``) was trained on the
Fashion-MNIST train split by ``python -m genai_engine.metrics.features.domain`` and records its
test accuracy and the dataset fingerprint inside. Weight files are plain dictionaries of
tensors, strings and numbers, read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from genai_engine.errors import DataError, WeightsError
from genai_engine.files import atomic_write
from genai_engine.metrics.features._fuse import fold_batch_norm
from genai_engine.metrics.features._tensors import as_tensor

FORMAT = "genai-lab-domain-net"
FORMAT_VERSION = 1
DEFAULT_WEIGHTS_NAME = "domain_fashion_mnist.pt"
PREPROCESSING = "u8/127.5-1"

# (out_channels, kernel, stride) of each conv-BN-ReLU layer; the last one's width is the
# feature dimension.
DEFAULT_LAYERS: tuple[tuple[int, int, int], ...] = (
    (16, 3, 1),
    (32, 3, 2),
    (32, 3, 1),
    (64, 3, 2),
    (64, 3, 1),
    (128, 1, 1),
)


class DomainNet(nn.Module):
    """conv-BN-ReLU stack -> global average pool (features) -> dropout -> linear (logits)."""

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        layers: tuple[tuple[int, int, int], ...] = DEFAULT_LAYERS,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.layers_spec = tuple(tuple(int(v) for v in spec) for spec in layers)
        body: list[nn.Module] = []
        channels = in_channels
        for out_channels, kernel, stride in self.layers_spec:
            body += [
                nn.Conv2d(channels, out_channels, kernel, stride, kernel // 2, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            ]
            channels = out_channels
        self.body = nn.Sequential(*body)
        self.feature_dim = channels
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(channels, num_classes)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.body(x).mean(dim=(2, 3))
        return feats, self.head(self.dropout(feats))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_logits(x)[1]


class _FusedDomainNet(nn.Module):
    """Inference copy of a ``DomainNet``: batch-norm folded into the convolutions."""

    def __init__(self, net: DomainNet) -> None:
        super().__init__()
        convs: list[nn.Module] = []
        modules = list(net.body)
        for i in range(0, len(modules), 3):
            conv, bn = modules[i], modules[i + 1]
            assert isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
            weight, bias = fold_batch_norm(
                conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
            )
            fused = nn.Conv2d(
                conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding
            )
            fused.weight.data.copy_(weight)
            fused.bias.data.copy_(bias)
            convs.append(fused)
        self.convs = nn.ModuleList(convs)
        self.head = nn.Linear(net.head.in_features, net.head.out_features)
        self.head.load_state_dict(net.head.state_dict())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for conv in self.convs:
            x = F.relu(conv(x), inplace=True)
        feats = x.mean(dim=(2, 3))
        return feats, self.head(feats)


def to_input(images: np.ndarray | torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (N, H, W, C) -> float32 (N, C, H, W) in [-1, 1] on ``device``."""
    t = as_tensor(images).to(device)
    return t.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def state_hash(state_dict: dict[str, torch.Tensor]) -> str:
    """A content hash of the weights, independent of file layout (16 hex digits)."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()[:16]


@dataclass
class DomainFeatures:
    """A ready domain network: call ``extract(uint8 images)`` for (features, logits)."""

    net: DomainNet
    meta: dict
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def __post_init__(self) -> None:
        self.net.eval()
        self._fused = _FusedDomainNet(self.net).to(self.device).eval()
        self.weights_hash = state_hash(self.net.state_dict())
        self.dim = self.net.feature_dim
        self.num_classes = self.net.num_classes
        self.image_shape = tuple(self.meta.get("image_shape") or ())  # (C, H, W) it was trained on

    # --- the feature-extractor interface shared with InceptionFeatures -------------------
    has_logits = True
    preferred_batch_size = 256  # measured: 250 beat 500 and 1000 on a 2-core CPU

    @property
    def network_id(self) -> str:
        return f"domain-{self.weights_hash}"

    @property
    def preprocessing(self) -> str:
        return PREPROCESSING

    @property
    def label(self) -> str:
        name = self.meta.get("dataset_name") or "custom"
        acc = self.meta.get("test_accuracy")
        acc_text = f", test acc {acc:.1%}" if isinstance(acc, float) and acc == acc else ""
        return f"domain CNN ({name}{acc_text}, {self.dim}-d; not comparable to Inception FID)"

    def check_images(self, shape: tuple[int, ...], what: str = "images") -> None:
        """Raise ``DataError`` unless uint8 images of ``shape`` (N, H, W, C) fit this network."""
        _, h, w, c = shape
        if self.image_shape and (c, h, w) != self.image_shape:
            ch, hh, ww = self.image_shape
            raise DataError(
                f"{what} are {h}x{w}x{c} but the domain network was trained on {hh}x{ww}x{ch} "
                "images; train a domain network on this dataset or use --features inception"
            )

    def extract(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (N, H, W, C) -> features float32 (N, dim), logits float32 (N, classes)."""
        with torch.inference_mode():
            feats, logits = self._fused(to_input(images, self.device))
        return feats.float().cpu().numpy(), logits.float().cpu().numpy()


# --- saving and loading ------------------------------------------------------------------

def make_payload(net: DomainNet, meta: dict) -> dict:
    """The dictionary a weight file holds: plain tensors, strings and numbers only."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "in_channels": net.in_channels,
        "num_classes": net.num_classes,
        "layers": [list(spec) for spec in net.layers_spec],
        "state_dict": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
    }
    payload.update(meta)
    return payload


def save_domain_network(payload: dict, path: str | os.PathLike) -> Path:
    """Write a payload from ``make_payload`` or ``DomainTrainResult.payload`` atomically."""
    return atomic_write(path, lambda handle: torch.save(payload, handle))


def default_weights_path() -> Path:
    from genai_engine.resources import resources_dir

    return resources_dir() / "models" / DEFAULT_WEIGHTS_NAME


def network_from_payload(payload: dict) -> tuple[DomainNet, dict]:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise WeightsError("this file is not a GenAI Lab domain network")
    if int(payload.get("format_version", 0)) > FORMAT_VERSION:
        raise WeightsError("this domain network was saved by a newer GenAI Lab; update the app")
    net = DomainNet(
        in_channels=int(payload["in_channels"]),
        num_classes=int(payload["num_classes"]),
        layers=tuple(tuple(int(v) for v in spec) for spec in payload["layers"]),
    )
    net.load_state_dict(payload["state_dict"])
    meta = {k: v for k, v in payload.items() if k not in ("state_dict", "layers")}
    return net.eval(), meta


def load_domain_network(
    path: str | os.PathLike | None = None, device: torch.device | str = "cpu"
) -> DomainFeatures:
    """Load a domain network (default: the shipped Fashion-MNIST one) for feature extraction."""
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        raise WeightsError(
            f"domain network weights not found at {path}; reinstall GenAI Lab or train one "
            "with `python -m genai_engine.metrics.features.domain`"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or foreign file
        raise WeightsError(f"cannot read domain network {path}: {error}") from error
    net, meta = network_from_payload(payload)
    meta["path"] = str(path)
    return DomainFeatures(net, meta, torch.device(device))


# --- training ----------------------------------------------------------------------------

@dataclass
class DomainTrainProgress:
    epoch: int
    epochs: int
    step: int
    steps_per_epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float | None
    seconds: float


@dataclass
class DomainTrainResult:
    payload: dict  # ready for save_domain_network
    test_accuracy: float | None
    epochs: int
    seconds: float
    cancelled: bool = False


def _augment(x: torch.Tensor, generator: torch.Generator, shift: int) -> torch.Tensor:
    """Random translation by up to ``shift`` pixels per image (background value -1)."""
    if shift <= 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift), value=-1.0)
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=generator).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def accuracy(net: DomainNet, images: np.ndarray, labels: np.ndarray, device, batch_size=1000):
    net.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            logits = net(to_input(images[start : start + batch_size], device))
            pred = logits.argmax(1).cpu().numpy()
            correct += int((pred == labels[start : start + batch_size]).sum())
    return correct / max(1, len(images))


def train_domain_network(
    train,
    test=None,
    *,
    class_names: list[str] | None = None,
    dataset_name: str = "",
    dataset_fingerprint: str = "",
    epochs: int = 8,
    batch_size: int = 128,
    learning_rate: float = 3e-3,
    weight_decay: float = 5e-4,
    shift: int = 2,
    seed: int = 0,
    device: str = "auto",
    control=None,
    report_every: int = 50,
) -> Iterator[DomainTrainProgress | DomainTrainResult]:
    """Train a domain network on a labelled ``ImageSet``; yields progress, then the result.

    ``train`` and ``test`` are ``ImageSet``s (uint8 images, int labels). The result's
    ``payload`` records the test accuracy (``None`` without a test split), the dataset name,
    fingerprint, class names and image shape; save it with ``save_domain_network``. A
    ``TaskControl`` in ``control`` can cancel between steps (the result then has
    ``cancelled=True`` and no test accuracy).
    """
    from genai_engine.devices import resolve_device

    if train.labels is None:
        raise DataError("a domain network needs class labels; this dataset has none")
    labels = np.asarray(train.labels, dtype=np.int64)
    num_classes = int(labels.max()) + 1
    if class_names:
        num_classes = max(num_classes, len(class_names))
    if num_classes < 2:
        raise DataError("a domain network needs at least two classes")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    images = train.images
    n, h, w, c = images.shape
    net = DomainNet(in_channels=c, num_classes=num_classes).to(dev)
    steps_per_epoch = max(1, n // batch_size)
    total_steps = steps_per_epoch * epochs
    optimizer = torch.optim.AdamW(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    warmup = max(1, total_steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return learning_rate * (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))

    all_images = torch.from_numpy(images)
    all_labels = torch.from_numpy(labels)
    start_time = time.perf_counter()
    step = 0
    cancelled = False
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(n, generator=generator)
        running_loss, running_correct, running_seen = 0.0, 0, 0
        for i in range(steps_per_epoch):
            if control is not None and not control.checkpoint():
                cancelled = True
                break
            idx = order[i * batch_size : (i + 1) * batch_size]
            x = _augment(to_input(all_images[idx], dev), generator, shift)
            y = all_labels[idx].to(dev)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            logits = net(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.05)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            running_loss += float(loss.detach()) * len(idx)
            running_correct += int((logits.argmax(1) == y).sum())
            running_seen += len(idx)
            if (i + 1) % report_every == 0 or i + 1 == steps_per_epoch:
                yield DomainTrainProgress(
                    epoch + 1, epochs, i + 1, steps_per_epoch, running_loss / running_seen,
                    running_correct / running_seen, None, time.perf_counter() - start_time,
                )
        if cancelled:
            break
    net = net.cpu().eval()
    test_accuracy = None
    if not cancelled and test is not None and test.labels is not None:
        test_accuracy = accuracy(net, test.images, np.asarray(test.labels), "cpu")
        yield DomainTrainProgress(
            epochs, epochs, steps_per_epoch, steps_per_epoch,
            running_loss / max(1, running_seen), running_correct / max(1, running_seen),
            test_accuracy, time.perf_counter() - start_time,
        )
    meta = {
        "dataset_name": dataset_name,
        "dataset_fingerprint": dataset_fingerprint,
        "class_names": list(class_names or []),
        "image_shape": [c, h, w],
        "test_accuracy": float("nan") if test_accuracy is None else float(test_accuracy),
        "train_examples": int(n),
        "epochs": int(epoch + 1 if not cancelled else epoch),
        "seed": int(seed),
        "torch_version": str(torch.__version__),
    }
    yield DomainTrainResult(
        make_payload(net, meta), test_accuracy, meta["epochs"],
        time.perf_counter() - start_time, cancelled,
    )


def main(argv: list[str] | None = None) -> int:
    """Train and save a domain network: ``python -m genai_engine.metrics.features.domain``."""
    import argparse

    from genai_engine.data import load_dataset

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--out", default=None, help=f"default: resources/models/{DEFAULT_WEIGHTS_NAME}")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    data = load_dataset(args.dataset)
    result = None
    for record in train_domain_network(
        data.train, data.test, class_names=data.class_names, dataset_name=data.name,
        dataset_fingerprint=data.fingerprint, epochs=args.epochs, seed=args.seed,
        device=args.device,
    ):
        if isinstance(record, DomainTrainProgress):
            test = "" if record.test_accuracy is None else f" test acc {record.test_accuracy:.4f}"
            print(
                f"epoch {record.epoch}/{record.epochs} step {record.step}/{record.steps_per_epoch}"
                f" loss {record.loss:.4f} train acc {record.train_accuracy:.4f}{test}"
                f" ({record.seconds:.0f} s)",
                flush=True,
            )
        else:
            result = record
    assert result is not None
    out = Path(args.out) if args.out else default_weights_path()
    save_domain_network(result.payload, out)
    print(f"saved {out} (test accuracy {result.test_accuracy})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
