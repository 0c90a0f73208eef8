"""Classification metrics from integer class indices: accuracy, per-class P/R/F1, confusion matrix; and
from probabilities, the expected calibration error."""
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
    predicted = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0)
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(true_positive), where=both > 0)
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
