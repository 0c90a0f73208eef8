"""Stage 4 (end): one vector per sequence from the encoder's steps. Padding never leaks in."""
from __future__ import annotations

import torch


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


POOLINGS = {"last": pool_last, "max": pool_max, "mean": pool_mean}
