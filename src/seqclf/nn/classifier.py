"""Stages 3-5 as one module: embed -> encode -> pool -> head.

`forward_stages` returns every stage's output by name; `forward` is that same path, so the
data-flow table and the prediction trace are views of the computation that predicts.
"""
from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass

import torch
from torch import nn

from seqclf.errors import ConfigError
from seqclf.fields import check_at_least, check_choice, check_fraction, choices_text, setting
from seqclf.ids import PAD_ID, UNK_ID
from seqclf.nn.combination import COMBINATIONS
from seqclf.nn.encoders import ENCODERS, RECURRENT_CELLS
from seqclf.nn.modes import device_of
from seqclf.nn.pooling import POOLINGS, build_pooling, valid_steps

STAGES = ("embedded", "encoded", "pooled", "logits")


@dataclass
class ModelConfig:
    """Stages 3-5: embedding, sequence encoder, pooling, fully connected head."""

    encoder: str = setting("sequence encoder: " + choices_text(ENCODERS), default="lstm")
    embed_dim: int = setting("features per token (stage 3)", default=300)
    hidden_dim: int = setting("encoder features per direction (stage 4)", default=100)
    num_layers: int = setting("stacked encoder layers", default=1)
    bidirectional: bool = setting("read each sequence in both directions", default=True)
    pooling: str = setting("sequence vector from the encoder's steps: " + choices_text(POOLINGS), default="max")
    word_dropout: float = setting("share of training tokens replaced by <unk>, so unseen words get a trained "
                                  "embedding", default=0.0)
    embed_dropout: float = setting("dropout on the embeddings", default=0.3)
    dropout: float = setting("dropout on the sequence vector (and between layers)", default=0.3)
    ngram_buckets: int = setting("hashed bigram embeddings added to the token embeddings (fastText style); "
                                 "0 = none", default=0)
    kernel_sizes: str = setting("cnn: comma-separated convolution widths", default="3,4,5")
    num_heads: int = setting("transformer: attention heads (hidden_dim must divide by it)", default=4)
    ensemble: int = setting("sequence models trained (seeds seed, seed + 1000, ...) and combined into one", default=1)
    ngram_evidence: bool = setting("also fit naive-Bayes-weighted uni- and bigram evidence (NBSVM) and combine it "
                                   "with the sequence models", default=False)
    combine: str = setting("how the models' probabilities are combined: auto (chosen on validation data) | "
                           + choices_text(COMBINATIONS), default="auto")
    ngram_weight: float | str = setting("share of the n-gram evidence in the combination, in [0, 1]; auto = chosen "
                                        "on validation data", default="auto")

    def validate(self) -> None:
        check_choice("encoder", self.encoder, ENCODERS)
        check_choice("pooling", self.pooling, POOLINGS)
        for name in ("embed_dim", "hidden_dim", "num_layers", "num_heads"):
            check_at_least(name, getattr(self, name), 1)
        check_at_least("ngram_buckets", self.ngram_buckets, 0)
        if not all(part.strip().isdigit() and int(part) >= 1 for part in self.kernel_sizes.split(",")):
            raise ConfigError(f"expected widths like '3,4,5', got {self.kernel_sizes!r}", field="kernel_sizes")
        if self.encoder not in RECURRENT_CELLS:
            if self.bidirectional:
                raise ConfigError(f"the {self.encoder} encoder reads both directions at once", field="bidirectional",
                                  hint="pass --no-bidirectional")
            if self.pooling == "last":
                raise ConfigError(f"'last' pooling needs a recurrent encoder, not {self.encoder}", field="pooling",
                                  hint="use max, mean or attention")
        if self.encoder == "transformer" and self.hidden_dim % self.num_heads:
            raise ConfigError(f"hidden_dim {self.hidden_dim} does not divide into {self.num_heads} heads",
                              field="num_heads")
        for name in ("word_dropout", "embed_dropout", "dropout"):
            check_fraction(name, getattr(self, name))
        check_at_least("ensemble", self.ensemble, 1)
        check_choice("combine", self.combine, ("auto", *COMBINATIONS))
        if self.ngram_weight != "auto" and not (isinstance(self.ngram_weight, float) and 0 <= self.ngram_weight <= 1):
            raise ConfigError(f"must be in [0, 1] or auto, got {self.ngram_weight!r}", field="ngram_weight")

    @property
    def combined(self) -> bool:
        """Several models (sequence models, n-gram evidence) make one prediction."""
        return self.ensemble > 1 or self.ngram_evidence

    @property
    def widths(self) -> list[int]:
        return [int(part) for part in self.kernel_sizes.split(",")]


class Classifier(nn.Module):
    """What every model answers: `forward_stages` (named stage outputs, "logits" last) and `forward`."""

    config: ModelConfig

    def forward_stages(self, ids: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(ids, lengths)["logits"]  # (B, C)

    def on_cpu(self) -> Classifier:
        """This model if it is on the CPU, else a CPU copy (for export and quantization)."""
        return self if device_of(self).type == "cpu" else copy.deepcopy(self).cpu()

    def weights_fingerprint(self) -> str:
        """SHA-256 of the weights (names, dtypes, shapes, values), wherever they live: ties an exported
        graph to its weights, and checks that every process of a distributed run ends the same."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.state_dict().items()):
            tensor = tensor.detach().cpu().contiguous()
            digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
            digest.update(tensor.numpy().tobytes())
        return "sha256:" + digest.hexdigest()


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

    def forward_stages(self, ids: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
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
    last step, so padding never forms a bigram."""

    def __init__(self, buckets: int, dim: int, sparse_gradients: bool) -> None:
        super().__init__()
        self.table = nn.Embedding(buckets, dim, sparse=sparse_gradients)
        _small_uniform(self.table.weight)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        following = nn.functional.pad(ids[:, 1:], (0, 1))  # (B, T): the next token, 0 after the end
        buckets = (ids * 1_000_003 + following) % self.table.num_embeddings  # (B, T)
        formed = valid_steps(lengths - 1, ids.size(1)).unsqueeze(2)  # (B, T, 1): t + 1 < length
        return self.table(buckets) * formed  # (B, T, E)
