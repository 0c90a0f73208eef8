"""The task a model learns, chosen once from the training labels: single-label (each text one class: softmax
over the classes, the most probable one answers) or multi-label (each text a set of labels, possibly empty: a
sigmoid per label, the labels at or over their thresholds answer).

The one place that knows the difference: targets, loss, activation, decision, metrics and the answer's shape.
Everything else asks the model's task. The activation runs on NumPy arrays (ONNX Runtime's path, which
never imports PyTorch) and on tensors (through tensor methods); the loss imports PyTorch when it is built.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from seqclf.errors import ConfigError, DataError
from seqclf.fields import finite_number
from seqclf.metrics import calibration, classification_report, multi_label_report

if TYPE_CHECKING:
    import torch

INDEPENDENT_NOTE = ("multi-label: each probability is its label's own (a sigmoid), so they do not sum to 1; "
                    "a label is predicted when its probability reaches its threshold")


@dataclass(frozen=True)
class Task:
    """Single-label or multi-label; `SINGLE_LABEL` and `MULTI_LABEL` are the two there are."""

    name: str  # what fitted.json, the ONNX metadata and /v1/model record
    label_sets: bool  # each text has a set of labels (possibly empty) instead of one class
    activation: str  # "softmax" over the classes, or "a sigmoid per label"

    # -- stage 5: logits to probabilities -----------------------------------------------------------

    def activate(self, logits: np.ndarray) -> np.ndarray:
        """(N, C) float32 probabilities of (N, C) logits: rows sum to 1 (softmax), or each in (0, 1) (sigmoid)."""
        logits = np.asarray(logits, dtype=np.float32)  # no copy when it is float32 already (every engine's)
        if self.label_sets:
            out = np.exp(-logits)  # (N, C); in place from here: one text's call is microseconds
            out += 1.0
            return np.reciprocal(out, out=out)
        out = np.exp(logits - logits.max(axis=1, keepdims=True))  # (N, C)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def activate_tensor(self, logits: torch.Tensor) -> torch.Tensor:
        """`activate` on (B, C) tensors, differentiable."""
        return logits.sigmoid() if self.label_sets else logits.softmax(dim=-1)

    def probabilities_well_formed(self, probabilities: np.ndarray) -> bool:
        """Whether (N, C) probabilities are what this task's activation gives (softmax rows sum to 1)."""
        in_range = bool(np.all((probabilities >= 0) & (probabilities <= 1)))
        return in_range and (self.label_sets or bool(np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)))

    # -- training: targets and loss -----------------------------------------------------------------

    def check_data(self, read_as: Task, source: str) -> None:
        """Data `read_as` a task can be this task's: label sets cannot be a single-label model's targets."""
        if read_as.label_sets and not self.label_sets:
            raise DataError("holds label sets (multi-label data), but the model gives each text one class",
                            path=source, field="labels", hint="evaluate it with a model trained with --multi-label")

    def targets(self, class_ids: np.ndarray, bounds: np.ndarray, num_classes: int) -> np.ndarray:
        """The targets of N examples whose labels are `class_ids`[bounds[i]:bounds[i + 1]] (indices into the
        model's classes): (N,) class indices (of class_ids' integer type), or (N, C) float32 multi-hot label sets."""
        if not self.label_sets:
            return np.asarray(class_ids)
        rows = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
        matrix = np.zeros((len(bounds) - 1, num_classes), dtype=np.float32)
        matrix[rows, class_ids] = 1.0
        return matrix

    def loss(self, label_smoothing: float, weights: torch.Tensor | None) -> Callable:
        """The mean loss of (B, C) logits against `targets`' rows: cross-entropy over the classes (weights per
        class), or binary cross-entropy per label (weights: each label's positive weight)."""
        from torch import nn

        if self.label_sets:
            return functools.partial(_binary_cross_entropy, label_smoothing=label_smoothing, pos_weight=weights)
        return functools.partial(nn.functional.cross_entropy, label_smoothing=label_smoothing, weight=weights)

    # -- the decision and the answer ----------------------------------------------------------------

    def decide(self, probabilities: np.ndarray, thresholds: np.ndarray | None,
               classes: Sequence[str]) -> list[str] | list[list[str]]:
        """Each text's class, or its labels at or over their (C,) thresholds, most probable first."""
        if not self.label_sets:
            return [classes[i] for i in probabilities.argmax(axis=1)]
        order = np.argsort(-probabilities, axis=1, kind="stable")  # (N, C)
        chosen = probabilities >= thresholds  # (N, C)
        return [[classes[c] for c in row if picked[c]] for row, picked in zip(order.tolist(), chosen.tolist())]

    def answers(self, probabilities: np.ndarray, thresholds: np.ndarray | None, classes: Sequence[str],
                top_k: int | None = None) -> list[dict]:
        """Per text: {"label", "probabilities"} with the `top_k` most probable classes (all by default), most
        probable first; multi-label: {"labels", "probabilities", "note"}."""
        k = len(classes) if top_k is None else max(1, min(top_k, len(classes)))
        order = np.argsort(probabilities, axis=1)[:, ::-1][:, :k].tolist()  # (N, k), most probable first
        shown = [{classes[i]: row[i] for i in top} for top, row in zip(order, probabilities.tolist())]
        if self.label_sets:
            return [{"labels": labels, "probabilities": p, "note": INDEPENDENT_NOTE}
                    for labels, p in zip(self.decide(probabilities, thresholds, classes), shown)]
        return [{"label": classes[top[0]], "probabilities": p} for top, p in zip(order, shown)]

    def traced_decision(self, probabilities: np.ndarray, thresholds: Sequence[float] | None,
                        classes: Sequence[str]) -> dict:
        """What a prediction trace adds for this task: a multi-label model's thresholds and labels."""
        if not self.label_sets:
            return {}
        labels = self.decide(probabilities[None, :], np.asarray(thresholds), classes)[0]
        return {"multi_label": True, "thresholds": list(thresholds), "labels": labels}

    def check_thresholds(self, thresholds: tuple[float, ...] | None, num_classes: int) -> None:
        """A multi-label model has one threshold in (0, 1) per label; a single-label one has none."""
        if not self.label_sets:
            if thresholds is not None:
                raise ConfigError("a single-label model has no thresholds", field="thresholds")
            return
        given = thresholds or ()
        if len(given) != num_classes or not all(finite_number(t) and 0 < t < 1 for t in given):
            raise ConfigError(f"a multi-label model needs one threshold in (0, 1) per label ({num_classes}), "
                              f"got {None if thresholds is None else list(thresholds)}", field="thresholds")

    # -- what it allows -----------------------------------------------------------------------------

    def check_combinable(self, sequence_models: int, ngram_evidence: bool) -> None:
        """Ensembles and n-gram evidence combine probabilities over classes: single-label models only."""
        if self.label_sets and (sequence_models > 1 or ngram_evidence):
            raise ConfigError("a multi-label model is one sequence model: ensembles and n-gram evidence combine "
                              "probabilities over classes", field="ensemble" if sequence_models > 1 else
                              "ngram_evidence", hint="use --ensemble 1 --no-ngram-evidence")

    def check_single_label(self, source: str, why: str, hint: str) -> None:
        """A DataError for label sets where only single-label data can be used (`why` says why not)."""
        if self.label_sets:
            raise DataError(f"holds label sets (multi-label data); {why}", path=source, field="label", hint=hint)

    @property
    def calibrated(self) -> bool:
        """Whether a temperature is fitted on validation data (softmax over classes)."""
        return not self.label_sets

    # -- metrics ------------------------------------------------------------------------------------

    def report(self, targets: np.ndarray, probabilities: np.ndarray, thresholds: np.ndarray | None,
               classes: Sequence[str], errors: int = 0) -> dict:
        """The evaluation of (N, C) probabilities against `targets`: accuracy, macro-F1, per-class figures, the
        confusion matrix and the calibration; multi-label: micro/macro/sample F1, Hamming loss, subset accuracy,
        per-label figures with their thresholds. With `errors`, that many worst mistakes by `index`."""
        if self.label_sets:
            return _label_sets_report(targets, probabilities >= thresholds, thresholds, classes, errors)
        predicted = probabilities.argmax(axis=1)  # (N,)
        report = {**classification_report(targets, predicted, classes),
                  "calibration": calibration(probabilities, targets)}
        if errors:
            confidence = probabilities.max(axis=1)  # (N,)
            wrong = np.flatnonzero(predicted != targets)
            worst = wrong[np.argsort(-confidence[wrong], kind="stable")[:errors]]
            report["errors"] = [{"index": int(i), "gold": classes[targets[i]], "predicted": classes[predicted[i]],
                                 "probability": float(confidence[i])} for i in worst]
        return report


SINGLE_LABEL = Task("single-label", label_sets=False, activation="softmax")
MULTI_LABEL = Task("multi-label", label_sets=True, activation="a sigmoid per label")
TASKS = {task.name: task for task in (SINGLE_LABEL, MULTI_LABEL)}


def task_named(name: str) -> Task:
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}", field="task", hint="one of: " + ", ".join(TASKS))
    return TASKS[name]


def task_of(label_sets: bool) -> Task:
    """The task of labels that are sets (or are to be read as sets), else of one class per text."""
    return MULTI_LABEL if label_sets else SINGLE_LABEL


def _binary_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float,
                          pos_weight: torch.Tensor | None) -> torch.Tensor:
    from torch import nn

    smoothed = targets * (1 - label_smoothing) + 0.5 * label_smoothing  # (B, C): 1 -> 1 - s/2, 0 -> s/2
    return nn.functional.binary_cross_entropy_with_logits(logits, smoothed, pos_weight=pos_weight)


def _label_sets_report(truth: np.ndarray, predicted: np.ndarray, thresholds: np.ndarray, classes: Sequence[str],
                       errors: int) -> dict:
    """(N, C) gold and predicted label sets: the multi-label figures, each label's threshold beside its own;
    with `errors`, the texts with the most wrong label decisions."""
    report = multi_label_report(truth, predicted, classes)
    for name, threshold in zip(classes, np.asarray(thresholds).tolist()):
        report["per_label"][name]["threshold"] = threshold
    if errors:
        wrong = (truth != predicted).sum(axis=1)  # (N,)
        worst = np.argsort(-wrong, kind="stable")[: min(errors, int((wrong > 0).sum()))]
        report["errors"] = [{"index": int(i), "gold": [c for c, t in zip(classes, truth[i]) if t],
                             "predicted": [c for c, p in zip(classes, predicted[i]) if p],
                             "wrong_labels": int(wrong[i])} for i in worst]
    return report

