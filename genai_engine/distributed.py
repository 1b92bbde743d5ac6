"""PyTorch's own distributed runtime (torchrun) for the headless engine.

Under ``torchrun`` the environment holds RANK, WORLD_SIZE and LOCAL_RANK; ``init_from_env``
joins the process group (NCCL on CUDA, gloo on the CPU). Outside torchrun every helper here is
a no-op for a single process, so the trainer and metrics have one code path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over ranks in place (float64 stays float64) and return it."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    # --- numpy collectives (metrics: statistics stay float64 numpy on the CPU) ---------------
    def all_reduce_array(self, array: np.ndarray) -> np.ndarray:
        """The element-wise sum over ranks of a float64 array (a new array on every rank)."""
        out = np.array(array, dtype=np.float64)
        if not self.enabled:
            return out
        tensor = torch.from_numpy(out).to(_comm_device())
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.cpu().numpy().astype(np.float64, copy=False)

    def all_gather_arrays(self, array: np.ndarray) -> list[np.ndarray]:
        """Every rank's ``array`` (same dtype and ``ndim`` everywhere; the first axis may
        differ, even be 0), in rank order, on every rank."""
        array = np.ascontiguousarray(array)
        if not self.enabled:
            return [array]
        if not 1 <= array.ndim <= _MAX_DIMS:
            raise ValueError(f"can gather arrays of 1 to {_MAX_DIMS} dimensions, not {array.ndim}")
        device = _comm_device()
        # one small collective carries every rank's shape: ranks with no rows learn the others'
        shape = torch.full((_MAX_DIMS,), -1, dtype=torch.int64, device=device)
        shape[: array.ndim] = torch.tensor(array.shape, dtype=torch.int64)
        gathered = [torch.empty_like(shape) for _ in range(self.world_size)]
        dist.all_gather(gathered, shape)
        shapes = [tuple(int(v) for v in s.cpu() if v >= 0) for s in gathered]
        longest = max(s[0] for s in shapes)
        trailing = max((s[1:] for s in shapes if s[0]), default=array.shape[1:])
        if longest == 0:
            return [np.empty((0, *trailing), dtype=array.dtype) for _ in shapes]
        padded = torch.zeros((longest, *trailing), dtype=_torch_dtype(array.dtype), device=device)
        if len(array):
            padded[: len(array)] = torch.from_numpy(array).to(device)
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(parts, padded)
        return [p[: s[0]].cpu().numpy() for p, s in zip(parts, shapes, strict=True)]

    def broadcast_flag(self, value: bool) -> bool:
        """Rank 0's ``value`` on every rank (so all ranks take the same branch)."""
        if not self.enabled:
            return bool(value)
        flag = torch.tensor([1 if value else 0], dtype=torch.int64, device=_comm_device())
        dist.broadcast(flag, src=0)
        return bool(flag.item())


SINGLE = DistContext()
_MAX_DIMS = 8


def _comm_device() -> torch.device:
    """Where collective tensors must live: the rank's GPU under NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return torch.from_numpy(np.empty(0, dtype=dtype)).dtype


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device_name: str = "auto") -> tuple[DistContext, str]:
    """Join the torchrun process group; returns the context and this rank's device name."""
    if not launched_by_torchrun():
        return SINGLE, device_name
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_name in ("auto", "cuda")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device_name = f"cuda:{local_rank}"
    elif device_name == "auto":
        device_name = "cpu"
    return DistContext(rank, world_size, local_rank), device_name


def shutdown(context: DistContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def process_group(device_name: str = "auto") -> Iterator[tuple[DistContext, str]]:
    """``with process_group(args.device) as (context, device):`` joins torchrun's group for
    the block (a no-op outside torchrun) and leaves it however the block ends."""
    context, device_name = init_from_env(device_name)
    try:
        yield context, device_name
    finally:
        shutdown(context)
