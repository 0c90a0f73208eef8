"""`Predictor`: a trained model behind one interface, which the Python API, the command line and the
HTTP server all use (AllenNLP's Predictor): texts in; labels, probabilities, traces, reports out.

Whatever the backend (`BackendConfig`: PyTorch or ONNX Runtime, float32 or int8), tokenization,
batching and everything after the logits are the same code here; the trace and the data-flow table
show the float32 PyTorch model, whose stages they explain.
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqclf import artifacts, outputs
from seqclf.artifacts import ModelParts
from seqclf.data.batching import Chunking
from seqclf.data.encoded import EncodedData, class_indices, encode_data, label_matrix
from seqclf.data.formats import BadRow
from seqclf.data.readers import dataset_from_lists, input_from_argument, read_dataset, read_inputs
from seqclf.deploy.backend import BACKENDS, BackendConfig, build_engine
from seqclf.deploy.quantize import QUANTIZATIONS
from seqclf.errors import DataError
from seqclf.fields import check_choice
from seqclf.ids import EncodedCorpus
from seqclf.outputs import INDEPENDENT_NOTE, pool_windows
from seqclf.training.metrics import calibration, classification_report, multi_label_report

if TYPE_CHECKING:
    from seqclf.deploy.onnx_export import ExportReport
    from seqclf.explain import Explanation
    from seqclf.trace import DataFlow, PredictionTrace

__all__ = ["Predictor", "LONG_TEXT_SETTINGS", "EXPLAIN_STEPS", "TOP_WORDS", "MIN_COUNT", "BackendConfig", "BACKENDS", "QUANTIZATIONS", "BadRow", "input_from_argument", "read_dataset",
           "read_inputs"]
EXAMPLE = "I love this movie"  # the text whose shapes describe() shows
EXPLAIN_STEPS = 50  # points of the integral, by default
TOP_WORDS = 20  # words per class, by default
MIN_COUNT = 5  # occurrences a word needs to be ranked among the top words, by default
# How a model reads texts longer than max_len: settings a saved model may be told to read otherwise.
LONG_TEXT_SETTINGS = ("long_text", "window_stride", "window_pooling")


class Predictor:
    """Predictions, traces and reports of one model (`ModelParts`), run by one backend."""

    def __init__(self, parts: ModelParts, backend: BackendConfig = BackendConfig(),
                 directory: Path | None = None) -> None:
        self.parts, self.backend, self.directory = parts, backend, directory
        self.engine = build_engine(parts, directory, backend)
        self.multi_label = parts.fitted.multi_label
        self.thresholds = np.asarray(parts.fitted.thresholds or [], dtype=np.float32)  # (C,) multi-label
        self.chunking = Chunking.of(parts.config.tokenizer, parts.tokenizer.max_len)
        self._explaining = threading.Lock()  # one explanation at a time, on a model of its own
        self._explained_model = None

    @classmethod
    def from_dir(cls, directory: str | Path, backend: BackendConfig = BackendConfig()) -> Predictor:
        """A saved model directory (checked whole by `artifacts.load`), run by `backend`."""
        return cls(artifacts.load(directory), backend, Path(directory))

    def reading_long_texts(self, settings: dict) -> Predictor:
        """The same model (same weights and backend) reading texts longer than max_len as `settings` say, e.g.
        {"long_text": "chunk"} for a model trained with truncation."""
        unknown = sorted(set(settings) - set(LONG_TEXT_SETTINGS))
        if unknown:
            raise DataError(f"not a setting of how long texts are read: {', '.join(unknown)}", field=unknown[0],
                            hint="one of: " + ", ".join(LONG_TEXT_SETTINGS))
        config = self.parts.config.updated(settings, source="long-text settings")
        return Predictor(replace(self.parts, config=config), self.backend, self.directory)

    @property
    def classes(self) -> list[str]:
        return self.parts.classes

    @property
    def tokenizer_file(self) -> Path | None:
        """The model directory's tokenizer.json: what an exported graph's ids come from."""
        return None if self.directory is None else self.directory / artifacts.TOKENIZER

    # -- predictions ----------------------------------------------------------------------------

    def encode(self, texts: Sequence[str]) -> EncodedCorpus:
        return self.parts.tokenizer.encode(dataset_from_lists(texts, None, source="texts").texts)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(N, C) probabilities, columns in `classes` order, rows in input order: rows sum to 1, or for a
        multi-label model each is its label's own probability (they do not sum to 1)."""
        return self.scores(texts)[0]

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(N, C) probabilities, and (N,) each text's tokens: all of them, or at least max_len + 1 if it is
        longer than max_len (what tells that it was truncated)."""
        if len(texts) == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32), np.zeros(0, dtype=np.int64)
        texts = dataset_from_lists(texts, None, source="texts").texts
        tokenizer = self.parts.tokenizer
        corpus = tokenizer.encode_for_model(texts) if self.chunking is None else tokenizer.encode(texts)
        return self._probabilities(corpus), corpus.offsets[1:] - corpus.offsets[:-1]  # (np.diff: slower for one)

    def _probabilities(self, corpus: EncodedCorpus) -> np.ndarray:
        """(N, C) probabilities of an encoded corpus: the engine's, or with chunking those of the logits pooled
        over each text's windows (which need every id: `WordTokenizer.encode`)."""
        if self.chunking is None:
            return self.engine.run(corpus)[1]
        pieces, owners, _ = self.chunking.windows(corpus)
        logits = pool_windows(self.engine.run(pieces)[0], owners, len(corpus), self.chunking.pooling)
        return outputs.probabilities(logits, self.multi_label)

    def labels_of(self, probabilities: np.ndarray) -> list[list[str]]:
        """Multi-label: each text's labels whose probability reaches their threshold, most probable first."""
        order = np.argsort(-probabilities, axis=1, kind="stable")  # (N, C)
        chosen = probabilities >= self.thresholds  # (N, C)
        return [[self.classes[c] for c in row if picked[c]] for row, picked in zip(order.tolist(), chosen.tolist())]

    def predict(self, texts: Sequence[str]) -> list[str] | list[list[str]]:
        """Each text's class; for a multi-label model, its list of labels (possibly empty)."""
        probabilities = self.predict_proba(texts)
        if self.multi_label:
            return self.labels_of(probabilities)
        return [self.classes[i] for i in probabilities.argmax(axis=1)]

    def predict_top(self, texts: Sequence[str], top_k: int | None = None) -> list[dict]:
        """Per text: {"label", "probabilities"} with the `top_k` most probable classes (all by default), most
        probable first. A multi-label model answers {"labels", "probabilities", "note"}: the labels over their
        thresholds and each label's own probability. A text longer than max_len also gets "truncated": true (only
        its first max_len tokens were read) or, with chunking, "windows" (how many were read)."""
        probabilities, tokens = self.scores(texts)
        return self.answers(probabilities, tokens, top_k)

    def answers(self, probabilities: np.ndarray, tokens: np.ndarray, top_k: int | None = None) -> list[dict]:
        """`predict_top`'s answers from (N, C) probabilities and (N,) token counts already computed."""
        k = len(self.classes) if top_k is None else max(1, min(top_k, len(self.classes)))
        order = np.argsort(probabilities, axis=1)[:, ::-1][:, :k].tolist()  # (N, k), most probable first
        classes, max_len = self.classes, self.parts.tokenizer.max_len
        shown = [{classes[i]: row[i] for i in top} for top, row in zip(order, probabilities.tolist())]
        if self.multi_label:
            answers = [{"labels": labels, "probabilities": p, "note": INDEPENDENT_NOTE}
                       for labels, p in zip(self.labels_of(probabilities), shown)]
        else:
            answers = [{"label": classes[top[0]], "probabilities": p} for top, p in zip(order, shown)]
        longer = np.flatnonzero(tokens > max_len)  # texts longer than max_len: said, never silent
        if self.chunking is None:
            for i in longer.tolist():
                answers[i]["truncated"] = True
        else:
            for i, windows in zip(longer.tolist(), self.chunking.window_counts(tokens[longer]).tolist()):
                answers[i]["windows"] = windows
        return answers

    def predict_inputs(self, inputs: Sequence[str | BadRow], top_k: int | None = None) -> list[dict | None]:
        """One result per input, in order: `predict_top`'s for a text, None for a row that has none."""
        texts = [row for row in inputs if isinstance(row, str)]
        results = iter(self.predict_top(texts, top_k) if texts else [])
        return [next(results) if isinstance(row, str) else None for row in inputs]

    # -- reports and views ----------------------------------------------------------------------

    def evaluate(self, texts: Sequence[str], labels: Sequence[object], errors: int = 0) -> dict:
        """Accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix and the calibration
        (expected calibration error over 15 bins of confidence, and each bin's figures); with `errors`, the
        that many most confident mistakes (text, gold, predicted, the predicted class's probability)."""
        data = dataset_from_lists(texts, labels, source="evaluation data", multi_label=self.multi_label)
        report = self.evaluate_encoded(encode_data(data, self.parts.tokenizer), errors)
        for mistake in report.get("errors", []):
            mistake["text"] = data.texts[mistake.pop("index")]
        return report

    def evaluate_encoded(self, data: EncodedData, errors: int = 0) -> dict:
        """As `evaluate`; each mistake names its example by `index` (its row in `data`)."""
        probabilities = self._probabilities(data.corpus)  # (N, C)
        if self.multi_label:
            return self._evaluate_label_sets(data, probabilities, errors)
        targets = class_indices(data, self.classes)
        predicted = probabilities.argmax(axis=1)  # (N,)
        report = {**classification_report(targets, predicted, self.classes),
                  "calibration": calibration(probabilities, targets)}
        if errors:
            confidence = probabilities.max(axis=1)  # (N,)
            wrong = np.flatnonzero(predicted != targets)
            worst = wrong[np.argsort(-confidence[wrong], kind="stable")[:errors]]
            report["errors"] = [{"index": int(i), "gold": self.classes[targets[i]],
                                 "predicted": self.classes[predicted[i]], "probability": float(confidence[i])}
                                for i in worst]
        return report

    def _evaluate_label_sets(self, data: EncodedData, probabilities: np.ndarray, errors: int) -> dict:
        """A multi-label model's report: micro/macro/sample F1, Hamming loss, subset accuracy, per label
        P/R/F1 (with its threshold); with `errors`, the texts with the most wrong label decisions."""
        truth = label_matrix(data, self.classes)  # (N, C)
        predicted = probabilities >= self.thresholds  # (N, C)
        report = multi_label_report(truth, predicted, self.classes)
        for name, threshold in zip(self.classes, self.thresholds.tolist()):
            report["per_label"][name]["threshold"] = threshold
        if errors:
            wrong = (truth != predicted).sum(axis=1)  # (N,)
            worst = np.argsort(-wrong, kind="stable")[: min(errors, int((wrong > 0).sum()))]
            report["errors"] = [{"index": int(i), "gold": [c for c, t in zip(self.classes, truth[i]) if t],
                                 "predicted": [c for c, p in zip(self.classes, predicted[i]) if p],
                                 "wrong_labels": int(wrong[i])} for i in worst]
        return report

    def trace(self, text: str) -> PredictionTrace:
        """One text through every stage, with the real values each stage produced."""
        from seqclf.trace import prediction_trace

        dataset_from_lists([text], None, source="text")
        return prediction_trace(self.parts.model, self.parts.tokenizer, self.classes, text, self.thresholds.tolist(),
                                self.chunking)

    def explain(self, texts: Sequence[str], label: str | None = None, steps: int = EXPLAIN_STEPS) -> list[Explanation]:
        """Each text's token attributions to the logit of `label` (by default, the class predicted): Integrated
        Gradients on the embeddings from an all-<pad> baseline, `steps` points, with the convergence delta.
        Gradients need the PyTorch model: whatever the backend, the float32 PyTorch model is explained."""
        from seqclf.explain import explain

        texts = dataset_from_lists(texts, None, source="texts").texts
        with self._explaining:
            return explain(self._model_to_explain(), self.parts.tokenizer, self.classes, texts, label, steps,
                           self._explained_note())

    def top_words(self, texts: Sequence[str], top: int = TOP_WORDS, steps: int = EXPLAIN_STEPS, min_count: int = MIN_COUNT) -> dict:
        """Per class, the `top` words with the largest mean attribution to its logit over `texts`."""
        from seqclf.explain import top_words

        texts = dataset_from_lists(texts, None, source="texts").texts
        with self._explaining:
            report = top_words(self._model_to_explain(), self.parts.tokenizer, self.classes, texts, top, steps,
                               min_count)
        return {**report, "note": self._explained_note()}

    def _model_to_explain(self):
        """A copy of the model, made once: attributions hook its embedding layers while they run, and the
        model that predicts and traces (in a server, at the same time, in other threads) must never pass
        through those hooks."""
        if self._explained_model is None:
            self._explained_model = copy.deepcopy(self.parts.model)
        return self._explained_model

    def _explained_note(self) -> str | None:
        if self.backend == BackendConfig():
            return None
        return (f"explained through the float32 PyTorch model of this directory: attributions need gradients, "
                f"which {self.backend.describe()} does not give")

    def data_flow(self, texts: Sequence[str]) -> DataFlow:
        """The shape of the whole data set after each stage."""
        if len(texts) == 0:
            raise DataError("no texts given", field="texts")
        return self.data_flow_encoded(self.encode(texts), texts[0])

    def data_flow_encoded(self, corpus: EncodedCorpus, example: str | None = None) -> DataFlow:
        """The data-flow table of an encoded corpus; `example` is the text of its first sequence (by
        default, that sequence's tokens)."""
        from seqclf.trace import data_flow

        tokenizer = self.parts.tokenizer
        if example is None:
            example = " ".join(tokenizer.id_to_token(int(i)) for i in corpus.sequence(0))
        return data_flow(self.parts.model, tokenizer, self.classes, corpus, example, self.thresholds.tolist(),
                         self.chunking)

    def describe(self) -> dict:
        """The model as data: name, labels, format version, settings, what training learned besides the weights,
        the data flow for N texts, the training history and the backend."""
        return {
            "name": None if self.directory is None else self.directory.name,
            "labels": self.classes,
            "task": outputs.task_name(self.multi_label),
            "thresholds": None if self.parts.fitted.thresholds is None else list(self.parts.fitted.thresholds),
            "format_version": self.parts.format_version,
            "config": self.parts.config.to_dict(),
            "fitted": self.parts.fitted.to_dict(),
            "data_flow": self.data_flow([EXAMPLE]).with_batch_axis("N").to_dict(),
            "history": [asdict(record) for record in self.parts.history.records],
            "backend": self.backend.describe(),
        }

    def export_onnx(self, path: str | Path | None = None, quantize: str | None = None) -> ExportReport:
        """Write the model (ids and attention mask to logits and probabilities) as an ONNX graph, checked
        against PyTorch in ONNX Runtime; `quantize="int8"` writes the int8 graph. `path` defaults to
        model.onnx (model.int8.onnx) in the model directory."""
        from seqclf.deploy.onnx_export import export_onnx

        check_choice("quantize", quantize, QUANTIZATIONS, allow_none=True)
        if path is None:
            if self.directory is None:
                raise DataError("no model directory to export into", field="path", hint="give a path")
            path = artifacts.onnx_path(self.directory, quantize)
        return export_onnx(self.parts.model.on_cpu(), self.classes, self.parts.tokenizer.max_len, path, quantize,
                           self.chunking)
