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
from typing import TYPE_CHECKING, Any

import numpy as np

from seqclf import artifacts, model_files, outputs
from seqclf.answers import answers
from seqclf.artifacts import ModelParts
from seqclf.config import Config
from seqclf.text.batching import Chunking
from seqclf.text.encoded import EncodedData, encode_data, encode_training_data
from seqclf.data.formats import BadRow
from seqclf.data.readers import dataset_from_lists
from seqclf.data.tables import is_table, texts_and_labels
from seqclf.deploy.backend import (BACKENDS, BackendConfig, Engine, EngineEvent, EngineFallback, GraphExporting,
                                   build_engine)
from seqclf.deploy.quantize import QUANTIZATIONS
from seqclf.errors import DataError, SeqclfError
from seqclf.estimator import SettingsEstimator
from seqclf.model_reports import EXPLAIN_STEPS, MIN_COUNT, TOP_WORDS, ModelReports, Table
from seqclf.fitted_state import FittedState
from seqclf.ids import EncodedCorpus
from seqclf.task import Task
from seqclf.training.history import History

if TYPE_CHECKING:  # PyTorch is imported when a model is first trained or run, not with this module
    from seqclf.explain import Explainer
    from seqclf.nn.classifier import Classifier
    from seqclf.text.tokenizer import WordTokenizer
    from seqclf.text.vectors import VectorCoverage
    from seqclf.training.calibration import Calibration
    from seqclf.training.distributed import Cluster
    from seqclf.training.examples import SoftTargets
    from seqclf.training.events import RunReport
    from seqclf.training.trainer import Callback

__all__ = ["TextClassifier", "NotFittedError", "BackendConfig", "BACKENDS", "QUANTIZATIONS", "LONG_TEXT_SETTINGS",
           "EXPLAIN_STEPS", "TOP_WORDS", "MIN_COUNT", "EngineEvent", "GraphExporting", "EngineFallback"]
Labeled = tuple[Sequence[str], Sequence[object]]
# The report `fit` shows unless told `progress=False`: the console's (`seqclf.report.python_report`), which
# the package plugs in (`seqclf/__init__.py`), as sentences live in the faces above this module.
progress_report: Callable[[], RunReport] | None = None
# How a model reads texts longer than max_len: settings a saved model may be told to read otherwise.
LONG_TEXT_SETTINGS = ("long_text", "window_stride", "window_pooling")


class NotFittedError(SeqclfError):
    """The classifier has no model yet."""


class TextClassifier(SettingsEstimator, ModelReports):
    """Raw text in, labels out. Settings are config field names: `TextClassifier(max_len=10, embed_dim=50)`;
    scikit-learn's estimator protocol reads and sets them (`seqclf.estimator`)."""

    def __init__(self, config: Config | None = None, **settings: object) -> None:
        super().__init__(config, **settings)
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

    def fit(self, texts: Sequence[str] | Table, labels: Sequence[object] | None = None,
            valid: Labeled | Table | float | None = None, *, text: str | None = None, label: str | None = None,
            epochs: int | None = None, callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
            resume: bool = False, progress: bool = True) -> TextClassifier:
        """Train on texts and labels, or on a table (a pandas DataFrame, a `datasets.Dataset`, a dict of columns)
        and its `text` and `label` columns ("text" and "label" by default). `valid`: (texts, labels), a table, a
        fraction to hold out, or None for the configured valid_fraction. The weights of the best validation epoch are kept. With `checkpoint_dir`,
        a resume checkpoint is written there after an epoch once `checkpoint_seconds` have passed since the last
        (and every `checkpoint_every` steps);
        `resume=True` continues from it. `progress`: show the run as `seqclf train` does (a live line per epoch,
        in a notebook a progress bar; the training trace; the chart), on the standard output; False: silent."""
        config = self.config if epochs is None else self.config.updated({"epochs": epochs})  # for this fit only
        texts, labels = texts_and_labels(texts, labels, text, label, "training data", need_labels=True)
        tokenizer, train = encode_training_data(
            dataset_from_lists(texts, labels, "training data", config.data.task), config.tokenizer)
        if is_table(valid):
            valid = texts_and_labels(valid, None, text, label, "validation data")
        if isinstance(valid, tuple):  # label sets in the training data: the validation labels are read as sets too
            valid = encode_data(dataset_from_lists(valid[0], valid[1], "validation data", train.task), tokenizer)
        shown = [progress_report()] if progress and progress_report is not None else []
        try:
            return self._fit(config, tokenizer, train, valid, callbacks=[*callbacks, *shown],
                             checkpoint_dir=checkpoint_dir, resume=resume)
        finally:
            for report in shown:
                report.close()

    def fit_encoded(self, tokenizer: WordTokenizer, train: EncodedData, valid: EncodedData | float | None = None, *,
                    callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
                    resume: bool = False, cluster: Cluster | None = None,
                    soft: SoftTargets | None = None) -> TextClassifier:
        """Train on data already through stage 2 (`seqclf.text.encoded`). Under `torchrun` every process calls
        this with the same data and all end with the same weights (`seqclf.training.recipe`). `soft`: a
        teacher's probabilities for each training text, learned instead of the labels (`seqclf.distill`)."""
        return self._fit(self.config, tokenizer, train, valid, callbacks=callbacks, checkpoint_dir=checkpoint_dir,
                         resume=resume, cluster=cluster, soft=soft)

    def _fit(self, config: Config, tokenizer: WordTokenizer, train: EncodedData, valid: EncodedData | float | None,
             **options: Any) -> TextClassifier:
        from seqclf.training.recipe import fit

        return self._run(fit(config, tokenizer, train, valid, **options), BackendConfig(), None)

    def _run(self, parts: ModelParts, backend: BackendConfig, directory: Path | None) -> TextClassifier:
        """From now on: these fitted parts, run by `backend` (`directory`: where they were loaded from)."""
        self._parts, self.backend, self.directory = parts, backend, directory  # the settings stay as asked
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

    def predict_proba(self, texts: Sequence[str] | Table, *, text: str | None = None) -> np.ndarray:
        """(N, C) probabilities, columns in `classes_` order, rows in input order: rows sum to 1, or for a
        multi-label model each is its label's own probability (they do not sum to 1)."""
        return self.scores(texts, text=text)[0]

    def scores(self, texts: Sequence[str] | Table, *, text: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(N, C) probabilities, and (N,) each text's tokens: all of them, or at least max_len + 1 if it is
        longer than max_len (what tells that it was truncated). `texts`: a list, or a table's `text` column."""
        texts = texts_and_labels(texts, None, text, None, "texts")[0] if is_table(texts) or text else texts
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

    def predict(self, texts: Sequence[str] | Table, *, text: str | None = None) -> list[str] | list[list[str]]:
        """Each text's class; for a multi-label model, its list of labels (possibly empty)."""
        return self.task.decide(self.predict_proba(texts, text=text), self.thresholds, self.classes_)

    def predict_top(self, texts: Sequence[str] | Table, top_k: int | None = None, *, text: str | None = None
                    ) -> list[dict]:
        """Per text: {"label", "probabilities"} with the `top_k` most probable classes (all by default), most
        probable first. A multi-label model answers {"labels", "probabilities", "note"}: the labels over their
        thresholds and each label's own probability. A text longer than max_len also gets "truncated": true (only
        its first max_len tokens were read) or, with chunking, "windows" (how many were read)."""
        return self.answers(*self.scores(texts, text=text), top_k)

    def answers(self, probabilities: np.ndarray, tokens: np.ndarray, top_k: int | None = None) -> list[dict]:
        """`predict_top`'s answers from (N, C) probabilities and (N,) token counts already computed."""
        return answers(self.task, probabilities, tokens, self.classes_, self.fitted.tokenizer.max_len,
                       self.chunking, self.thresholds, top_k)

    def predict_inputs(self, inputs: Sequence[str | BadRow], top_k: int | None = None) -> list[dict | None]:
        """One result per input, in order: `predict_top`'s for a text, None for a row that has none."""
        texts = [row for row in inputs if isinstance(row, str)]
        results = iter(self.predict_top(texts, top_k) if texts else [])
        return [next(results) if isinstance(row, str) else None for row in inputs]
