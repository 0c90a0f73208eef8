"""Where training runs: the device, and the process group when `torchrun` started several processes.

One process (plain `seqclf train`) is a cluster of one: every collective below is then the identity,
so the training code has one path. Under `torchrun` the process group comes from its environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT): gloo on CPU, NCCL on CUDA.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from seqclf.errors import ConfigError
from seqclf.fields import check_choice
from seqclf.training.settings import DEVICES, PRECISIONS

AUTOCAST_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}  # precision -> autocast dtype


def resolve_device(choice: str, local_rank: int = 0) -> torch.device:
    """Where this process trains; the one place a device is worked out. `auto`: this process's GPU if
    there is one, else Apple's MPS, else the CPU."""
    check_choice("device", choice, DEVICES)
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu"
    if choice == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("no CUDA device is available", field="device", hint="use --device cpu or auto")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if choice == "mps" and not _mps_available():
        raise ConfigError("no MPS device is available", field="device", hint="use --device cpu or auto")
    return torch.device(choice)


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def check_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype (None for fp32); mixed precision is for CUDA devices."""
    check_choice("precision", precision, PRECISIONS)
    if precision != "fp32" and device.type != "cuda":
        raise ConfigError(f"mixed precision ({precision}) needs a CUDA device, training runs on {device.type}",
                          field="precision", hint="use --precision fp32, or --device cuda on a machine with a GPU")
    return AUTOCAST_DTYPES[precision]


@dataclass(frozen=True)
class Cluster:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 prints, logs and writes files; the others only compute."""
        return self.rank == 0

    @property
    def backend(self) -> str:
        return "nccl" if self.device.type == "cuda" else "gloo"

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sums over all ranks (float64, so counts stay exact)."""
        if not self.distributed:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def gather(self, value: object) -> list[object]:
        """Every rank's `value`, in rank order, on every rank."""
        if not self.distributed:
            return [value]
        values: list[object] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        """A CPU batch tensor on the training device; to a GPU from pinned memory, without waiting."""
        if self.device.type == "cuda":
            return tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor.to(self.device)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def join_cluster(device: str = "auto") -> Cluster:
    """This process's place: from torchrun's environment (starting the process group once), or alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if world_size == 1:
        return Cluster(device=resolved)
    cluster = Cluster(int(os.environ["RANK"]), world_size, local_rank,
                      int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size))), resolved)
    if not dist.is_initialized():
        if resolved.type == "cuda":
            torch.cuda.set_device(resolved)
        dist.init_process_group(cluster.backend, device_id=resolved if resolved.type == "cuda" else None)
    return cluster


def leave_cluster() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
