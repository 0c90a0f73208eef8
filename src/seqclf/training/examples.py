"""The examples training reads: the classes in the model's order, the training examples and the held-out
(or given) validation examples with their targets, and the fingerprint a resume checks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seqclf.text.encoded import EncodedData, targets
from seqclf.data.settings import LABEL_ORDERS
from seqclf.errors import DataError
from seqclf.ids import index_dtype, release_pages
from seqclf.task import Task
from seqclf.text.tokenizer import WordTokenizer
from seqclf.training.checkpoint import training_fingerprint
from seqclf.training.ngram_fit import Labeled
from seqclf.training.settings import TrainConfig


@dataclass
class Split:
    """The training examples, and the validation examples with their targets (if any), for the task."""

    task: Task  # chosen once, from the training labels
    train: Labeled
    valid: Labeled | None
    fingerprint: str  # of the data, the split and the vocabulary (for resume)


def split_examples(tokenizer: WordTokenizer, train: EncodedData, valid: EncodedData | float | None, classes: list[str],
           settings: TrainConfig) -> Split:
    task = train.task  # the training labels decide: label sets make a multi-label model
    train_targets = torch.from_numpy(targets(train, classes, task))  # (N,) classes, or (N, C) 0/1 label sets
    train_indices, valid_indices = holdout(len(train), valid, settings)
    fingerprint = training_fingerprint(tokenizer, train, train_indices, valid, valid_indices)
    release_pages(train.label_ids)  # read once, for the targets
    labeled = Labeled(train.corpus, train_indices, train_targets[train_indices])
    if isinstance(valid, EncodedData):
        valid_targets = torch.from_numpy(targets(valid, classes, task))
        return Split(task, labeled, Labeled(valid.corpus, np.arange(len(valid)), valid_targets), fingerprint)
    if valid_indices is not None:
        return Split(task, labeled, Labeled(train.corpus, valid_indices, train_targets[valid_indices]), fingerprint)
    return Split(task, labeled, None, fingerprint)


def class_order(first_seen: list[str], order: str) -> list[str]:
    """The classes, in the model's output order, from the training labels in first-seen order."""
    if not first_seen:
        raise DataError("no training examples", field="texts")
    if len(first_seen) < 2:
        raise DataError(f"the training data has only one class ({first_seen[0]!r})", field="labels",
                        hint="a classifier needs examples of at least two classes")
    return list(LABEL_ORDERS[order](first_seen))


def holdout(n: int, valid: EncodedData | float | None, settings: TrainConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices to train on and, when holding out a fraction, indices to validate on."""
    if isinstance(valid, EncodedData):
        return np.arange(n), None
    fraction = settings.valid_fraction if valid is None else float(valid)
    if not 0 <= fraction < 1:
        raise DataError(f"a held-out fraction must be in [0, 1), got {fraction}", field="valid")
    n_valid = int(round(n * fraction))
    if n_valid == 0:
        return np.arange(n), None
    return _split_order(n, n_valid, settings.seed)


def _split_order(n: int, n_valid: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`default_rng(seed).permutation(n)` cut after `n_valid`: the same order, as int32 where it fits (half the
    memory of a large corpus's indices)."""
    order = np.arange(n, dtype=index_dtype(n))
    np.random.default_rng(seed).shuffle(order)
    return order[n_valid:], order[:n_valid]
