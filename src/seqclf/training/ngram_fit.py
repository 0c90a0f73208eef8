"""Fitting the n-gram evidence (nn/ngrams.py) on the training data only: naive-Bayes log-count ratios of
each feature in each class against the rest, then a logistic regression over the ratio-scaled binary
features (L-BFGS, training/lbfgs.py, full batch, on a sparse design matrix), its L2 penalty chosen on the validation data
from a small grid (as NBSVM's C is chosen on dev)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqclf.text.tensors import pad_batch
from seqclf.ids import EncodedCorpus
from seqclf.nn.ngrams import NgramEvidence
from seqclf.training.lbfgs import minimize_lbfgs

L2_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)  # penalty on the weights, per training text: 1 / (2 C) in scikit-learn's terms
CHUNK = 8192  # texts per chunk: bounds memory on large files
NB_ALPHA = 1.0  # additive smoothing of the counts


@dataclass
class Labeled:
    """Texts of an encoded corpus (at `indices`) with their class indices."""

    corpus: EncodedCorpus
    indices: np.ndarray
    targets: torch.Tensor  # (N,) int16 class indices (`loss_targets` reads them as int64), or (N, C) label sets

    def loss_targets(self, positions: np.ndarray | slice = slice(None)) -> torch.Tensor:
        """The targets at `positions` (default: all) as the loss reads them: int64 class indices (as
        `cross_entropy` needs them), or float32 label sets."""
        targets = self.targets[positions]
        return targets if targets.is_floating_point() else targets.long()


def fit_ngram_evidence(vocab_size: int, num_classes: int, train: Labeled, valid: Labeled | None,
                       l2: float | str = "auto") -> tuple[NgramEvidence, float]:
    """The fitted evidence and the L2 penalty used (chosen on `valid` when `l2` is "auto")."""
    evidence = NgramEvidence(vocab_size, num_classes)
    problem = _Problem(evidence, train)
    with torch.no_grad():
        evidence.ratio[problem.seen] = problem.ratio.float()
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
    buckets), on a sparse (N, F') design of each text's 0/1 features: a step of L-BFGS is two sparse
    products in float64, the gradient written out rather than traced (each output row summed in one fixed
    order, on any number of threads)."""

    def __init__(self, evidence: NgramEvidence, data: Labeled) -> None:
        rows, features, targets = _counted_features(evidence, data)
        self.seen, columns = torch.unique(features, return_inverse=True)  # (F',), (nnz,) positions in it
        n, classes = len(data.indices), evidence.ratio.size(1)
        self.design = _sparse(rows, columns, (n, len(self.seen)))  # (N, F')
        self.design_t = _sparse(columns, rows, (len(self.seen), n))  # (F', N)
        self.targets = nn.functional.one_hot(targets, classes).double()  # (N, C)
        self.ratio = _log_count_ratios(columns, targets[rows], (len(self.seen), classes))  # (F', C), float64
        self.n = n
        self.weight = torch.zeros_like(self.ratio)  # (F', C)
        self.bias = torch.zeros(classes, dtype=torch.float64)  # (C,)

    def fit(self, l2: float, evidence: NgramEvidence) -> None:
        """Minimize the mean cross-entropy + l2 / n |weight|^2, from the current weights; copy them into
        `evidence`."""
        features, classes = self.weight.shape

        def loss_and_gradient(solution: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            weight, bias = solution[:-classes].view(features, classes), solution[-classes:]  # (F', C), (C,)
            log_p = torch.log_softmax(self.design @ (self.ratio * weight) + bias, dim=1)  # (N, C)
            residual = (log_p.exp() - self.targets) / self.n  # (N, C): d loss / d scores
            weight_gradient = self.ratio * (self.design_t @ residual) + 2 * l2 / self.n * weight  # (F', C)
            loss = -(log_p * self.targets).sum() / self.n + l2 / self.n * (weight ** 2).sum()
            return loss, torch.cat([weight_gradient.flatten(), residual.sum(dim=0)])

        solution = minimize_lbfgs(loss_and_gradient, torch.cat([self.weight.flatten(), self.bias]))
        self.weight, self.bias = solution[:-classes].view(features, classes), solution[-classes:]
        with torch.no_grad():
            evidence.weight.zero_()
            evidence.weight[self.seen] = self.weight.float()
            evidence.bias.copy_(self.bias.float())


def _sparse(rows: torch.Tensor, columns: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """A 0/1 float64 matrix in compressed sparse rows (PyTorch calls its CSR support beta: the warning is not
    shown)."""
    with warnings.catch_warnings(action="ignore", category=UserWarning):
        return torch.sparse_coo_tensor(torch.stack([rows, columns]), torch.ones(len(rows), dtype=torch.float64), shape,
                                       check_invariants=False).coalesce().to_sparse_csr()


def _counted_features(evidence: NgramEvidence, data: Labeled) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each text's counted features as (text row, feature) pairs, and the (N,) class of each text."""
    rows, features = [], []
    for start, (chunk, counted, _) in zip(range(0, len(data.indices), CHUNK), _feature_chunks(evidence, data)):
        row, position = counted.nonzero(as_tuple=True)
        rows.append(row + start)
        features.append(chunk[row, position])
    return torch.cat(rows), torch.cat(features), data.loss_targets()


def _feature_chunks(evidence: NgramEvidence, data: Labeled) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(features, counted, targets) for each chunk of texts."""
    chunks = []
    for start in range(0, len(data.indices), CHUNK):
        ids, lengths = pad_batch(data.corpus, data.indices[start : start + CHUNK])  # (n, T), (n,)
        features, counted, _ = evidence.features(ids, lengths)  # (n, 2T) each
        chunks.append((features, counted, data.loss_targets(slice(start, start + CHUNK))))
    return chunks


def _log_count_ratios(columns: torch.Tensor, classes: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(F, C): log of (share of class c's texts with f) over (share of the other classes' texts with f), from
    each (text, feature) pair's feature column and its text's class."""
    counts = torch.zeros(shape, dtype=torch.float64)  # (F, C): texts of class c holding feature f
    counts.index_put_((columns, classes), torch.ones(len(columns), dtype=torch.float64), accumulate=True)
    inside = counts + NB_ALPHA
    outside = counts.sum(dim=1, keepdim=True) - counts + NB_ALPHA
    return torch.log((inside / inside.sum(dim=0)) / (outside / outside.sum(dim=0)))


def _score(evidence: NgramEvidence, chunks) -> tuple[float, float]:
    """Validation accuracy, then minus the loss: larger is better."""
    correct = loss = 0.0
    with torch.no_grad():
        for features, counted, targets in chunks:
            logits = evidence.scores(features, counted)  # (n, C)
            correct += (logits.argmax(1) == targets).sum().item()
            loss += nn.functional.cross_entropy(logits, targets, reduction="sum").item()
    return correct, -loss
