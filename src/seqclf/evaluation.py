"""A fitted model evaluated on labelled data: functions that take the model (`TextClassifier`), as
AllenNLP keeps its interpreters apart from the predictor. The figures are the model's task's
(`Task.report`): single-label accuracy, macro-F1, per-class figures, the confusion matrix and the
calibration; multi-label micro/macro/sample F1, Hamming loss, subset accuracy and per-label figures
with their thresholds. With `errors`, the worst mistakes."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from seqclf.text.encoded import EncodedData, encode_data, targets
from seqclf.data.readers import dataset_from_lists

if TYPE_CHECKING:
    from seqclf.api import TextClassifier


def evaluate(model: TextClassifier, texts: Sequence[str], labels: Sequence[object], errors: int = 0) -> dict:
    """The model's figures on `texts` and their gold `labels`; with `errors`, that many worst mistakes (most
    confident wrong class, or most wrong label decisions), each with its text."""
    data = dataset_from_lists(texts, labels, source="evaluation data", task=model.task)
    report = evaluate_encoded(model, encode_data(data, model.tokenizer), errors)
    for mistake in report.get("errors", []):
        mistake["text"] = data.texts[mistake.pop("index")]
    return report


def evaluate_encoded(model: TextClassifier, data: EncodedData, errors: int = 0) -> dict:
    """As `evaluate`; each mistake names its example by `index` (its row in `data`)."""
    probabilities = model.corpus_probabilities(data.corpus)  # (N, C)
    task, classes = model.task, model.classes_
    return task.report(targets(data, classes, task), probabilities, model.thresholds, classes, errors)
