"""A fitted model evaluated on labelled data: functions that take the model (`TextClassifier`), as
AllenNLP keeps its interpreters apart from the predictor. Single-label: accuracy, macro-F1, per-class
figures, the confusion matrix and the calibration; multi-label: micro/macro/sample F1, Hamming loss,
subset accuracy, per-label figures with their thresholds. With `errors`, the worst mistakes."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from seqclf.text.encoded import EncodedData, class_indices, encode_data, label_matrix
from seqclf.data.readers import dataset_from_lists
from seqclf.training.metrics import calibration, classification_report, multi_label_report

if TYPE_CHECKING:
    from seqclf.api import TextClassifier


def evaluate(model: TextClassifier, texts: Sequence[str], labels: Sequence[object], errors: int = 0) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix and the calibration
    (expected calibration error over 15 bins of confidence, and each bin's figures); with `errors`, the
    that many most confident mistakes (text, gold, predicted, the predicted class's probability)."""
    data = dataset_from_lists(texts, labels, source="evaluation data", multi_label=model.fitted_state.multi_label)
    report = evaluate_encoded(model, encode_data(data, model.tokenizer), errors)
    for mistake in report.get("errors", []):
        mistake["text"] = data.texts[mistake.pop("index")]
    return report


def evaluate_encoded(model: TextClassifier, data: EncodedData, errors: int = 0) -> dict:
    """As `evaluate`; each mistake names its example by `index` (its row in `data`)."""
    probabilities = model.corpus_probabilities(data.corpus)  # (N, C)
    if model.fitted_state.multi_label:
        return _label_sets_report(model, data, probabilities, errors)
    classes = model.classes_
    targets = class_indices(data, classes)
    predicted = probabilities.argmax(axis=1)  # (N,)
    report = {**classification_report(targets, predicted, classes), "calibration": calibration(probabilities, targets)}
    if errors:
        confidence = probabilities.max(axis=1)  # (N,)
        wrong = np.flatnonzero(predicted != targets)
        worst = wrong[np.argsort(-confidence[wrong], kind="stable")[:errors]]
        report["errors"] = [{"index": int(i), "gold": classes[targets[i]], "predicted": classes[predicted[i]],
                             "probability": float(confidence[i])} for i in worst]
    return report


def _label_sets_report(model: TextClassifier, data: EncodedData, probabilities: np.ndarray, errors: int) -> dict:
    """A multi-label model's report: micro/macro/sample F1, Hamming loss, subset accuracy, per label
    P/R/F1 (with its threshold); with `errors`, the texts with the most wrong label decisions."""
    classes, thresholds = model.classes_, model.thresholds
    truth = label_matrix(data, classes)  # (N, C)
    predicted = probabilities >= thresholds  # (N, C)
    report = multi_label_report(truth, predicted, classes)
    for name, threshold in zip(classes, thresholds.tolist()):
        report["per_label"][name]["threshold"] = threshold
    if errors:
        wrong = (truth != predicted).sum(axis=1)  # (N,)
        worst = np.argsort(-wrong, kind="stable")[: min(errors, int((wrong > 0).sum()))]
        report["errors"] = [{"index": int(i), "gold": [c for c, t in zip(classes, truth[i]) if t],
                             "predicted": [c for c, p in zip(classes, predicted[i]) if p],
                             "wrong_labels": int(wrong[i])} for i in worst]
    return report
