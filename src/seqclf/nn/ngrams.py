"""Stage 5 beside the sequence model: n-gram evidence, naive-Bayes-weighted (NBSVM, Wang & Manning 2012).

Each text is a set of features: its token ids (unigrams) and its hashed bigrams, each counted once
(binarized). Feature f gives class c the evidence ratio[f, c] * weight[f, c]: `ratio` is the
naive-Bayes log-count ratio of f in class c against the rest, computed from the training data only
(`training/ngram_fit.py`); `weight` is a logistic regression over the ratio-scaled features. The
evidence of a text is the sum over its features, plus a bias: (B, C) logits of its own, which the
ensemble (`nn/ensemble.py`) combines with the sequence models'.
"""
from __future__ import annotations

import torch
from torch import nn

from seqclf.ids import PAD_ID
from seqclf.nn.pooling import valid_steps

BIGRAM_BUCKETS = 1 << 18  # hashed bigram features; unigram features are the token ids


class NgramEvidence(nn.Module):
    def __init__(self, vocab_size: int, num_classes: int, buckets: int = BIGRAM_BUCKETS) -> None:
        super().__init__()
        self.vocab_size, self.buckets = vocab_size, buckets
        features = vocab_size + buckets
        self.register_buffer("ratio", torch.zeros(features, num_classes))  # NB log-count ratios, fixed
        self.weight = nn.Parameter(torch.zeros(features, num_classes))
        self.bias = nn.Parameter(torch.zeros(num_classes))
        self.terms = nn.Identity()  # each feature's evidence, (B, 2T, C): where attributions hook in

    def features(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each text's features, sorted, which of them count, and the slot each came from: (B, 2T) ids,
        (B, 2T) bool, (B, 2T) slots (slot t < T: the unigram at step t; slot T + t: the bigram from step t).
        Each n-gram counts once per text (binarized), padding never (nor a bigram of padding)."""
        # ids: (B, T) int64, lengths: (B,)
        bigrams = self.bigram_features(ids)  # (B, T)
        unigrams = torch.where(valid_steps(lengths, ids.size(1)), ids, PAD_ID)  # (B, T)
        formed = valid_steps(lengths - 1, ids.size(1)) & (ids != PAD_ID)  # (B, T): t + 1 < length
        bigrams = torch.where(formed, bigrams, PAD_ID)  # (B, T)
        features, slots = torch.cat([unigrams, bigrams], dim=1).sort(dim=1)  # (B, 2T) each
        first = torch.ones_like(features[:, :1], dtype=torch.bool)  # (B, 1)
        counted = torch.cat([first, features[:, 1:] != features[:, :-1]], dim=1) & (features != PAD_ID)  # (B, 2T)
        return features, counted, slots

    def bigram_features(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, T): the feature of the bigram (token t, token t + 1) at each step t."""
        following = nn.functional.pad(ids[:, 1:], (0, 1))  # (B, T): the next token, 0 after the end
        return self.vocab_size + (ids * 1_000_003 + following) % self.buckets

    def contributions(self, features: torch.Tensor, counted: torch.Tensor) -> torch.Tensor:
        """(B, 2T, C): what each feature (B, 2T) that counts (B, 2T) gives each class."""
        return self.ratio[features] * self.weight[features] * counted.unsqueeze(2)

    def scores(self, features: torch.Tensor, counted: torch.Tensor) -> torch.Tensor:
        """(B, C) evidence of texts given as features."""
        return self.terms(self.contributions(features, counted)).sum(dim=1) + self.bias

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        features, counted, _ = self.features(ids, lengths)
        return self.scores(features, counted)  # (B, C)
