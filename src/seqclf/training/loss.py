"""What the training loss is weighted with (class weights, or per-label positive weights for label sets), and
the validation figures of logits against targets. The loss itself is the model's task's (`Task.loss`)."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


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


def agreeing(logits: torch.Tensor, probabilities: torch.Tensor) -> torch.Tensor:
    """Examples whose top class is the teacher's, for (B, C) teacher probabilities: a student's training accuracy."""
    return (logits.argmax(dim=1) == probabilities.argmax(dim=1)).sum()
