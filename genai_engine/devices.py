"""Pick the compute device: ``auto`` tries CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import torch

from genai_engine.errors import GenAIError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """Turn a user's choice (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``) into a device."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise GenAIError("device 'cuda' was asked for but no CUDA GPU is available; "
                             "use --device auto or cpu")
        return torch.device(name)
    if name == "mps":
        if not mps_available():
            raise GenAIError("device 'mps' was asked for but Apple MPS is not available; "
                             "use --device auto or cpu")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise GenAIError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")


def describe_device(device: torch.device) -> str:
    """A short human label: 'CPU', 'CUDA: NVIDIA H100', 'Apple MPS'."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"CUDA: {torch.cuda.get_device_name(index)}"
    if device.type == "mps":
        return "Apple MPS"
    return "CPU"


def available_devices() -> list[str]:
    """Every device this machine offers, as names ``resolve_device`` accepts."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if mps_available():
        names.append("mps")
    return names
