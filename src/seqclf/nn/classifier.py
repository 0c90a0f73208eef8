"""Stages 3-5 as one module: embed -> encode -> pool -> head.

`forward_stages` returns every stage's output by name; `forward` is that same path, so the
data-flow table and the prediction trace are views of the computation that predicts.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from seqclf.fileio import digest_arrays
from seqclf.ids import PAD_ID, UNK_ID
from seqclf.nn.encoders import ENCODERS
from seqclf.nn.modes import device_of
from seqclf.nn.pooling import build_pooling, valid_steps
from seqclf.nn.settings import ModelConfig
from seqclf.task import SINGLE_LABEL, Task

STAGES = ("embedded", "encoded", "pooled", "logits")


class Classifier(nn.Module):
    """What every model answers: `forward_stages` (named stage outputs, "logits" last) and `forward`.

    The last step of stage 5 is the temperature: the logits divided by it before softmax (1: none); then
    `activate` (softmax, or a sigmoid per label for a multi-label model).
    Training fits it on validation data (temperature scaling, `training/calibration.py`); as a
    constant of the forward path, every backend and the exported graph apply it."""

    config: ModelConfig
    temperature: float = 1.0
    task: Task = SINGLE_LABEL  # its activation: softmax over classes, or a sigmoid per label (`seqclf.task`)

    def activate(self, logits: torch.Tensor) -> torch.Tensor:
        """(B, C) probabilities of (B, C) logits: softmax over the classes, or each label's sigmoid."""
        return self.task.activate_tensor(logits)

    def stages(self, ids: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """The model's own stages, "logits" last, before the temperature."""
        raise NotImplementedError

    def forward_stages(self, ids: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        stages = self.stages(ids, lengths)
        if self.temperature == 1.0:
            return stages
        logits = stages["logits"]  # (B, C)
        return {**stages, "head_logits": stages.get("head_logits", logits), "uncalibrated_logits": logits,
                "logits": logits / self.temperature}  # (B, C)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(ids, lengths)["logits"]  # (B, C)

    @property
    def encoders(self) -> list[str]:
        """The encoder of each sequence model in it."""
        raise NotImplementedError

    def on_cpu(self) -> Classifier:
        """This model if it is on the CPU, else a CPU copy (for export and quantization)."""
        return self if device_of(self).type == "cpu" else copy.deepcopy(self).cpu()

    def weights_fingerprint(self) -> str:
        """SHA-256 of the weights (names, dtypes, shapes, values), wherever they live: ties an exported
        graph to its weights, and checks that every process of a distributed run ends the same."""
        tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in self.state_dict().items()}
        return digest_arrays((name, str(t.dtype), tuple(t.shape), t.numpy().tobytes()) for name, t in tensors.items())


class SequenceClassifier(Classifier):
    """One sequence model: embed -> encode -> pool -> head."""

    def __init__(self, config: ModelConfig, vocab_size: int, num_classes: int, sparse_gradients: bool = False) -> None:
        super().__init__()
        self.config = config
        # sparse_gradients: the embedding's gradient holds only the rows a batch uses (for training).
        self.embedding = nn.Embedding(vocab_size, config.embed_dim, padding_idx=PAD_ID, sparse=sparse_gradients)
        if config.encoder == "bag":  # no encoder weights to scale the features: start small, as fastText does
            _small_uniform(self.embedding.weight, padding_row=PAD_ID)
        self.bigrams = (BigramEmbedding(config.ngram_buckets, config.embed_dim, sparse_gradients)
                        if config.ngram_buckets else None)
        self.embed_dropout = _dropout(config.embed_dropout)
        self.encoder = ENCODERS[config.encoder](config)
        self.pool = build_pooling(config.pooling, self.encoder.output_dim)
        self.dropout = _dropout(config.dropout)
        self.head = nn.Linear(self.encoder.output_dim, num_classes)

    def stages(self, ids: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        # ids: (B, T) int64, lengths: (B,) int64, 1 <= lengths <= T
        if self.training and self.config.word_dropout > 0:
            ids = drop_words(ids, self.config.word_dropout)  # (B, T)
        embedded = self.embedding(ids)  # (B, T, E)
        if self.bigrams is not None:
            embedded = embedded + self.bigrams(ids, lengths)  # (B, T, E)
        encoded = self.encoder(self.embed_dropout(embedded), lengths)  # (B, T, H * directions)
        pooled = self.pool(encoded, lengths, self.encoder.directions)  # (B, H * directions)
        logits = self.head(self.dropout(pooled))  # (B, C)
        return {"embedded": embedded, "encoded": encoded, "pooled": pooled, "logits": logits}

    @property
    def vocab_size(self) -> int:
        return self.embedding.num_embeddings

    @property
    def encoders(self) -> list[str]:
        return [self.config.encoder]

    @property
    def num_classes(self) -> int:
        return self.head.out_features


def drop_words(ids: torch.Tensor, p: float) -> torch.Tensor:
    """Each real token becomes <unk> with probability p, so <unk> learns what unseen words mean."""
    dropped = (torch.rand(ids.shape, device=ids.device) < p) & (ids != PAD_ID)  # (B, T)
    return ids.masked_fill(dropped, UNK_ID)


@torch.no_grad()
def _small_uniform(table: torch.Tensor, padding_row: int | None = None) -> None:
    """Uniform in +-1/dim; the padding row, if any, stays zero."""
    nn.init.uniform_(table, -1.0 / table.size(1), 1.0 / table.size(1))
    if padding_row is not None:
        table[padding_row] = 0.0


def _dropout(p: float) -> nn.Module:
    return nn.Dropout(p) if p > 0 else nn.Identity()  # p = 0 costs nothing


class BigramEmbedding(nn.Module):
    """A hashed embedding of the bigram (token t, token t + 1) at each step t; zero at a sequence's
    last step and on padding, so padding never forms a bigram."""

    def __init__(self, buckets: int, dim: int, sparse_gradients: bool) -> None:
        super().__init__()
        self.table = nn.Embedding(buckets, dim, sparse=sparse_gradients)
        _small_uniform(self.table.weight)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        following = nn.functional.pad(ids[:, 1:], (0, 1))  # (B, T): the next token, 0 after the end
        buckets = (ids * 1_000_003 + following) % self.table.num_embeddings  # (B, T)
        formed = (valid_steps(lengths - 1, ids.size(1)) & (ids != PAD_ID)).unsqueeze(2)  # (B, T, 1): t + 1 < length
        return self.table(buckets) * formed  # (B, T, E)
