"""Stage 4, sequence encoders, chosen by name: (B, T, E) embeddings -> (B, T, H) step features.

Every encoder's features at a sequence's real steps are independent of the padding after it.

Recurrent encoders run on the padded tensor (PyTorch's fast CPU kernel; a PackedSequence skips
it). That is exact for the forward direction, whose step t never sees steps after t. The backward
direction reads each sequence reversed *within its own length*, so it starts at the sequence's
last real token, never at padding.
"""
from __future__ import annotations

import math
import torch
from torch import nn

from seqclf.nn.pooling import valid_steps
from seqclf.nn.settings import ModelConfig

RECURRENT_CELLS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


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


class ConvolutionEncoder(nn.Module):
    """Parallel 1-D convolutions of several widths over the tokens (Kim, 2014), ReLU.

    Padding steps are zeroed first, so a window that reaches past a sequence's end sees zeros,
    exactly as it would past the end of the tensor; with max pooling this is max-over-time.
    """

    directions = 1

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.convolutions = nn.ModuleList(
            nn.Conv1d(config.embed_dim, config.hidden_dim, width, padding=width // 2) for width in config.widths
        )
        self.output_dim = config.hidden_dim * len(config.widths)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # x: (B, T, E)
        steps = x.size(1)
        x = (x * valid_steps(lengths, steps).unsqueeze(2)).transpose(1, 2)  # (B, E, T), padding zeroed
        features = [torch.relu(conv(x))[:, :, :steps] for conv in self.convolutions]  # each (B, H, T)
        return torch.cat(features, dim=1).transpose(1, 2)  # (B, T, H * widths)


class TransformerEncoder(nn.Module):
    """A small transformer encoder: sinusoidal positions, padded keys masked out of attention."""

    directions = 1

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.project = nn.Linear(config.embed_dim, config.hidden_dim)
        layer = nn.TransformerEncoderLayer(config.hidden_dim, config.num_heads, dim_feedforward=2 * config.hidden_dim,
                                           dropout=config.dropout, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.output_dim = config.hidden_dim

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # x: (B, T, E)
        steps = x.size(1)
        h = self.project(x) + sinusoidal_positions(steps, self.output_dim, x.device)  # (B, T, H)
        return self.layers(h, src_key_padding_mask=~valid_steps(lengths, steps))  # (B, T, H)


def sinusoidal_positions(steps: int, dim: int, device: torch.device) -> torch.Tensor:
    position = torch.arange(steps, device=device, dtype=torch.float32).unsqueeze(1)  # (T, 1)
    frequency = torch.exp(torch.arange(0, dim, 2, device=device) * (-math.log(10000.0) / dim))  # (H/2,)
    table = torch.zeros(steps, dim, device=device)  # (T, H)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: dim // 2])
    return table


class BagEncoder(nn.Module):
    """No sequence model: each step is its (token + bigram) embedding; pooling makes the bag (fastText)."""

    directions = 1

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.output_dim = config.embed_dim

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return x  # (B, T, E)


ENCODERS: dict[str, type[nn.Module]] = {
    **{name: RecurrentEncoder for name in RECURRENT_CELLS},
    "cnn": ConvolutionEncoder,
    "transformer": TransformerEncoder,
    "bag": BagEncoder,
}
