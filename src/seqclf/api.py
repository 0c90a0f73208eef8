"""`TextClassifier`: the Python API, and the one predictor layer the CLI (and later HTTP) call."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from seqclf import artifacts
from seqclf.config import Config, TrainConfig
from seqclf.data.batching import PAD_ID, BucketSampler, EncodedCorpus, pad_batch
from seqclf.data.encoded import EncodedData, check_known_labels, encode_data, encode_training_data
from seqclf.data.readers import BadRow, dataset_from_lists
from seqclf.deploy.backend import BackendConfig, Predictor, build_predictor
from seqclf.deploy.quantize import check_quantization
from seqclf.errors import ConfigError, DataError, SeqclfError
from seqclf.inference import predict_logits
from seqclf.nn.classifier import SequenceClassifier
from seqclf.text.tokenizer import WordTokenizer
from seqclf.text.vectors import VectorCoverage, read_vectors
from seqclf.trace import DataFlow, PredictionTrace, data_flow, prediction_trace
from seqclf.training.checkpoint import Checkpointing, training_fingerprint
from seqclf.training.distributed import Cluster, check_precision, join_cluster
from seqclf.training.history import History
from seqclf.training.metrics import classification_report
from seqclf.training.optim import build_optimizer, lr_multiplier
from seqclf.training.trainer import Batch, Callback, EarlyStopping, KeepBest, ReduceOnPlateau, Trainer

if TYPE_CHECKING:
    from seqclf.deploy.onnx_export import ExportReport

Labeled = tuple[Sequence[str], Sequence[object]]


class NotFittedError(SeqclfError):
    """The classifier has no model yet."""


class TextClassifier:
    """Raw text in, labels out. Settings are config field names: `TextClassifier(max_len=10, embed_dim=50)`."""

    def __init__(self, config: Config | None = None, **settings: object) -> None:
        self.config = (config or Config()).updated(settings)
        self.tokenizer: WordTokenizer | None = None
        self.model: SequenceClassifier | None = None
        self.classes_: list[str] = []
        self.history = History()
        self.vectors_coverage: VectorCoverage | None = None
        self.backend = BackendConfig()
        self._predictor: Predictor | None = None  # what predictions run on; None: the PyTorch model itself
        self.cluster = Cluster()  # where the last fit ran (under torchrun: this process's rank)

    # -- training -------------------------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[object],
        valid: Labeled | float | None = None,
        *,
        epochs: int | None = None,
        callbacks: Sequence[Callback] = (),
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
    ) -> TextClassifier:
        """Train on texts and labels. `valid`: (texts, labels), a fraction to hold out, or None for
        the configured valid_fraction. The weights of the best validation epoch are kept.

        With `checkpoint_dir`, a resume checkpoint is written there after every epoch (and every
        `checkpoint_every` steps); `resume=True` continues from it."""
        if epochs is not None:
            self.config = self.config.updated({"epochs": epochs})
        tokenizer, train = encode_training_data(dataset_from_lists(texts, labels, source="training data"), self.config)
        if isinstance(valid, tuple):
            valid = encode_data(dataset_from_lists(valid[0], valid[1], source="validation data"), tokenizer)
        return self.fit_encoded(tokenizer, train, valid, callbacks=callbacks, checkpoint_dir=checkpoint_dir,
                                resume=resume)

    def fit_encoded(
        self,
        tokenizer: WordTokenizer,
        train: EncodedData,
        valid: EncodedData | float | None = None,
        *,
        callbacks: Sequence[Callback] = (),
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
    ) -> TextClassifier:
        """Train on data already through stage 2 (`seqclf.data.encoded`: lists, or files via the cache).

        Under `torchrun` every process calls this with the same data: each trains on its share of
        every batch (DistributedDataParallel), metrics are summed over the processes, and all end
        with the same weights (`seqclf.training.distributed`)."""
        settings = self.config.train
        cluster = join_cluster(settings.device)
        autocast_dtype = check_precision(settings.precision, cluster.device)
        if cluster.distributed and settings.checkpoint_every:
            raise ConfigError("is for single-process runs; a distributed run writes its checkpoint after each epoch",
                              field="checkpoint_every", hint="leave --checkpoint-every out under torchrun")
        classes = self._classes(train.label_names)
        targets = _targets(train, classes)  # (N,)
        train_indices, valid_indices = self._split(len(train), valid)
        if isinstance(valid, EncodedData):
            valid_corpus, valid_targets = valid.corpus, _targets(valid, classes)
        elif valid_indices is not None:
            valid_corpus, valid_targets = train.corpus, targets[valid_indices]
        else:
            valid_corpus = valid_targets = None

        torch.set_num_threads(settings.threads or cluster.cpu_threads())
        torch.manual_seed(settings.seed)
        self.config = self.config.updated({"max_len": tokenizer.max_len})
        # NCCL cannot all-reduce sparse gradients, and MPS has no sparse kernels: dense embedding updates there
        sparse = settings.sparse_embedding and cluster.device.type != "mps" and not (
            cluster.distributed and cluster.backend == "nccl")
        model = SequenceClassifier(self.config.model, tokenizer.vocab_size, len(classes), sparse_gradients=sparse)
        self.vectors_coverage = self._load_vectors(model, tokenizer) if settings.vectors else None
        model.to(cluster.device)
        devices = [cluster.device.index] if cluster.device.type == "cuda" else None
        # DDP starts every process from rank 0's weights and averages the gradients of each step
        trained = DistributedDataParallel(model, device_ids=devices) if cluster.distributed else model
        if cluster.rank:
            torch.manual_seed(settings.seed + cluster.rank)  # each process its own dropout
        steps = -(-len(train_indices) // settings.batch_size)
        stopping = [EarlyStopping(settings.patience)] if settings.patience and valid_corpus is not None else []
        schedule = lr_multiplier(settings, total_steps=steps * settings.epochs)
        plateau, keep_best = ReduceOnPlateau(), KeepBest(model)
        optimizer = build_optimizer(model, settings)
        corpus, lengths = train.corpus, train.corpus.lengths[train_indices]
        sampler = BucketSampler(lengths, settings.batch_size, settings.seed, cluster.rank, cluster.world_size)
        run = Checkpointing(Path(checkpoint_dir), self.config, training_fingerprint(tokenizer, train, train_indices,
                                                                                    valid, valid_indices),
                            model, optimizer, sampler, keep_best, plateau) if checkpoint_dir is not None else None
        progress = run.restore() if run is not None and resume else None
        weights = _class_weights(targets[train_indices], len(classes), settings)
        trainer = Trainer(
            model=trained,
            optimizer=optimizer,
            loss_fn=functools.partial(nn.functional.cross_entropy, label_smoothing=settings.label_smoothing,
                                      weight=None if weights is None else weights.to(cluster.device)),
            max_grad_norm=settings.max_grad_norm,
            lr_multiplier=lambda step: schedule(step) * plateau.scale,
            callbacks=[*callbacks, keep_best, *stopping, *([plateau] if settings.lr_schedule == "plateau" else [])],
            checkpoint=run.save if run is not None and cluster.is_main else None,
            checkpoint_every=settings.checkpoint_every,
            sum_over_processes=cluster.sum,
            autocast_dtype=autocast_dtype,
        )
        if progress is not None:
            for callback in (*callbacks, *stopping):
                callback.on_resume(progress)

        def batches(epoch: int):
            for positions in sampler.epoch():
                indices = train_indices[positions]
                ids, batch_lengths = pad_batch(corpus, indices)  # (B, T), (B,)
                yield Batch((cluster.to_device(ids), cluster.to_device(batch_lengths)),
                            cluster.to_device(targets[indices]), int(batch_lengths.sum()))

        def validate() -> tuple[float, float]:
            """Each process scores its share of the validation data; the sums make the global figures."""
            share = np.arange(len(valid_targets))[cluster.rank :: cluster.world_size]
            loss_sum = correct = 0.0
            if len(share):
                indices = valid_indices[share] if valid_corpus is corpus else share
                logits = predict_logits(model, valid_corpus, indices)  # (n, C)
                loss_sum = nn.functional.cross_entropy(logits, valid_targets[share], reduction="sum").item()
                correct = (logits.argmax(dim=1) == valid_targets[share]).sum().item()
            loss_sum, correct, count = cluster.sum([loss_sum, correct, len(share)])
            return loss_sum / count, correct / count

        history = trainer.fit(settings.epochs, batches, steps, validate if valid_corpus is not None else None,
                              progress)
        model.eval()
        self.tokenizer, self.model, self.classes_, self.history = tokenizer, model, classes, history
        self.backend, self._predictor, self.cluster = BackendConfig(), None, cluster
        return self

    def _load_vectors(self, model: SequenceClassifier, tokenizer: WordTokenizer) -> VectorCoverage:
        """Start the embedding from pretrained vectors where the vocabulary has them."""
        settings = self.config.train
        table, found, coverage = read_vectors(settings.vectors, tokenizer.vocabulary(), tokenizer.vocab_size)
        if coverage.dimension != self.config.model.embed_dim:
            raise ConfigError(f"the vectors have dimension {coverage.dimension}, embed_dim is "
                              f"{self.config.model.embed_dim}", field="embed_dim",
                              hint=f"pass --embed-dim {coverage.dimension}")
        found[PAD_ID] = False  # <pad> stays zero
        with torch.no_grad():
            model.embedding.weight[torch.from_numpy(found)] = torch.from_numpy(table[found])
        model.embedding.weight.requires_grad_(not settings.freeze_vectors)
        return coverage

    def _split(self, n: int, valid: EncodedData | float | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Indices to train on and, when holding out a fraction, indices to validate on."""
        if isinstance(valid, EncodedData):
            return np.arange(n), None
        fraction = self.config.train.valid_fraction if valid is None else float(valid)
        if not 0 <= fraction < 1:
            raise DataError(f"a held-out fraction must be in [0, 1), got {fraction}", field="valid")
        n_valid = int(round(n * fraction))
        if n_valid == 0:
            return np.arange(n), None
        order = np.random.default_rng(self.config.train.seed).permutation(n)
        return order[n_valid:], order[:n_valid]

    def _classes(self, first_seen: list[str]) -> list[str]:
        if not first_seen:
            raise DataError("no training examples", field="texts")
        if len(first_seen) < 2:
            raise DataError(f"the training data has only one class ({first_seen[0]!r})", field="labels",
                            hint="a classifier needs examples of at least two classes")
        return sorted(first_seen) if self.config.data.label_order == "sorted" else list(first_seen)

    # -- prediction -----------------------------------------------------------------------------

    def _fitted(self) -> tuple[SequenceClassifier, WordTokenizer]:
        if self.model is None or self.tokenizer is None:
            raise NotFittedError("this TextClassifier has no model yet", hint="call fit() or TextClassifier.load()")
        return self.model, self.tokenizer

    def _predicting(self) -> Predictor:
        model, _ = self._fitted()
        return self._predictor or model

    def _encode(self, texts: Sequence[str]) -> EncodedCorpus:
        _, tokenizer = self._fitted()
        return tokenizer.encode(dataset_from_lists(texts, None, source="texts").texts)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(N, C) probabilities, rows sum to 1, columns in `classes_` order, rows in input order."""
        predictor = self._predicting()
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        return torch.softmax(predict_logits(predictor, self._encode(texts)), dim=1).numpy()

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.classes_[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def predict_top(self, texts: Sequence[str], top_k: int | None = None) -> list[dict]:
        """Per text: {"label", "probabilities"} with the `top_k` most probable classes (all by default),
        most probable first. The CLI and the HTTP API answer with this."""
        probabilities = self.predict_proba(texts)  # (N, C)
        k = len(self.classes_) if top_k is None else max(1, min(top_k, len(self.classes_)))
        results = []
        for row in probabilities:
            top = row.argsort()[::-1][:k]
            results.append({"label": self.classes_[top[0]],
                            "probabilities": {self.classes_[i]: float(row[i]) for i in top}})
        return results

    def evaluate(self, texts: Sequence[str], labels: Sequence[object]) -> dict:
        """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix."""
        _, tokenizer = self._fitted()
        return self.evaluate_encoded(encode_data(dataset_from_lists(texts, labels, source="evaluation data"), tokenizer))

    def evaluate_encoded(self, data: EncodedData) -> dict:
        predictor = self._predicting()
        targets = _targets(data, self.classes_).numpy()
        predicted = predict_logits(predictor, data.corpus).argmax(dim=1).numpy()
        return classification_report(targets, predicted, self.classes_)

    # -- views of the pipeline ------------------------------------------------------------------

    def trace(self, text: str) -> PredictionTrace:
        """One text through every stage, with the real values each stage produced."""
        model, tokenizer = self._fitted()
        dataset_from_lists([text], None, source="text")
        return prediction_trace(model, tokenizer, self.classes_, text)

    def data_flow(self, texts: Sequence[str]) -> DataFlow:
        """The shape of the whole data set after each stage."""
        model, tokenizer = self._fitted()
        data = dataset_from_lists(texts, None, source="texts")
        if len(data) == 0:
            raise DataError("no texts given", field="texts")
        return data_flow(model, tokenizer, self.classes_, tokenizer.encode(data.texts), data.texts[0])

    def data_flow_encoded(self, corpus: EncodedCorpus) -> DataFlow:
        """The data-flow table of an encoded corpus (its first sequence is the example)."""
        model, tokenizer = self._fitted()
        example = " ".join(tokenizer.id_to_token(int(i)) for i in corpus.sequence(0))
        return data_flow(model, tokenizer, self.classes_, corpus, example)

    # -- files ------------------------------------------------------------------------------------

    def save(self, directory: str | Path, *, skipped_rows: Sequence[BadRow] = ()) -> Path:
        """Write the model directory (atomically; files seqclf did not write there are kept). Returns its
        real path. `skipped_rows`: data rows the training left out, listed in skipped_rows.jsonl."""
        model, tokenizer = self._fitted()
        return artifacts.save(directory, artifacts.ModelParts(self.config, tokenizer, self.classes_, model,
                                                              self.history, list(skipped_rows)))

    @classmethod
    def load(cls, directory: str | Path, backend: str = "torch", quantize: str | None = None,
             onnx_file: str | Path | None = None) -> TextClassifier:
        """A saved model. `backend="onnx"` predicts with ONNX Runtime from the file `seqclf export`
        wrote (DIR/model.onnx, or DIR/model.int8.onnx with `quantize="int8"`, or `onnx_file`);
        `quantize="int8"` with the torch backend quantizes the PyTorch model dynamically."""
        settings = BackendConfig(backend, quantize, None if onnx_file is None else str(onnx_file)).validate()
        parts = artifacts.load(directory)
        clf = cls(parts.config)
        clf.tokenizer, clf.model, clf.classes_, clf.history = parts.tokenizer, parts.model, parts.classes, parts.history
        clf.use_backend(settings, Path(directory))
        return clf

    def use_backend(self, settings: BackendConfig, directory: Path | None = None) -> TextClassifier:
        """Predict with another engine from now on (see `seqclf.deploy.backend`)."""
        model, _ = self._fitted()
        predictor = build_predictor(model, self.classes_, directory, settings)
        self.backend, self._predictor = settings, (None if predictor is model else predictor)
        return self

    def export_onnx(self, path: str | Path, quantize: str | None = None) -> ExportReport:
        """Write the model (ids and attention mask to logits and probabilities) as an ONNX graph,
        checked against PyTorch in ONNX Runtime; `quantize="int8"` writes the int8 graph."""
        from seqclf.deploy.onnx_export import export_onnx

        model, tokenizer = self._fitted()
        check_quantization(quantize)
        return export_onnx(model.on_cpu(), self.classes_, tokenizer.max_len, path, quantize)


def _class_weights(targets: torch.Tensor, num_classes: int, settings: TrainConfig) -> torch.Tensor | None:
    """`balanced`: n / (C * count of the class), as scikit-learn computes it; absent classes get 0."""
    if settings.class_weight == "none":
        return None
    counts = torch.bincount(targets, minlength=num_classes).float()  # (C,)
    weights = len(targets) / (num_classes * counts)
    return torch.where(counts > 0, weights, torch.zeros_like(weights))


def _targets(data: EncodedData, classes: list[str]) -> torch.Tensor:
    check_known_labels(data.label_names, classes, data.source)
    index = {name: i for i, name in enumerate(classes)}
    remap = np.array([index[name] for name in data.label_names], dtype=np.int64)
    return torch.from_numpy(remap[data.label_ids])  # (N,)
