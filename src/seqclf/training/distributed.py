"""Where training runs: the device, and the process group when `torchrun` started several processes.

One process (plain `seqclf train`) is a cluster of one: every collective below is then the identity,
so the training code has one path. Under `torchrun` the process group comes from its environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT): gloo on CPU, NCCL on CUDA.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

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

    def data_parallel(self, model: nn.Module) -> tuple[nn.Module, Callable[[], None]]:
        """The model to train in this process, and what to call after each backward pass so that every process
        steps with the same averaged gradients. DistributedDataParallel starts every process from rank 0's
        weights and averages the dense gradients while backward runs. The sparse ones (the rows of the embedding
        tables a batch used) are left out of it and averaged once backward is done, on this thread: DDP's own
        sparse all-reduce runs on gloo's worker threads beside backward, and corrupted a rank's heap in 1 of 30
        two-process runs beside a CPU-bound process (a SIGSEGV in malloc under `AsyncSparseAllreduceWork`)."""
        if not self.distributed:
            return model, lambda: None
        sparse = {f"{name}.weight": module.weight for name, module in model.named_modules()
                  if isinstance(module, nn.Embedding) and module.sparse}
        DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(model, list(sparse))
        devices = [self.device.index] if self.device.type == "cuda" else None
        wrapped = DistributedDataParallel(model, device_ids=devices)
        for parameter in sparse.values():
            dist.broadcast(parameter.data, src=0)  # what DDP does for the parameters it holds
        return wrapped, lambda: self._average_sparse_gradients(list(sparse.values()))

    def _average_sparse_gradients(self, parameters: list[nn.Parameter]) -> None:
        """Each sparse gradient, the mean of every process's: their rows and values gathered (dense collectives)
        and summed row by row in rank order, so that every process gets the same bits."""
        for parameter in parameters:
            grad = parameter.grad
            if grad is None:  # (a batch of padding only)
                grad = torch.sparse_coo_tensor(torch.zeros((1, 0), dtype=torch.int64, device=parameter.device),
                                               parameter.new_zeros((0, *parameter.shape[1:])), parameter.shape)
            grad = grad.coalesce()
            rows, values = grad.indices()[0], grad.values()  # (k,), (k, E)
            counts = [int(count) for count in self._gather_tensor(torch.tensor([len(rows)], device=rows.device))]
            most = max(counts)
            padded_rows = torch.zeros(most, dtype=rows.dtype, device=rows.device)
            padded_rows[: len(rows)] = rows
            padded_values = values.new_zeros((most, *values.shape[1:]))
            padded_values[: len(values)] = values
            all_rows = self._gather_tensor(padded_rows)  # (world_size, most)
            all_values = self._gather_tensor(padded_values)  # (world_size, most, E)
            rows = torch.cat([all_rows[rank, :count] for rank, count in enumerate(counts)])
            values = torch.cat([all_values[rank, :count] for rank, count in enumerate(counts)]) / self.world_size
            parameter.grad = torch.sparse_coo_tensor(rows[None], values, parameter.shape).coalesce()

    def _gather_tensor(self, tensor: torch.Tensor) -> torch.Tensor:
        """(world_size, *tensor.shape): every process's `tensor`, stacked in rank order."""
        gathered = [torch.empty_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(gathered, tensor)
        return torch.stack(gathered)


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
