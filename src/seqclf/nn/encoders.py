"""Stage 4, sequence encoders, chosen by name: (B, T, E) embeddings -> (B, T, H) step features.

Recurrent encoders run on the padded tensor (PyTorch's fast CPU kernel; a PackedSequence skips
it). That is exact for the forward direction, whose step t never sees steps after t. The backward
direction reads each sequence reversed *within its own length*, so it starts at the sequence's
last real token, never at padding.
"""
from __future__ import annotations

import torch
from torch import nn

from seqclf.config import ModelConfig
from seqclf.errors import ConfigError

RECURRENT_CELLS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM}


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse the first lengths[b] steps of each sequence b; padding stays in place. Its own inverse."""
    steps = torch.arange(x.size(1), device=x.device)  # (T,)
    reversed_steps = lengths.unsqueeze(1) - 1 - steps  # (B, T)
    index = torch.where(steps < lengths.unsqueeze(1), reversed_steps, steps)  # (B, T)
    return x.gather(1, index.unsqueeze(2).expand(-1, -1, x.size(2)))  # (B, T, F)


class RecurrentEncoder(nn.Module):
    """Stacked (bi)directional recurrent layers over padded input."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        cell = RECURRENT_CELLS[config.encoder]
        self.directions = 2 if config.bidirectional else 1
        self.layers = nn.ModuleList()
        input_dim = config.embed_dim
        for _ in range(config.num_layers):
            self.layers.append(nn.ModuleList(
                cell(input_dim, config.hidden_dim, batch_first=True) for _ in range(self.directions)
            ))
            input_dim = config.hidden_dim * self.directions
        self.between_layers = nn.Dropout(config.dropout) if config.num_layers > 1 else nn.Identity()
        self.output_dim = input_dim

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # x: (B, T, E), lengths: (B,)
        for depth, directions in enumerate(self.layers):
            if depth > 0:
                x = self.between_layers(x)
            outputs = [directions[0](x)[0]]  # (B, T, H)
            if self.directions == 2:
                backward, _ = directions[1](reverse_within_length(x, lengths))  # (B, T, H)
                outputs.append(reverse_within_length(backward, lengths))
            x = torch.cat(outputs, dim=2) if len(outputs) > 1 else outputs[0]  # (B, T, H * directions)
        return x


def build_encoder(config: ModelConfig) -> RecurrentEncoder:
    if config.encoder in RECURRENT_CELLS:
        return RecurrentEncoder(config)
    raise ConfigError(f"unknown encoder {config.encoder!r}", field="encoder",
                      hint="choose one of: " + ", ".join(RECURRENT_CELLS))
