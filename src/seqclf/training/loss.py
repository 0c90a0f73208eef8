"""The training loss: cross-entropy over classes with optional label smoothing and class weights; for
multi-label models, binary cross-entropy per label with optional per-label positive weights."""
from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _no_weights(targets: torch.Tensor, num_classes: int) -> None:
    return None


def _balanced(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Single-label (N,) targets: n / (C * count of the class), as scikit-learn computes it; absent classes
    get 0. Multi-label (N, C) targets: each label's positive weight, negatives / positives (as
    BCEWithLogitsLoss's pos_weight means it); a label never present gets 1."""
    if targets.dim() == 2:
        positives = targets.sum(dim=0)  # (C,)
        negatives = len(targets) - positives
        return torch.where(positives > 0, negatives / positives.clamp(min=1), torch.ones_like(positives))
    counts = torch.bincount(targets, minlength=num_classes).float()  # (C,)
    weights = len(targets) / (num_classes * counts)
    return torch.where(counts > 0, weights, torch.zeros_like(weights))


CLASS_WEIGHTS: dict[str, Callable[[torch.Tensor, int], torch.Tensor | None]] = {
    "none": _no_weights, "balanced": _balanced}


def class_weights(targets: torch.Tensor, num_classes: int, scheme: str) -> torch.Tensor | None:
    """(C,) loss weights from the training targets ((N,) classes, or (N, C) label sets), or None for equal weights."""
    return CLASS_WEIGHTS[scheme](targets, num_classes)


def loss_function(label_smoothing: float, weights: torch.Tensor | None, multi_label: bool = False) -> Loss:
    """The mean loss of (B, C) logits against (B,) classes or, multi-label, (B, C) 0/1 targets."""
    if multi_label:
        return functools.partial(_binary_cross_entropy, label_smoothing=label_smoothing, pos_weight=weights)
    return functools.partial(nn.functional.cross_entropy, label_smoothing=label_smoothing, weight=weights)


def _binary_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float,
                          pos_weight: torch.Tensor | None) -> torch.Tensor:
    smoothed = targets * (1 - label_smoothing) + 0.5 * label_smoothing  # (B, C): 1 -> 1 - s/2, 0 -> s/2
    return nn.functional.binary_cross_entropy_with_logits(logits, smoothed, pos_weight=pos_weight)


def summed_loss(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The unweighted loss summed over the examples (for validation): cross-entropy, or for (N, C) label-set
    targets each example's mean binary cross-entropy over its labels."""
    if targets.dim() == 2:
        return nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="sum").item() / targets.size(1)
    return nn.functional.cross_entropy(logits, targets, reduction="sum").item()


def count_correct(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Examples predicted right: the class with the top logit, or, for (B, C) label sets, every label right
    at probability 0.5 (logit 0): subset accuracy."""
    if targets.dim() == 2:
        return ((logits > 0) == (targets > 0.5)).all(dim=1).sum()
    return (logits.argmax(dim=1) == targets).sum()
