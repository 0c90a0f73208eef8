"""The training loss: cross-entropy with optional label smoothing and class weights."""
from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn


def _no_weights(targets: torch.Tensor, num_classes: int) -> None:
    return None


def _balanced(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """n / (C * count of the class), as scikit-learn computes it; absent classes get 0."""
    counts = torch.bincount(targets, minlength=num_classes).float()  # (C,)
    weights = len(targets) / (num_classes * counts)
    return torch.where(counts > 0, weights, torch.zeros_like(weights))


CLASS_WEIGHTS: dict[str, Callable[[torch.Tensor, int], torch.Tensor | None]] = {
    "none": _no_weights, "balanced": _balanced}


def class_weights(targets: torch.Tensor, num_classes: int, scheme: str) -> torch.Tensor | None:
    """(C,) loss weights from the training targets (N,), or None for equal weights."""
    return CLASS_WEIGHTS[scheme](targets, num_classes)


def loss_function(label_smoothing: float, weights: torch.Tensor | None) -> Callable[[torch.Tensor, torch.Tensor],
                                                                                   torch.Tensor]:
    return functools.partial(nn.functional.cross_entropy, label_smoothing=label_smoothing, weight=weights)
