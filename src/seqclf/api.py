"""`TextClassifier`: the Python API, an estimator in scikit-learn's manner.

It holds settings until `fit`, which hands them to the training recipe (`seqclf.training.recipe`);
afterwards every prediction, view and report is the `Predictor`'s (`seqclf.predictor`), and saving
is the model directory's (`seqclf.artifacts`). This module only delegates.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqclf import artifacts
from seqclf.artifacts import ModelParts
from seqclf.config import Config
from seqclf.data.encoded import EncodedData, encode_data, encode_training_data
from seqclf.data.formats import BadRow
from seqclf.data.readers import Dataset, dataset_from_lists, input_from_argument, read_dataset, read_inputs
from seqclf.errors import SeqclfError
from seqclf.fitted_state import FittedState
from seqclf.ids import EncodedCorpus
from seqclf.nn.classifier import Classifier
from seqclf.predictor import EXPLAIN_STEPS, MIN_COUNT, TOP_WORDS, BackendConfig, Predictor
from seqclf.text.tokenizer import WordTokenizer
from seqclf.text.vectors import VectorCoverage
from seqclf.trace import DataFlow, PredictionTrace
from seqclf.training.distributed import Cluster
from seqclf.training.history import History
from seqclf.training.recipe import Fitted, fit
from seqclf.training.trainer import Callback

if TYPE_CHECKING:
    from seqclf.deploy.onnx_export import ExportReport
    from seqclf.training.calibration import Calibration
    from seqclf.explain import Explanation

# Reading data is part of the public surface too: the command line reads through these.
__all__ = ["TextClassifier", "NotFittedError", "BadRow", "Dataset", "read_dataset", "read_inputs",
           "input_from_argument"]
Labeled = tuple[Sequence[str], Sequence[object]]


class NotFittedError(SeqclfError):
    """The classifier has no model yet."""


class TextClassifier:
    """Raw text in, labels out. Settings are config field names: `TextClassifier(max_len=10, embed_dim=50)`."""

    def __init__(self, config: Config | None = None, **settings: object) -> None:
        self.config = (config or Config()).updated(settings)
        self.vectors_coverage: VectorCoverage | None = None
        self.validation: dict | None = None  # the fitted model's validation accuracy and loss
        self.calibration: Calibration | None = None  # the temperature fitted on the validation data
        self.cluster = Cluster()  # where the last fit ran (under torchrun: this process's rank)
        self._predictor: Predictor | None = None

    # -- training -------------------------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[object], valid: Labeled | float | None = None, *,
            epochs: int | None = None, callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
            resume: bool = False) -> TextClassifier:
        """Train on texts and labels. `valid`: (texts, labels), a fraction to hold out, or None for
        the configured valid_fraction. The weights of the best validation epoch are kept.

        With `checkpoint_dir`, a resume checkpoint is written there after every epoch (and every
        `checkpoint_every` steps); `resume=True` continues from it."""
        if epochs is not None:
            self.config = self.config.updated({"epochs": epochs})
        multi_label = self.config.data.multi_label
        tokenizer, train = encode_training_data(dataset_from_lists(texts, labels, "training data", multi_label),
                                                self.config.tokenizer)
        if isinstance(valid, tuple):
            valid = encode_data(dataset_from_lists(valid[0], valid[1], "validation data", multi_label or train.multi_label),
                                tokenizer)
        return self.fit_encoded(tokenizer, train, valid, callbacks=callbacks, checkpoint_dir=checkpoint_dir,
                                resume=resume)

    def fit_encoded(self, tokenizer: WordTokenizer, train: EncodedData, valid: EncodedData | float | None = None, *,
                    callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
                    resume: bool = False, cluster: Cluster | None = None) -> TextClassifier:
        """Train on data already through stage 2 (`seqclf.data.encoded`: lists, or files via the cache).

        Under `torchrun` every process calls this with the same data: each trains on its share of
        every batch (DistributedDataParallel), metrics are summed over the processes, and all end
        with the same weights (`seqclf.training.recipe`)."""
        return self._adopt(fit(self.config, tokenizer, train, valid, cluster=cluster, callbacks=callbacks,
                               checkpoint_dir=checkpoint_dir, resume=resume))

    @classmethod
    def from_fitted(cls, fitted: Fitted) -> TextClassifier:
        """The classifier of a model the training recipe fitted."""
        return cls(fitted.config)._adopt(fitted)

    def _adopt(self, fitted: Fitted) -> TextClassifier:
        self.config, self.vectors_coverage, self.cluster = fitted.config, fitted.coverage, fitted.cluster
        self.validation, self.calibration = fitted.validation, fitted.calibration
        self._predictor = Predictor(ModelParts(fitted.config, fitted.state, fitted.tokenizer, fitted.classes, fitted.model,
                                               fitted.history))
        return self

    # -- the fitted model -------------------------------------------------------------------------

    @property
    def predictor(self) -> Predictor:
        if self._predictor is None:
            raise NotFittedError("this TextClassifier has no model yet", hint="call fit() or TextClassifier.load()")
        return self._predictor

    @property
    def model(self) -> Classifier | None:
        return None if self._predictor is None else self._predictor.parts.model

    @property
    def tokenizer(self) -> WordTokenizer | None:
        return None if self._predictor is None else self._predictor.parts.tokenizer

    @property
    def fitted_state(self) -> FittedState:
        """What training learned besides the weights: the task, the resolved max_len, the temperature, the
        thresholds, the combination chosen (`seqclf.fitted_state`)."""
        return self.predictor.parts.fitted

    @property
    def classes_(self) -> list[str]:
        return [] if self._predictor is None else self._predictor.classes

    @property
    def history(self) -> History:
        return History() if self._predictor is None else self._predictor.parts.history

    @property
    def backend(self) -> BackendConfig:
        return BackendConfig() if self._predictor is None else self._predictor.backend

    # -- prediction, views, reports: the Predictor's ---------------------------------------------

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(N, C) probabilities, rows sum to 1, columns in `classes_` order, rows in input order."""
        return self.predictor.predict_proba(texts)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return self.predictor.predict(texts)

    def predict_top(self, texts: Sequence[str], top_k: int | None = None) -> list[dict]:
        """Per text: {"label", "probabilities"} with the `top_k` most probable classes, most probable first."""
        return self.predictor.predict_top(texts, top_k)

    def evaluate(self, texts: Sequence[str], labels: Sequence[object], errors: int = 0) -> dict:
        """Accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix, the calibration and,
        with `errors`, the that many most confident mistakes."""
        return self.predictor.evaluate(texts, labels, errors)

    def evaluate_encoded(self, data: EncodedData, errors: int = 0) -> dict:
        return self.predictor.evaluate_encoded(data, errors)

    def trace(self, text: str) -> PredictionTrace:
        """One text through every stage, with the real values each stage produced."""
        return self.predictor.trace(text)

    def explain(self, texts: Sequence[str], label: str | None = None, steps: int = EXPLAIN_STEPS) -> list[Explanation]:
        """Each text's token attributions to the logit of `label` (default: the class predicted), by
        Integrated Gradients on the embeddings (see `Predictor.explain`)."""
        return self.predictor.explain(texts, label, steps)

    def top_words(self, texts: Sequence[str], top: int = TOP_WORDS, steps: int = EXPLAIN_STEPS, min_count: int = MIN_COUNT) -> dict:
        """Per class, the `top` words with the largest mean attribution to its logit over `texts`."""
        return self.predictor.top_words(texts, top, steps, min_count)

    def data_flow(self, texts: Sequence[str]) -> DataFlow:
        """The shape of the whole data set after each stage."""
        return self.predictor.data_flow(texts)

    def data_flow_encoded(self, corpus: EncodedCorpus) -> DataFlow:
        return self.predictor.data_flow_encoded(corpus)

    # -- files ------------------------------------------------------------------------------------

    def save(self, directory: str | Path, *, skipped_rows: Sequence[BadRow] = ()) -> Path:
        """Write the model directory (atomically; files seqclf did not write there are kept). Returns its
        real path. `skipped_rows`: data rows the training left out, listed in skipped_rows.jsonl."""
        return artifacts.save(directory, replace(self.predictor.parts, skipped_rows=list(skipped_rows)))

    @classmethod
    def load(cls, directory: str | Path, backend: str = "torch", quantize: str | None = None,
             onnx_file: str | Path | None = None) -> TextClassifier:
        """A saved model. `backend="onnx"` predicts with ONNX Runtime from the file `seqclf export`
        wrote (DIR/model.onnx, or DIR/model.int8.onnx with `quantize="int8"`, or `onnx_file`);
        `quantize="int8"` with the torch backend quantizes the PyTorch model dynamically."""
        settings = BackendConfig(backend, quantize, None if onnx_file is None else str(onnx_file))
        return cls.from_predictor(Predictor.from_dir(directory, settings))

    @classmethod
    def from_predictor(cls, predictor: Predictor) -> TextClassifier:
        clf = cls(predictor.parts.config)
        clf._predictor = predictor
        return clf

    def use_backend(self, settings: BackendConfig, directory: Path | None = None) -> TextClassifier:
        """Predict with another engine from now on (see `seqclf.deploy.backend`)."""
        self._predictor = Predictor(self.predictor.parts, settings, directory or self.predictor.directory)
        return self

    def export_onnx(self, path: str | Path | None = None, quantize: str | None = None) -> ExportReport:
        """Write the model as an ONNX graph, checked against PyTorch in ONNX Runtime; `quantize="int8"`
        writes the int8 graph (see `Predictor.export_onnx`)."""
        return self.predictor.export_onnx(path, quantize)
