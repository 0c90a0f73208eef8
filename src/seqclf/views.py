"""Views of a fitted model (`TextClassifier`), as data: one text's prediction trace, the data-flow table
of a data set, and the model described (what `GET /v1/model` answers). All come from the float32 PyTorch
model's `forward_stages()` (`seqclf.trace`), whatever backend predicts."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

from seqclf.data.inputs import single_text
from seqclf.data.readers import dataset_from_lists
from seqclf.errors import DataError
from seqclf.ids import EncodedCorpus
from seqclf.training.history import History

if TYPE_CHECKING:
    from seqclf.api import TextClassifier
    from seqclf.data_flow import DataFlow
    from seqclf.trace import PredictionTrace

EXAMPLE = "I love this movie"  # the text whose shapes describe() shows


def trace(model: TextClassifier, text: str) -> PredictionTrace:
    """One text through every stage, with the real values each stage produced."""
    from seqclf.trace import prediction_trace

    single_text(text)
    parts = model.fitted
    return prediction_trace(parts.model, parts.tokenizer, parts.classes, text, model.thresholds.tolist(),
                            model.chunking)


def data_flow(model: TextClassifier, texts: Sequence[str]) -> DataFlow:
    """The shape of the whole data set after each stage."""
    if len(texts) == 0:
        raise DataError("no texts given", field="texts")
    corpus = model.fitted.tokenizer.encode(dataset_from_lists(texts, None, source="texts").texts)
    return data_flow_encoded(model, corpus, texts[0])


def data_flow_encoded(model: TextClassifier, corpus: EncodedCorpus, example: str | None = None) -> DataFlow:
    """The data-flow table of an encoded corpus; `example` is the text of its first sequence (by default,
    that sequence's tokens)."""
    from seqclf.data_flow import data_flow as flow_of

    parts = model.fitted
    if example is None:
        example = " ".join(parts.tokenizer.id_to_token(int(i)) for i in corpus.sequence(0))
    return flow_of(parts.model, parts.tokenizer, parts.classes, corpus, example, model.thresholds.tolist(),
                   model.chunking)


def describe(model: TextClassifier) -> dict:
    """The model as data: name, labels, task, format version, settings, what training learned besides the
    weights, the data flow for N texts, the training history and the backend."""
    parts = model.fitted
    return {
        "name": None if model.directory is None else model.directory.name,
        "labels": parts.classes,
        "task": parts.fitted.task.name,
        "thresholds": None if parts.fitted.thresholds is None else list(parts.fitted.thresholds),
        "format_version": parts.format_version,
        "config": parts.config.to_dict(),
        "fitted": parts.fitted.to_dict(),
        "data_flow": data_flow(model, [EXAMPLE]).with_batch_axis("N").to_dict(),
        "history": marked_history(parts.history),
        "backend": model.engine.description,  # what answers, e.g. "ONNX Runtime fp32"
    }


def marked_history(history: History) -> list[dict]:
    """The per-epoch records, each with `best`: true for the epoch whose weights training kept (one per
    sequence model of an ensemble; the CLI's trace marks it '*')."""
    members = {record.member for record in history.records}
    kept = {member: History([r for r in history.records if r.member == member]).best_epoch for member in members}
    return [{**asdict(record), "best": record.epoch == kept[record.member]} for record in history.records]
