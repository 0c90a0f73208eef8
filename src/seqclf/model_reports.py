"""What a fitted classifier shows of itself, as methods of `TextClassifier`: one-line conveniences over the
functions of the model that do the work (trace, data-flow table and description: `seqclf.views`;
evaluation: `seqclf.evaluation`; attributions: `seqclf.explain`; the ONNX graph: `seqclf.deploy`)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqclf import evaluation, model_files, views
from seqclf.data.inputs import single_text
from seqclf.data.readers import dataset_from_lists
from seqclf.data.tables import texts_and_labels
from seqclf.deploy.backend import export_graph
from seqclf.deploy.quantize import QUANTIZATIONS
from seqclf.errors import DataError
from seqclf.fields import check_choice
from seqclf.ids import EncodedCorpus
from seqclf.text.encoded import EncodedData

if TYPE_CHECKING:  # PyTorch and Captum are imported when first needed
    from seqclf.data_flow import DataFlow
    from seqclf.deploy.onnx_export import ExportReport
    from seqclf.explain import Explainer, Explanation
    from seqclf.trace import PredictionTrace

EXPLAIN_STEPS = 50  # points of the integral, by default
TOP_WORDS = 20  # words per class, by default
MIN_COUNT = 5  # occurrences a word needs to be ranked among the top words, by default
Table = Any  # a pandas DataFrame, a datasets.Dataset or a dict of columns (`seqclf.data.tables`)


class ModelReports:
    """The views, evaluation, attributions and export of a fitted classifier (`TextClassifier` provides
    `fitted`, `backend`, `directory` and `chunking`)."""

    _explainer: Explainer | None

    @property
    def explainer(self) -> Explainer:
        """Attributions of this model (made when first asked for: they need PyTorch and Captum)."""
        from seqclf.explain import Explainer

        parts = self.fitted
        if self._explainer is None:
            asked = self.backend  # a note when predictions were asked of another model than the float32 PyTorch one
            other = asked.quantize is not None or asked.backend == "onnx"
            self._explainer = Explainer(lambda: parts.model, parts.tokenizer, parts.classes,
                                        asked.describe() if other else None)
        return self._explainer

    def trace(self, text: str) -> PredictionTrace:
        """One text through every stage, with the real values each stage produced (`seqclf.views`)."""
        return views.trace(self, text)

    def data_flow(self, texts: Sequence[str]) -> DataFlow:
        """The shape of the whole data set after each stage (`seqclf.views`)."""
        return views.data_flow(self, texts)

    def data_flow_encoded(self, corpus: EncodedCorpus, example: str | None = None) -> DataFlow:
        return views.data_flow_encoded(self, corpus, example)

    def describe(self) -> dict:
        """The model as data (`seqclf.views.describe`): what `GET /v1/model` answers."""
        return views.describe(self)

    def evaluate(self, texts: Sequence[str] | Table, labels: Sequence[object] | None = None, errors: int = 0, *,
                 text: str | None = None, label: str | None = None) -> dict:
        """Accuracy, loss and the rest on labelled texts, or on a table's `text` and `label` columns."""
        texts, labels = texts_and_labels(texts, labels, text, label, "evaluation data", need_labels=True)
        return evaluation.evaluate(self, texts, labels, errors)

    def evaluate_encoded(self, data: EncodedData, errors: int = 0) -> dict:
        return evaluation.evaluate_encoded(self, data, errors)

    def explain(self, texts: str | Sequence[str], label: str | None = None,
                steps: int = EXPLAIN_STEPS) -> list[Explanation]:
        """Each text's token attributions to the score (`Explanation.score_name`) of `label` (by default, the
        class predicted): Integrated Gradients on the embeddings from an all-<pad> baseline, `steps` points,
        with the convergence delta. One str is one text (a problem with it names "the text", as `trace` does).
        Gradients need the PyTorch model: whatever the backend, the float32 PyTorch model is explained."""
        checked = [single_text(texts)] if isinstance(texts, str) else dataset_from_lists(texts, None, source="texts").texts
        return self.explainer.explain(checked, label, steps)

    def top_words(self, texts: Sequence[str], top: int = TOP_WORDS, steps: int = EXPLAIN_STEPS,
                  min_count: int = MIN_COUNT) -> dict:
        """Per class, the `top` words with the largest mean attribution to its score over `texts`."""
        return self.explainer.top_words(dataset_from_lists(texts, None, source="texts").texts, top, steps, min_count)

    def export_onnx(self, path: str | Path | None = None, quantize: str | None = None) -> ExportReport:
        """Write the model (ids and attention mask to logits and probabilities) as an ONNX graph, checked
        against PyTorch in ONNX Runtime; `quantize="int8"` writes the int8 graph. `path` defaults to
        model.onnx (model.int8.onnx) in the model directory."""
        parts = self.fitted  # an unfitted classifier: NotFittedError before anything else
        check_choice("quantize", quantize, QUANTIZATIONS, allow_none=True)
        if path is None and self.directory is None:
            raise DataError("no model directory to export into", field="path", hint="give a path")
        return export_graph(parts, Path(path or model_files.onnx_path(self.directory, quantize)), quantize, self.chunking)
