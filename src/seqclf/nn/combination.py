"""How several models' class distributions become one: the rules an ensemble may use, by name."""
from __future__ import annotations

import torch


def _mean(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted arithmetic mean of the probabilities."""
    return torch.logsumexp(log_probs + weights.log().view(-1, 1, 1), dim=0)  # (B, C)


def _geometric(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted geometric mean of the probabilities, renormalized (a product of experts)."""
    return torch.log_softmax((log_probs * weights.view(-1, 1, 1)).sum(dim=0), dim=1)  # (B, C)


COMBINATIONS = {"mean": _mean, "geometric": _geometric}


def combine(log_probs: torch.Tensor, weights: torch.Tensor, rule: str) -> torch.Tensor:
    """(M, B, C) log-probabilities of M models, (M,) weights summing to 1 -> (B, C) log-probabilities."""
    return COMBINATIONS[rule](log_probs, weights)
