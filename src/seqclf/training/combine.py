"""Choosing how an ensemble combines its models, on the validation data only: the rule (arithmetic or
geometric mean) and the n-gram evidence's share, by validation accuracy (ties: lower loss)."""
from __future__ import annotations

import torch
from torch import nn

from seqclf.nn.combination import COMBINATIONS, combine

WEIGHT_GRID = tuple(i / 20 for i in range(21))


def shares(members: int, ngram_weight: float, has_ngrams: bool) -> torch.Tensor:
    """(M,) weights: the sequence models share 1 - ngram_weight equally."""
    return torch.tensor([(1 - ngram_weight) / members] * members + ([ngram_weight] if has_ngrams else []))


def choose_combination(log_probs: torch.Tensor | None, targets: torch.Tensor | None, members: int, has_ngrams: bool,
                       rule: str = "auto", ngram_weight: float | str = "auto") -> tuple[str, float]:
    """(rule, n-gram share) for (M, N, C) validation log-probabilities. Without validation data, "auto"
    means the arithmetic mean and an equal share for every model."""
    rules = tuple(COMBINATIONS) if rule == "auto" else (rule,)
    weights = (WEIGHT_GRID if has_ngrams else (0.0,)) if ngram_weight == "auto" else (float(ngram_weight),)
    if log_probs is None:
        equal = 1 / (members + 1) if has_ngrams else 0.0
        return rules[0], weights[0] if len(weights) == 1 else equal

    def score(choice: tuple[str, float]) -> tuple[float, float]:
        combined = combine(log_probs, shares(members, choice[1], has_ngrams), choice[0])  # (N, C)
        accuracy = (combined.argmax(1) == targets).float().mean().item()
        return accuracy, -nn.functional.nll_loss(combined, targets).item()

    return max(((r, w) for r in rules for w in weights), key=score)
