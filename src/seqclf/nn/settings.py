"""Stages 3-5's settings (`ModelConfig`) and their choice lists, without PyTorch.

A setting is data: reading config.json, parsing the command line or checking a config never imports
PyTorch (about 1.5 s of a process). Each choice list here is the one list of its names; the
implementations are registered under them (`ENCODERS` in nn/encoders.py, `POOLINGS` in nn/pooling.py,
`COMBINATIONS` in nn/combination.py), and tests/unit/nn/test_settings.py checks that every registry
implements exactly its list.
"""
from __future__ import annotations

from dataclasses import dataclass

from seqclf.errors import ConfigError
from seqclf.fields import check_at_least, check_choice, check_fraction, choices_text, setting

RECURRENT_NAMES = ("lstm", "gru", "rnn")  # encoders that read in a direction (bidirectional, `last` pooling)
ENCODER_NAMES = (*RECURRENT_NAMES, "cnn", "transformer", "bag")
POOLING_NAMES = ("last", "max", "mean", "attention")
COMBINATION_NAMES = {"mean": "arithmetic mean", "geometric": "geometric mean"}  # rule: what it is, in words
ENSEMBLE_FIELDS = ("ensemble", "ngram_evidence", "combine", "ngram_weight")  # the combination's, not one model's


@dataclass
class ModelConfig:
    """Stages 3-5: embedding, sequence encoder, pooling, fully connected head."""

    encoder: str = setting("sequence encoder: " + choices_text(ENCODER_NAMES), default="lstm")
    embed_dim: int = setting("features per token (stage 3)", default=300)
    hidden_dim: int = setting("encoder features per direction (stage 4)", default=100)
    num_layers: int = setting("stacked encoder layers", default=1)
    bidirectional: bool = setting("read each sequence in both directions", default=True)
    pooling: str = setting("sequence vector from the encoder's steps: " + choices_text(POOLING_NAMES), default="max")
    word_dropout: float = setting("share of training tokens replaced by <unk>, so unseen words get a trained "
                                  "embedding", default=0.0)
    embed_dropout: float = setting("dropout on the embeddings", default=0.3)
    dropout: float = setting("dropout on the sequence vector (and between layers)", default=0.3)
    ngram_buckets: int = setting("hashed bigram embeddings added to the token embeddings (fastText style); "
                                 "0 = none", default=0)
    kernel_sizes: str = setting("cnn: comma-separated convolution widths", default="3,4,5")
    num_heads: int = setting("transformer: attention heads (hidden_dim must divide by it)", default=4)
    ensemble: int | str = setting("sequence models combined into one: a number (that many of these settings, seeds "
                                  "seed, seed + 1000, ...) or comma-separated recipes, each a preset (fast, accurate, "
                                  "...) or an encoder (" + ", ".join(ENCODER_NAMES) + "), e.g. fast,accurate,cnn",
                                  default=1)
    ngram_evidence: bool = setting("also fit naive-Bayes-weighted uni- and bigram evidence (NBSVM) and combine it "
                                   "with the sequence models", default=False)
    combine: str = setting("how the models' probabilities are combined: auto (chosen on validation data) | "
                           + choices_text(COMBINATION_NAMES), default="auto")
    ngram_weight: float | str = setting("share of the n-gram evidence in the combination, in [0, 1]; auto = chosen "
                                        "on validation data", default="auto")

    def validate(self) -> None:
        check_choice("encoder", self.encoder, ENCODER_NAMES)
        check_choice("pooling", self.pooling, POOLING_NAMES)
        for name in ("embed_dim", "hidden_dim", "num_layers", "num_heads"):
            check_at_least(name, getattr(self, name), 1)
        check_at_least("ngram_buckets", self.ngram_buckets, 0)
        if not all(part.strip().isdigit() and int(part) >= 1 for part in self.kernel_sizes.split(",")):
            raise ConfigError(f"expected widths like '3,4,5', got {self.kernel_sizes!r}", field="kernel_sizes")
        if self.encoder not in RECURRENT_NAMES:
            if self.bidirectional:
                raise ConfigError(f"the {self.encoder} encoder reads both directions at once", field="bidirectional",
                                  hint="leave bidirectional out, or pass bidirectional=False (--no-bidirectional)")
            if self.pooling == "last":
                raise ConfigError(f"'last' pooling needs a recurrent encoder, not {self.encoder}", field="pooling",
                                  hint="use max, mean or attention")
        if self.encoder == "transformer" and self.hidden_dim % self.num_heads:
            raise ConfigError(f"hidden_dim {self.hidden_dim} does not divide into {self.num_heads} heads",
                              field="num_heads")
        for name in ("word_dropout", "embed_dropout", "dropout"):
            check_fraction(name, getattr(self, name))
        if isinstance(self.ensemble, int):
            check_at_least("ensemble", self.ensemble, 1)
        elif not all(self.recipes):
            raise ConfigError(f"expected a number or comma-separated recipes, got {self.ensemble!r}", field="ensemble",
                              hint="e.g. --ensemble 3 or --ensemble fast,accurate")
        check_choice("combine", self.combine, ("auto", *COMBINATION_NAMES))
        if self.ngram_weight != "auto" and not (isinstance(self.ngram_weight, float) and 0 <= self.ngram_weight <= 1):
            raise ConfigError(f"must be in [0, 1] or auto, got {self.ngram_weight!r}", field="ngram_weight")

    @property
    def recipes(self) -> list[str]:
        """The recipes named by `ensemble` (one per sequence model); empty when it is a number."""
        return [] if isinstance(self.ensemble, int) else [part.strip() for part in self.ensemble.split(",")]

    @property
    def sequence_models(self) -> int:
        return len(self.recipes) or self.ensemble

    @property
    def combined(self) -> bool:
        """Several models (sequence models, n-gram evidence) make one prediction."""
        return self.sequence_models > 1 or self.ngram_evidence

    @property
    def widths(self) -> list[int]:
        return [int(part) for part in self.kernel_sizes.split(",")]
