"""Stage 4 (end): one vector per sequence from the encoder's steps. Padding never leaks in."""
from __future__ import annotations

import torch
from torch import nn

from seqclf.outputs import pool_window_tensors


def valid_steps(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, T) bool mask, True on real tokens."""
    return torch.arange(steps, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def pool_last(outputs: torch.Tensor, lengths: torch.Tensor, directions: int) -> torch.Tensor:
    """The forward direction's state at each sequence's last real step; a backward direction's at step 0."""
    # outputs: (B, T, D * H) -> (B, D * H)
    hidden = outputs.size(2) // directions
    last = outputs.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(2))).squeeze(1)  # (B, D * H)
    if directions == 1:
        return last
    return torch.cat([last[:, :hidden], outputs[:, 0, hidden:]], dim=1)  # (B, 2H)


def pool_max(outputs: torch.Tensor, lengths: torch.Tensor, directions: int) -> torch.Tensor:
    mask = valid_steps(lengths, outputs.size(1)).unsqueeze(2)  # (B, T, 1)
    return outputs.masked_fill(~mask, float("-inf")).amax(dim=1)  # (B, F)


def pool_mean(outputs: torch.Tensor, lengths: torch.Tensor, directions: int) -> torch.Tensor:
    mask = valid_steps(lengths, outputs.size(1)).unsqueeze(2)  # (B, T, 1)
    return (outputs * mask).sum(dim=1) / lengths.unsqueeze(1).to(outputs.dtype)  # (B, F)


class AttentionPooling(nn.Module):
    """A learned query scores each real step; the sequence vector is the softmax-weighted sum."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.score = nn.Linear(features, 1)

    def forward(self, outputs: torch.Tensor, lengths: torch.Tensor, directions: int) -> torch.Tensor:
        scores = self.score(outputs).squeeze(2)  # (B, T)
        scores = scores.masked_fill(~valid_steps(lengths, outputs.size(1)), float("-inf"))
        weights = torch.softmax(scores, dim=1).unsqueeze(2)  # (B, T, 1)
        return (weights * outputs).sum(dim=1)  # (B, F)


POOLINGS = {"last": pool_last, "max": pool_max, "mean": pool_mean, "attention": AttentionPooling}


def build_pooling(name: str, features: int):
    """A pooling function, or a module when the pooling has weights of its own."""
    pooling = POOLINGS[name]
    return pooling(features) if isinstance(pooling, type) else pooling


class WindowPooled(nn.Module):
    """A model over windows that answers per text: (ids, lengths) of W windows and their owners (W,) in
    text order -> (N, C) pooled logits."""

    def __init__(self, model: nn.Module, how: str) -> None:
        super().__init__()
        self.model, self.how = model, how

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, owners: torch.Tensor) -> torch.Tensor:
        # ids: (W, T), lengths: (W,), owners: (W,) sorted, 0 .. N - 1
        return pool_window_tensors(self.model(ids, lengths), owners, int(owners[-1]) + 1, self.how)  # (N, C)
