"""Fitting the n-gram evidence (nn/ngrams.py) on the training data only: naive-Bayes log-count ratios of
each feature in each class against the rest, then a logistic regression over the ratio-scaled binary
features (L-BFGS, full batch, computed a chunk of texts at a time), its L2 penalty chosen on the
validation data from a small grid (as NBSVM's C is chosen on dev)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqclf.text.tensors import pad_batch
from seqclf.ids import EncodedCorpus
from seqclf.nn.ngrams import NgramEvidence

L2_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)  # penalty on the weights, per training text: 1 / (2 C) in scikit-learn's terms
CHUNK = 8192  # texts per chunk: bounds memory on large files
NB_ALPHA = 1.0  # additive smoothing of the counts


@dataclass
class Labeled:
    """Texts of an encoded corpus (at `indices`) with their class indices."""

    corpus: EncodedCorpus
    indices: np.ndarray
    targets: torch.Tensor  # (N,)


def fit_ngram_evidence(vocab_size: int, num_classes: int, train: Labeled, valid: Labeled | None,
                       l2: float | str = "auto") -> tuple[NgramEvidence, float]:
    """The fitted evidence and the L2 penalty used (chosen on `valid` when `l2` is "auto")."""
    evidence = NgramEvidence(vocab_size, num_classes)
    problem = _Problem(evidence, train)
    with torch.no_grad():
        evidence.ratio[problem.seen] = problem.ratio
    if l2 != "auto" or valid is None:
        penalty = L2_GRID[2] if l2 == "auto" else float(l2)
        problem.fit(penalty, evidence)
        return evidence, penalty
    valid_chunks = _feature_chunks(evidence, valid)
    best = None
    for penalty in sorted(L2_GRID, reverse=True):  # strongest first: each fit starts from the previous one
        problem.fit(penalty, evidence)
        score = _score(evidence, valid_chunks)
        if best is None or score > best[0]:
            best = (score, penalty, {k: v.clone() for k, v in evidence.state_dict().items()})
    evidence.load_state_dict(best[2])
    return evidence, best[1]


class _Problem:
    """The logistic regression over the features the training texts hold (far fewer than the hashed
    buckets), so that L-BFGS works on short vectors."""

    def __init__(self, evidence: NgramEvidence, data: Labeled) -> None:
        chunks = _feature_chunks(evidence, data)
        self.seen = torch.unique(torch.cat([features[counted] for features, counted, _ in chunks]))  # (F',)
        # features as positions in `seen` (uncounted ones point anywhere: they are masked)
        self.chunks = [(torch.searchsorted(self.seen, features).clamp(max=len(self.seen) - 1), counted, targets)
                       for features, counted, targets in chunks]
        self.ratio = _log_count_ratios(self.chunks, (len(self.seen), evidence.ratio.size(1)))  # (F', C)
        self.n = len(data.indices)
        self.weight = torch.zeros_like(self.ratio, requires_grad=True)  # (F', C)
        self.bias = torch.zeros(self.ratio.size(1), requires_grad=True)  # (C,)

    def scores(self, features: torch.Tensor, counted: torch.Tensor) -> torch.Tensor:
        # The weights' rows are looked up as an embedding: its backward sums each row's gradient in a fixed
        # order on any number of threads (indexing's backward, an accumulating index_put_, does not: the
        # fit, and so the model, changed from run to run on 2 threads).
        weight = nn.functional.embedding(features, self.weight)  # (n, 2T, C)
        return (self.ratio[features] * weight * counted.unsqueeze(2)).sum(dim=1) + self.bias

    def fit(self, l2: float, evidence: NgramEvidence) -> None:
        """Minimize the mean cross-entropy + l2 / n |weight|^2, from the current weights; copy them into
        `evidence`."""
        optimizer = torch.optim.LBFGS([self.weight, self.bias], max_iter=100, history_size=10,
                                      tolerance_change=1e-7, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            total = l2 / self.n * (self.weight ** 2).sum()
            total.backward()
            for features, counted, targets in self.chunks:
                loss = nn.functional.cross_entropy(self.scores(features, counted), targets, reduction="sum") / self.n
                loss.backward()
                total = total + loss.detach()
            return total

        optimizer.step(closure)
        with torch.no_grad():
            evidence.weight.zero_()
            evidence.weight[self.seen] = self.weight
            evidence.bias.copy_(self.bias)


def _feature_chunks(evidence: NgramEvidence, data: Labeled) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(features, counted, targets) for each chunk of texts."""
    chunks = []
    for start in range(0, len(data.indices), CHUNK):
        ids, lengths = pad_batch(data.corpus, data.indices[start : start + CHUNK])  # (n, T), (n,)
        features, counted, _ = evidence.features(ids, lengths)  # (n, 2T) each
        chunks.append((features, counted, data.targets[start : start + CHUNK]))
    return chunks


def _log_count_ratios(chunks, shape: tuple[int, int]) -> torch.Tensor:
    """(F, C): log of (share of class c's texts with f) over (share of the other classes' texts with f)."""
    counts = torch.zeros(shape, dtype=torch.float64)  # (F, C): texts of class c holding feature f
    for features, counted, targets in chunks:
        classes = targets.unsqueeze(1).expand_as(features)  # (n, 2T)
        counts.index_put_((features[counted], classes[counted]), torch.ones(int(counted.sum()), dtype=torch.float64),
                          accumulate=True)
    inside = counts + NB_ALPHA
    outside = counts.sum(dim=1, keepdim=True) - counts + NB_ALPHA
    return torch.log((inside / inside.sum(dim=0)) / (outside / outside.sum(dim=0))).float()


def _score(evidence: NgramEvidence, chunks) -> tuple[float, float]:
    """Validation accuracy, then minus the loss: larger is better."""
    correct = loss = 0.0
    with torch.no_grad():
        for features, counted, targets in chunks:
            logits = evidence.scores(features, counted)  # (n, C)
            correct += (logits.argmax(1) == targets).sum().item()
            loss += nn.functional.cross_entropy(logits, targets, reduction="sum").item()
    return correct, -loss
