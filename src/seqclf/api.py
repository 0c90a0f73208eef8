"""`TextClassifier`: the one model object, an estimator in scikit-learn's manner and fastText's one model.

Until `fit` it holds settings; `fit` (the training recipe, `seqclf.training.recipe`) and `load` (a model
directory, `seqclf.artifacts`) both give it the same fitted parts: settings, fitted state, tokenizer and
network (`ModelParts`), run by one backend (`BackendConfig`: PyTorch or ONNX Runtime, float32 or int8).
The Python API, the command line and the HTTP server all use it. Whatever the backend, tokenization,
batching and everything after the logits are the same code here; the trace and the data-flow table show
the float32 PyTorch model, whose stages they explain. Evaluation (`seqclf.evaluation`), attributions
(`seqclf.explain.Explainer`) and export (`seqclf.deploy.onnx_export`) are functions of the model; the
methods of those names are one-line conveniences.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqclf import artifacts, evaluation, model_files, outputs, views
from seqclf.answers import answers
from seqclf.artifacts import ModelParts
from seqclf.config import Config
from seqclf.text.batching import Chunking
from seqclf.text.encoded import EncodedData, encode_data, encode_training_data
from seqclf.data.formats import BadRow
from seqclf.data.readers import dataset_from_lists
from seqclf.deploy.backend import (BACKENDS, BackendConfig, Engine, EngineEvent, EngineFallback, GraphExporting,
                                   build_engine, export_graph)
from seqclf.deploy.quantize import QUANTIZATIONS
from seqclf.errors import DataError, SeqclfError
from seqclf.fields import check_choice
from seqclf.fitted_state import FittedState
from seqclf.ids import EncodedCorpus
from seqclf.task import Task
from seqclf.training.history import History

if TYPE_CHECKING:  # PyTorch is imported when a model is first trained or run, not with this module
    from seqclf.deploy.onnx_export import ExportReport
    from seqclf.explain import Explainer, Explanation
    from seqclf.nn.classifier import Classifier
    from seqclf.text.tokenizer import WordTokenizer
    from seqclf.text.vectors import VectorCoverage
    from seqclf.training.calibration import Calibration
    from seqclf.data_flow import DataFlow
    from seqclf.trace import PredictionTrace
    from seqclf.training.distributed import Cluster
    from seqclf.training.events import RunReport
    from seqclf.training.trainer import Callback

__all__ = ["TextClassifier", "NotFittedError", "BackendConfig", "BACKENDS", "QUANTIZATIONS", "LONG_TEXT_SETTINGS",
           "EXPLAIN_STEPS", "TOP_WORDS", "MIN_COUNT", "EngineEvent", "GraphExporting", "EngineFallback"]
Labeled = tuple[Sequence[str], Sequence[object]]
# The report `fit` shows unless told `progress=False`: the console's (`seqclf.report.python_report`), which
# the package plugs in (`seqclf/__init__.py`), as sentences live in the faces above this module.
progress_report: Callable[[], RunReport] | None = None
EXPLAIN_STEPS = 50  # points of the integral, by default
TOP_WORDS = 20  # words per class, by default
MIN_COUNT = 5  # occurrences a word needs to be ranked among the top words, by default
# How a model reads texts longer than max_len: settings a saved model may be told to read otherwise.
LONG_TEXT_SETTINGS = ("long_text", "window_stride", "window_pooling")


class NotFittedError(SeqclfError):
    """The classifier has no model yet."""


class TextClassifier:
    """Raw text in, labels out. Settings are config field names: `TextClassifier(max_len=10, embed_dim=50)`."""

    def __init__(self, config: Config | None = None, **settings: object) -> None:
        self.config = (config or Config()).updated(settings)  # what was asked for; training never changes it
        # fresh from fit (`ModelParts`): the pretrained vectors' coverage, the validation accuracy and loss, the
        # temperature fitted, where it ran (under torchrun: this process's rank); None when loaded
        self.vectors_coverage: VectorCoverage | None = None
        self.validation: dict | None = None
        self.calibration: Calibration | None = None
        self.cluster: Cluster | None = None
        self.backend, self.directory = BackendConfig(), None
        self._parts: ModelParts | None = None
        self._engine: Engine | None = None
        self._explainer: Explainer | None = None

    # -- training -------------------------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[object], valid: Labeled | float | None = None, *,
            epochs: int | None = None, callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
            resume: bool = False, progress: bool = True) -> TextClassifier:
        """Train on texts and labels. `valid`: (texts, labels), a fraction to hold out, or None for
        the configured valid_fraction. The weights of the best validation epoch are kept. With `checkpoint_dir`,
        a resume checkpoint is written there after an epoch once `checkpoint_seconds` have passed since the last
        (and every `checkpoint_every` steps);
        `resume=True` continues from it. `progress`: show the run as `seqclf train` does (a live line per epoch,
        in a notebook a progress bar; the training trace; the chart), on the standard output; False: silent."""
        if epochs is not None:
            self.config = self.config.updated({"epochs": epochs})
        tokenizer, train = encode_training_data(
            dataset_from_lists(texts, labels, "training data", self.config.data.task), self.config.tokenizer)
        if isinstance(valid, tuple):  # label sets in the training data: the validation labels are read as sets too
            valid = encode_data(dataset_from_lists(valid[0], valid[1], "validation data", train.task), tokenizer)
        shown = [progress_report()] if progress and progress_report is not None else []
        try:
            return self.fit_encoded(tokenizer, train, valid, callbacks=[*callbacks, *shown],
                                    checkpoint_dir=checkpoint_dir, resume=resume)
        finally:
            for report in shown:
                report.close()

    def fit_encoded(self, tokenizer: WordTokenizer, train: EncodedData, valid: EncodedData | float | None = None, *,
                    callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
                    resume: bool = False, cluster: Cluster | None = None) -> TextClassifier:
        """Train on data already through stage 2 (`seqclf.text.encoded`). Under `torchrun` every process calls
        this with the same data and all end with the same weights (`seqclf.training.recipe`)."""
        from seqclf.training.recipe import fit

        return self._run(fit(self.config, tokenizer, train, valid, cluster=cluster, callbacks=callbacks,
                             checkpoint_dir=checkpoint_dir, resume=resume), BackendConfig(), None)

    def _run(self, parts: ModelParts, backend: BackendConfig, directory: Path | None) -> TextClassifier:
        """From now on: these fitted parts, run by `backend` (`directory`: where they were loaded from)."""
        self._parts, self.config, self.backend, self.directory = parts, parts.config, backend, directory
        self.vectors_coverage, self.validation, self.calibration = parts.coverage, parts.validation, parts.calibration
        self.cluster = parts.cluster
        self._engine: Engine | None = None
        self.chunking = Chunking.of(parts.config.tokenizer, parts.tokenizer.max_len)
        self.thresholds = np.asarray(parts.fitted.thresholds or [], dtype=np.float32)  # (C,) multi-label
        self._explainer = None
        return self

    @property
    def engine(self) -> Engine:
        """What runs stages 3-5 for predictions, made when first needed (see `start_engine`)."""
        return self.start_engine()

    def start_engine(self, on_event: Callable[[EngineEvent], None] = lambda event: None) -> Engine:
        """The engine, made now if not yet: the default backend may first export the model's ONNX graph into
        its directory, or fall back to PyTorch; `on_event` hears of either (`GraphExporting`, `EngineFallback`)."""
        if self._engine is None:
            self._engine = build_engine(self.fitted, self.directory, self.backend, on_event)
        return self._engine

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

    # -- files ------------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: str | Path, backend: str | BackendConfig = "auto", quantize: str | None = None,
             onnx_file: str | Path | None = None) -> TextClassifier:
        """A saved model (checked whole by `artifacts.load`). The default backend, "auto", predicts with ONNX
        Runtime when it is installed (from DIR/model.onnx, or DIR/model.int8.onnx with `quantize="int8"`,
        exported there when first needed) and with PyTorch otherwise; "onnx" insists on ONNX Runtime (`onnx_file`:
        another graph), "torch" on PyTorch (`quantize="int8"`: the model quantized dynamically)."""
        settings = backend if isinstance(backend, BackendConfig) else BackendConfig(
            backend, quantize, None if onnx_file is None else str(onnx_file))
        parts = artifacts.load(directory)
        return cls(parts.config)._run(parts, settings, Path(directory))

    def save(self, directory: str | Path, *, skipped_rows: Sequence[BadRow] = ()) -> Path:
        """Write the model directory (atomically; files seqclf did not write there are kept). Returns its
        real path. `skipped_rows`: data rows the training left out, listed in skipped_rows.jsonl."""
        return artifacts.save(directory, replace(self.fitted, skipped_rows=list(skipped_rows)))

    def use_backend(self, settings: BackendConfig, directory: Path | None = None) -> TextClassifier:
        """Predict with another engine from now on (see `seqclf.deploy.backend`)."""
        return self._run(self.fitted, settings, directory or self.directory)

    def reading_long_texts(self, settings: dict) -> TextClassifier:
        """The same model and backend, reading long texts as `settings` say (e.g. {"long_text": "chunk"})."""
        unknown = sorted(set(settings) - set(LONG_TEXT_SETTINGS))
        if unknown:
            raise DataError(f"not a setting of how long texts are read: {', '.join(unknown)}", field=unknown[0],
                            hint="one of: " + ", ".join(LONG_TEXT_SETTINGS))
        config = self.fitted.config.updated(settings, source="long-text settings")
        return TextClassifier(config)._run(replace(self.fitted, config=config), self.backend, self.directory)

    # -- the fitted model -------------------------------------------------------------------------

    @property
    def fitted(self) -> ModelParts:
        """Settings, fitted state, tokenizer, classes, network and history of the fitted model."""
        if self._parts is None:
            raise NotFittedError("this TextClassifier has no model yet", hint="call fit() or TextClassifier.load()")
        return self._parts

    @property
    def fitted_state(self) -> FittedState:
        """What training learned besides the weights: the task, the resolved max_len, the temperature, the
        thresholds, the combination chosen (`seqclf.fitted_state`)."""
        return self.fitted.fitted

    @property
    def task(self) -> Task:
        """Single-label or multi-label: what the training labels made the model (`seqclf.task`)."""
        return self.fitted_state.task

    @property
    def model(self) -> Classifier | None:
        return None if self._parts is None else self._parts.model

    @property
    def tokenizer(self) -> WordTokenizer | None:
        return None if self._parts is None else self._parts.tokenizer

    @property
    def classes_(self) -> list[str]:
        return [] if self._parts is None else self._parts.classes

    @property
    def history(self) -> History:
        return History() if self._parts is None else self._parts.history

    @property
    def tokenizer_file(self) -> Path | None:  # the model directory's tokenizer.json, an exported graph's ids
        return None if self.directory is None else self.directory / model_files.TOKENIZER

    # -- predictions ----------------------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(N, C) probabilities, columns in `classes_` order, rows in input order: rows sum to 1, or for a
        multi-label model each is its label's own probability (they do not sum to 1)."""
        return self.scores(texts)[0]

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(N, C) probabilities, and (N,) each text's tokens: all of them, or at least max_len + 1 if it is
        longer than max_len (what tells that it was truncated)."""
        if len(texts) == 0:
            return np.zeros((0, len(self.fitted.classes)), dtype=np.float32), np.zeros(0, dtype=np.int64)
        texts = dataset_from_lists(texts, None, source="texts").texts
        tokenizer = self.fitted.tokenizer
        corpus = tokenizer.encode(texts, every_id=self.chunking is not None)  # windows need every id
        return self.corpus_probabilities(corpus), corpus.offsets[1:] - corpus.offsets[:-1]  # (np.diff: slower)

    def corpus_probabilities(self, corpus: EncodedCorpus) -> np.ndarray:
        """(N, C) probabilities of an encoded corpus: the engine's, or with chunking those of the logits pooled
        over each text's windows (which need every id: `WordTokenizer.encode`)."""
        if self.chunking is None:
            return self.engine.run(corpus)[1]
        pieces, owners, _ = self.chunking.windows(corpus)
        logits = outputs.pool_windows(self.engine.run(pieces)[0], owners, len(corpus), self.chunking.pooling)
        return self.task.activate(logits)

    def predict(self, texts: Sequence[str]) -> list[str] | list[list[str]]:
        """Each text's class; for a multi-label model, its list of labels (possibly empty)."""
        return self.task.decide(self.predict_proba(texts), self.thresholds, self.classes_)

    def predict_top(self, texts: Sequence[str], top_k: int | None = None) -> list[dict]:
        """Per text: {"label", "probabilities"} with the `top_k` most probable classes (all by default), most
        probable first. A multi-label model answers {"labels", "probabilities", "note"}: the labels over their
        thresholds and each label's own probability. A text longer than max_len also gets "truncated": true (only
        its first max_len tokens were read) or, with chunking, "windows" (how many were read)."""
        return self.answers(*self.scores(texts), top_k)

    def answers(self, probabilities: np.ndarray, tokens: np.ndarray, top_k: int | None = None) -> list[dict]:
        """`predict_top`'s answers from (N, C) probabilities and (N,) token counts already computed."""
        return answers(self.task, probabilities, tokens, self.classes_, self.fitted.tokenizer.max_len,
                       self.chunking, self.thresholds, top_k)

    def predict_inputs(self, inputs: Sequence[str | BadRow], top_k: int | None = None) -> list[dict | None]:
        """One result per input, in order: `predict_top`'s for a text, None for a row that has none."""
        texts = [row for row in inputs if isinstance(row, str)]
        results = iter(self.predict_top(texts, top_k) if texts else [])
        return [next(results) if isinstance(row, str) else None for row in inputs]

    # -- views and reports ------------------------------------------------------------------------

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

    def evaluate(self, texts: Sequence[str], labels: Sequence[object], errors: int = 0) -> dict:
        return evaluation.evaluate(self, texts, labels, errors)

    def evaluate_encoded(self, data: EncodedData, errors: int = 0) -> dict:
        return evaluation.evaluate_encoded(self, data, errors)

    def explain(self, texts: Sequence[str], label: str | None = None, steps: int = EXPLAIN_STEPS) -> list[Explanation]:
        """Each text's token attributions to the logit of `label` (by default, the class predicted): Integrated
        Gradients on the embeddings from an all-<pad> baseline, `steps` points, with the convergence delta.
        Gradients need the PyTorch model: whatever the backend, the float32 PyTorch model is explained."""
        return self.explainer.explain(dataset_from_lists(texts, None, source="texts").texts, label, steps)

    def top_words(self, texts: Sequence[str], top: int = TOP_WORDS, steps: int = EXPLAIN_STEPS,
                  min_count: int = MIN_COUNT) -> dict:
        """Per class, the `top` words with the largest mean attribution to its logit over `texts`."""
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
