"""The training recipe: settings and encoded data in, a fitted model out (torchtune's recipes).

It wires the components the generic `Trainer` knows nothing of: the train/validation split, class
indices, class weights, pretrained vectors, the model and its optimizer, DistributedDataParallel and
the distributed bucketing sampler, checkpoints and resume, and the checks that every process of a
distributed run read the same files (the barrier around the cache) and ended with the same weights.
Under `torchrun` every process calls `fit` with the same data; alone, a process is a cluster of one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from seqclf.config import Config
from seqclf.data.batching import BucketSampler, pad_batch
from seqclf.data.cache import CorpusCache
from seqclf.data.encoded import EncodedData, check_known_labels, encode_file, encode_training_file
from seqclf.data.readers import LABEL_ORDERS
from seqclf.errors import ConfigError, DataError, SeqclfError
from seqclf.ids import PAD_ID
from seqclf.inference import predict_logits
from seqclf.nn.classifier import SequenceClassifier
from seqclf.text.tokenizer import WordTokenizer
from seqclf.text.vectors import VectorCoverage, read_vectors
from seqclf.training.checkpoint import Checkpointing, training_fingerprint
from seqclf.training.distributed import Cluster, check_precision, join_cluster
from seqclf.training.history import History
from seqclf.training.loss import class_weights, loss_function
from seqclf.training.optim import build_optimizer, lr_multiplier
from seqclf.training.settings import TrainConfig
from seqclf.training.trainer import Batch, Callback, EarlyStopping, KeepBest, ReduceOnPlateau, Trainer


class RunReport(Callback):
    """A training callback that is also told about the run around the loop (shown by rank 0 only)."""

    def on_cluster(self, cluster: Cluster, batch_size: int) -> None: ...

    def on_data(self, data: EncodedData) -> None: ...


@dataclass
class Fitted:
    config: Config  # resolved: max_len is the integer the tokenizer uses
    tokenizer: WordTokenizer
    model: SequenceClassifier  # in eval mode, on the training device
    classes: list[str]
    history: History
    coverage: VectorCoverage | None  # of the pretrained vectors, when there were any
    cluster: Cluster
    fingerprints: list[str]  # under torchrun: every process's weights fingerprint, in rank order (all equal)


def load_files(config: Config, cache: CorpusCache, cluster: Cluster, train: str | Path,
               valid: str | Path | None = None) -> tuple[WordTokenizer, EncodedData, EncodedData | None]:
    """Read and encode the training (and validation) file, through the cache. Under torchrun, rank 0
    encodes and writes the cache first; the other processes then memory-map it."""
    if not cluster.is_main:
        cluster.barrier()
    tokenizer, train_data = encode_training_file(train, config.data, config.tokenizer, cache)
    valid_data = encode_file(valid, config.data, tokenizer, cache) if valid is not None else None
    if cluster.is_main:
        cluster.barrier()
    return tokenizer, train_data, valid_data


def fit(config: Config, tokenizer: WordTokenizer, train: EncodedData, valid: EncodedData | float | None = None, *,
        cluster: Cluster | None = None, callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
        resume: bool = False) -> Fitted:
    """Train a model. `valid`: encoded validation data, a fraction of `train` to hold out, or None for
    the configured valid_fraction. The weights of the best validation epoch are kept. With
    `checkpoint_dir`, a resume checkpoint is written there after every epoch (and every
    `checkpoint_every` steps); `resume=True` continues from it."""
    settings = config.train
    cluster = cluster or join_cluster(settings.device)
    autocast_dtype = check_precision(settings.precision, cluster.device)
    if cluster.distributed and settings.checkpoint_every:
        raise ConfigError("is for single-process runs; a distributed run writes its checkpoint after each epoch",
                          field="checkpoint_every", hint="leave --checkpoint-every out under torchrun")
    classes = class_order(train.label_names, config.data.label_order)
    targets = class_indices(train, classes)  # (N,)
    train_indices, valid_indices = split(len(train), valid, settings)
    if isinstance(valid, EncodedData):
        valid_corpus, valid_targets = valid.corpus, class_indices(valid, classes)
    elif valid_indices is not None:
        valid_corpus, valid_targets = train.corpus, targets[valid_indices]
    else:
        valid_corpus = valid_targets = None

    torch.set_num_threads(settings.threads or cluster.cpu_threads())
    torch.manual_seed(settings.seed)
    config = config.updated({"max_len": tokenizer.max_len})
    # NCCL cannot all-reduce sparse gradients, and MPS has no sparse kernels: dense embedding updates there
    sparse = settings.sparse_embedding and cluster.device.type != "mps" and not (
        cluster.distributed and cluster.backend == "nccl")
    model = SequenceClassifier(config.model, tokenizer.vocab_size, len(classes), sparse_gradients=sparse)
    coverage = load_vectors(model, tokenizer, settings) if settings.vectors else None
    model.to(cluster.device)
    devices = [cluster.device.index] if cluster.device.type == "cuda" else None
    # DDP starts every process from rank 0's weights and averages the gradients of each step
    trained = DistributedDataParallel(model, device_ids=devices) if cluster.distributed else model
    if cluster.rank:
        torch.manual_seed(settings.seed + cluster.rank)  # each process its own dropout
    steps = -(-len(train_indices) // settings.batch_size)
    stopping = [EarlyStopping(settings.patience)] if settings.patience and valid_corpus is not None else []
    schedule = lr_multiplier(settings.lr_schedule, settings.warmup, total_steps=steps * settings.epochs)
    plateau, keep_best = ReduceOnPlateau(), KeepBest(model)
    optimizer = build_optimizer(model, settings.lr, settings.weight_decay)
    corpus, lengths = train.corpus, train.corpus.lengths[train_indices]
    sampler = BucketSampler(lengths, settings.batch_size, settings.seed, cluster.rank, cluster.world_size)
    run = Checkpointing(Path(checkpoint_dir), config, training_fingerprint(tokenizer, train, train_indices, valid,
                                                                          valid_indices),
                        model, optimizer, sampler, keep_best, plateau) if checkpoint_dir is not None else None
    progress = run.restore() if run is not None and resume else None
    weights = class_weights(targets[train_indices], len(classes), settings.class_weight)
    trainer = Trainer(
        model=trained,
        optimizer=optimizer,
        loss_fn=loss_function(settings.label_smoothing, None if weights is None else weights.to(cluster.device)),
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

    history = trainer.fit(settings.epochs, batches, steps, validate if valid_corpus is not None else None, progress)
    model.eval()
    return Fitted(config, tokenizer, model, classes, history, coverage, cluster, same_weights_everywhere(model,
                                                                                                       cluster))


def same_weights_everywhere(model: SequenceClassifier, cluster: Cluster) -> list[str]:
    """Under torchrun, every process's weights fingerprint (rank order), checked equal; alone, none."""
    if not cluster.distributed:
        return []
    fingerprints = cluster.gather(model.weights_fingerprint())
    if len(set(fingerprints)) != 1:
        raise SeqclfError(f"the processes ended with different weights: {fingerprints}",
                          hint="please report this with the command line")
    return fingerprints


def class_order(first_seen: list[str], order: str) -> list[str]:
    """The classes, in the model's output order, from the training labels in first-seen order."""
    if not first_seen:
        raise DataError("no training examples", field="texts")
    if len(first_seen) < 2:
        raise DataError(f"the training data has only one class ({first_seen[0]!r})", field="labels",
                        hint="a classifier needs examples of at least two classes")
    return list(LABEL_ORDERS[order](first_seen))


def class_indices(data: EncodedData, classes: list[str]) -> torch.Tensor:
    """(N,) the index in `classes` of each example's label."""
    check_known_labels(data.label_names, classes, data.source)
    index = {name: i for i, name in enumerate(classes)}
    remap = np.array([index[name] for name in data.label_names], dtype=np.int64)
    return torch.from_numpy(remap[data.label_ids])


def split(n: int, valid: EncodedData | float | None, settings: TrainConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices to train on and, when holding out a fraction, indices to validate on."""
    if isinstance(valid, EncodedData):
        return np.arange(n), None
    fraction = settings.valid_fraction if valid is None else float(valid)
    if not 0 <= fraction < 1:
        raise DataError(f"a held-out fraction must be in [0, 1), got {fraction}", field="valid")
    n_valid = int(round(n * fraction))
    if n_valid == 0:
        return np.arange(n), None
    order = np.random.default_rng(settings.seed).permutation(n)
    return order[n_valid:], order[:n_valid]


def load_vectors(model: SequenceClassifier, tokenizer: WordTokenizer, settings: TrainConfig) -> VectorCoverage:
    """Start the embedding from pretrained vectors where the vocabulary has them."""
    table, found, coverage = read_vectors(settings.vectors, tokenizer.vocabulary(), tokenizer.vocab_size)
    embed_dim = model.embedding.embedding_dim
    if coverage.dimension != embed_dim:
        raise ConfigError(f"the vectors have dimension {coverage.dimension}, embed_dim is {embed_dim}",
                          field="embed_dim", hint=f"pass --embed-dim {coverage.dimension}")
    found[PAD_ID] = False  # <pad> stays zero
    with torch.no_grad():
        model.embedding.weight[torch.from_numpy(found)] = torch.from_numpy(table[found])
    model.embedding.weight.requires_grad_(not settings.freeze_vectors)
    return coverage
