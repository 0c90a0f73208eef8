"""Classification metrics from integer class indices: accuracy, per-class P/R/F1, confusion matrix; from
probabilities, the expected calibration error; and of label sets, the multi-label figures."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) counts; row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


CALIBRATION_BINS = 15


def calibration(probabilities: np.ndarray, y_true: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    """Expected calibration error (Guo et al. 2017): the predictions sorted into `bins` equal-width bins of
    confidence (the top probability), the gap between each bin's accuracy and mean confidence, weighted by
    its share of the predictions. Also each bin's figures (empty bins left out), for a reliability diagram."""
    probabilities, y_true = np.asarray(probabilities, dtype=np.float64), np.asarray(y_true)  # (N, C), (N,)
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == y_true  # (N,) each
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)  # bin i: (edge i, edge i+1]
    rows, error = [], 0.0
    for i in range(bins):
        members = which == i
        count = int(members.sum())
        if count == 0:
            continue
        accuracy, mean_confidence = float(correct[members].mean()), float(confidence[members].mean())
        error += count / len(y_true) * abs(accuracy - mean_confidence)
        rows.append({"lower": float(edges[i]), "upper": float(edges[i + 1]), "count": count, "accuracy": accuracy,
                     "confidence": mean_confidence})
    return {"expected_calibration_error": error, "bins": bins, "reliability": rows}


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix, as plain data."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    true_positive = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1)
    precision, recall, f1 = _ratios(true_positive, matrix.sum(axis=0), support)
    return {
        "examples": int(len(y_true)),
        "accuracy": float(true_positive.sum() / max(len(y_true), 1)),
        "macro_f1": float(f1.mean()),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(classes, precision, recall, f1, support)
        },
        "confusion_matrix": {"labels": list(classes), "rows_true_columns_predicted": matrix.tolist()},
    }


def multi_label_report(truth: np.ndarray, predicted: np.ndarray, classes: Sequence[str]) -> dict:
    """Multi-label figures of (N, C) 0/1 gold label sets against (N, C) 0/1 predicted ones: micro-, macro- and
    sample-averaged F1, Hamming loss (share of wrong label decisions), subset accuracy (share of texts with
    every label right), and per label precision/recall/F1/support. An undefined ratio (nothing predicted,
    nothing to find) counts 0, as scikit-learn's default does, except a sample's F1 when it has no gold and
    no predicted label: that prediction is exactly right, and counts 1."""
    truth, predicted = np.asarray(truth) > 0.5, np.asarray(predicted) > 0.5  # (N, C) each
    hits = (truth & predicted).sum(axis=0).astype(float)  # (C,)
    found, support = predicted.sum(axis=0), truth.sum(axis=0)  # (C,) each
    precision, recall, f1 = _ratios(hits, found, support)
    micro_precision, micro_recall, micro_f1 = (float(v) for v in _ratios(hits.sum(), found.sum(), support.sum()))
    per_text = (truth & predicted).sum(axis=1), predicted.sum(axis=1) + truth.sum(axis=1)  # (N,) each
    samples_f1 = np.divide(2 * per_text[0], per_text[1], out=np.ones(len(truth)), where=per_text[1] > 0)
    return {
        "examples": int(len(truth)),
        "subset_accuracy": float((truth == predicted).all(axis=1).mean()) if len(truth) else 0.0,
        "micro_f1": micro_f1,
        "macro_f1": float(f1.mean()),
        "samples_f1": float(samples_f1.mean()) if len(truth) else 0.0,
        "hamming_loss": float((truth != predicted).mean()) if truth.size else 0.0,
        "micro_precision": micro_precision,
        "micro_recall": micro_recall,
        "per_label": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(classes, precision, recall, f1, support)
        },
    }


def _ratios(hits, found, support):
    """Precision, recall and F1 from true positives, predicted and gold counts (arrays or scalars); 0 where
    undefined."""
    hits, found, support = (np.asarray(v, dtype=float) for v in (hits, found, support))
    precision = np.divide(hits, found, out=np.zeros_like(hits), where=found > 0)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    both = precision + recall
    return precision, recall, np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
