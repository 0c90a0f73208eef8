"""Where a module runs and in which mode: one answer for every caller."""
from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import torch
from torch import nn


def device_of(module: object) -> torch.device:
    """Where a module's tensors live; the CPU for other callables (an ONNX Runtime session) and for a
    module without tensors."""
    if isinstance(module, nn.Module):
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            return tensor.device
    return torch.device("cpu")


@contextlib.contextmanager
def eval_mode(module: object) -> Iterator[None]:
    """The module in eval mode (no dropout) inside the block, back in its mode after. A module already
    in eval mode is not touched: switching walks every submodule, which single-text latency feels."""
    switch = isinstance(module, nn.Module) and module.training
    if switch:
        module.eval()
    try:
        yield
    finally:
        if switch:
            module.train()
