"""The examples training reads: the classes in the model's order, the training examples and the held-out
(or given) validation examples with their targets, a teacher's class probabilities for the training
examples when a student is distilled, and the fingerprint a resume checks."""
from __future__ import annotations

import hashlib
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
    fingerprint: str  # of the data, the split, the vocabulary and any teacher's probabilities (for resume)
    taught: Labeled | None = None  # distilling: the training examples with the teacher's (N, C) probabilities

    @property
    def sequence_model_train(self) -> Labeled:
        """What the sequence models learn from: the teacher's probabilities, else the training labels (the
        n-gram evidence, the class weights and validation always use the labels)."""
        return self.taught or self.train


@dataclass(frozen=True)
class SoftTargets:
    """A teacher's class probabilities for each training text, its classes naming the columns."""

    classes: list[str]
    probabilities: np.ndarray  # (N, C) float32, rows summing to 1

    def in_order(self, classes: list[str], source: str) -> torch.Tensor:
        """(N, C) float32 with the columns in the model's class order."""
        if sorted(self.classes) != sorted(classes):
            raise DataError(f"the teacher's classes {self.classes} are not the data's {classes}", path=source,
                            field="labels", hint="distill on data with the classes the teacher was trained on")
        return torch.from_numpy(np.ascontiguousarray(self.probabilities[:, [self.classes.index(c) for c in classes]],
                                                     dtype=np.float32))


def split_examples(tokenizer: WordTokenizer, train: EncodedData, valid: EncodedData | float | None, classes: list[str],
                   settings: TrainConfig, soft: SoftTargets | None = None) -> Split:
    task = train.task  # the training labels decide: label sets make a multi-label model
    train_targets = torch.from_numpy(targets(train, classes, task))  # (N,) classes, or (N, C) 0/1 label sets
    train_indices, valid_indices = holdout(len(train), valid, settings)
    fingerprint = training_fingerprint(tokenizer, train, train_indices, valid, valid_indices)
    release_pages(train.label_ids)  # read once, for the targets
    labeled = Labeled(train.corpus, train_indices, train_targets[train_indices])
    taught = None
    if soft is not None:
        task.check_single_label(train.source, "a student learns a teacher's probabilities over classes",
                                "distill a single-label model")
        probabilities = soft.in_order(classes, train.source)  # (N, C)
        taught = Labeled(train.corpus, train_indices, probabilities[train_indices])
        fingerprint = hashlib.sha256((fingerprint + "taught").encode() + probabilities.numpy().tobytes()).hexdigest()
    if isinstance(valid, EncodedData):
        valid_targets = torch.from_numpy(targets(valid, classes, task))
        valid_examples = Labeled(valid.corpus, np.arange(len(valid)), valid_targets)
    elif valid_indices is not None:
        valid_examples = Labeled(train.corpus, valid_indices, train_targets[valid_indices])
    else:
        valid_examples = None
    return Split(task, labeled, valid_examples, fingerprint, taught)


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
