"""PyTorch's own distributed runtime (torchrun) for the headless engine.

Under ``torchrun`` the environment holds RANK, WORLD_SIZE and LOCAL_RANK; ``init_from_env``
joins the process group (NCCL on CUDA, gloo on the CPU). Outside torchrun every helper here is
a no-op for a single process, so the trainer and metrics have one code path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

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


SINGLE = DistContext()


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
