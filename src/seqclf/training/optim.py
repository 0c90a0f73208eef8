"""Optimizer and learning-rate schedule from the training settings."""
from __future__ import annotations

import torch
from torch import nn

from seqclf.config import TrainConfig


def build_optimizer(model: nn.Module, settings: TrainConfig) -> torch.optim.Optimizer:
    # Fused AdamW: the embedding table dominates the parameters, and the fused step is several
    # times faster than the default one on CPU.
    return torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay, fused=True)


def build_scheduler(optimizer: torch.optim.Optimizer, settings: TrainConfig,
                    total_steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """`linear`: from lr down to lr/total_steps over the run; `constant`: no schedule."""
    if settings.lr_schedule == "constant":
        return None
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / total_steps)
