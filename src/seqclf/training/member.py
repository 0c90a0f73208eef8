"""One sequence model's training, as the settings say: the model, its optimizer and schedule, the batches
of each epoch (padded, or windows of long texts), validation summed over the processes, checkpoints and
resume; data-parallel under `torchrun` (`Cluster.data_parallel`)."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from seqclf.config import Config
from seqclf.text.batching import BucketSampler, Chunking, sample_windows
from seqclf.text.tensors import pad_batch
from seqclf.errors import ConfigError
from seqclf.ids import PAD_ID
from seqclf.inference import text_logits
from seqclf.nn.classifier import SequenceClassifier
from seqclf.nn.pooling import WindowPooled
from seqclf.text.tokenizer import WordTokenizer
from seqclf.text.vectors import VectorCoverage, read_vectors
from seqclf.training.checkpoint import Checkpointing
from seqclf.training.distributed import Cluster, check_precision
from seqclf.training.examples import Split
from seqclf.training.history import History
from seqclf.training.loss import agreeing, class_weights, count_correct, summed_loss
from seqclf.training.ngram_fit import Labeled
from seqclf.training.optim import build_optimizer
from seqclf.training.schedules import lr_multiplier
from seqclf.training.settings import TrainConfig
from seqclf.training.trainer import Batch, Callback, EarlyStopping, KeepBest, ReduceOnPlateau, Trainer


def train_member(config: Config, seed: int, member: int, tokenizer: WordTokenizer, classes: list[str], data: Split,
                  cluster: Cluster, callbacks: Sequence[Callback], directory: Path | None, resume: bool,
                  chunking: Chunking | None) -> tuple[SequenceClassifier, History, VectorCoverage | None]:
    """One sequence model, trained as the settings say: the loop of a single model."""
    settings = config.train
    autocast_dtype = check_precision(settings.precision, cluster.device)
    torch.manual_seed(seed)
    # NCCL cannot all-reduce sparse gradients, and MPS has no sparse kernels: dense embedding updates there
    sparse = settings.sparse_embedding and cluster.device.type != "mps" and not (
        cluster.distributed and cluster.backend == "nccl")
    model = SequenceClassifier(config.model, tokenizer.vocab_size, len(classes), sparse_gradients=sparse)
    model.task = data.task
    coverage = load_vectors(model, tokenizer, settings) if settings.vectors else None
    model.to(cluster.device)
    trained, average_sparse_gradients = cluster.data_parallel(model)
    if cluster.rank:
        torch.manual_seed(seed + cluster.rank)  # each process its own dropout
    train, valid = data.sequence_model_train, data.valid
    steps = -(-len(train.indices) // settings.batch_size)
    stopping = [EarlyStopping(settings.patience)] if settings.patience and valid is not None else []
    schedule = lr_multiplier(settings.lr_schedule, settings.warmup, total_steps=steps * settings.epochs)
    plateau, keep_best = ReduceOnPlateau(), KeepBest(model)
    optimizer = build_optimizer(model, settings.lr, settings.weight_decay)
    sampler = BucketSampler(train.corpus.lengths_at(train.indices), settings.batch_size, seed, cluster.rank,
                            cluster.world_size)
    run = Checkpointing(directory, config, data.fingerprint, model, optimizer, sampler, keep_best, plateau,
                        member) if directory is not None else None
    progress = run.restore() if run is not None and resume else None
    weights = class_weights(data.train.targets, len(classes), settings.class_weight)
    # long_text=chunk, window_training=all: a batch is its texts' windows, their logits pooled per text as at prediction
    every_window = chunking is not None and settings.window_training == "all"
    trainer = Trainer(
        model=WindowPooled(trained, chunking.pooling) if every_window else trained,
        optimizer=optimizer,
        loss_fn=data.task.loss(settings.label_smoothing, None if weights is None else weights.to(cluster.device)),
        max_grad_norm=settings.max_grad_norm,
        lr_multiplier=lambda step: schedule(step) * plateau.scale,
        callbacks=[*callbacks, keep_best, *stopping, *([plateau] if settings.lr_schedule == "plateau" else [])],
        checkpoint=run.save if run is not None and cluster.is_main else None,
        checkpoint_every=settings.checkpoint_every, checkpoint_seconds=settings.checkpoint_seconds,
        sum_over_processes=cluster.sum,
        after_backward=average_sparse_gradients,
        autocast_dtype=autocast_dtype,
        count_correct=count_correct if data.taught is None else agreeing,
    )
    if progress is not None:
        for callback in (*callbacks, *stopping):
            callback.on_resume(progress)

    batches = epoch_batches(train, sampler, chunking, every_window, seed, cluster)
    validate = validator(model, valid, chunking, cluster) if valid is not None else None
    history = trainer.fit(settings.epochs, batches, steps, validate, progress)
    return model.eval(), history, coverage


# examples read between two releases of a memory-mapped corpus's pages: each touches about 3 pages (its ids, its
# offsets), so training holds at most about 48 MB of them, whatever the corpus's size
RELEASE_PAGES_EVERY = 4096


def epoch_batches(train: Labeled, sampler: BucketSampler, chunking: Chunking | None, every_window: bool, seed: int,
                  cluster: Cluster) -> Callable[[int], Iterator[Batch]]:
    """An epoch's batches of this process, on its device: texts padded to the batch's longest, or with
    chunking every window of each text (pooled per text by `WindowPooled`) or one random window."""

    def batches(epoch: int) -> Iterator[Batch]:
        random_windows = np.random.default_rng([seed, epoch, cluster.rank])  # window_training=random
        read = 0  # examples read since the corpus's pages were last released
        for positions in sampler.epoch():
            if read >= RELEASE_PAGES_EVERY:
                train.corpus.release_pages()
                read = 0
            read += len(positions)
            indices = train.indices[positions]
            owners = None
            if chunking is None:
                ids, batch_lengths = pad_batch(train.corpus, indices)  # (B, T), (B,)
            elif every_window:
                pieces, owners, _ = chunking.windows(train.corpus, indices)
                ids, batch_lengths = pad_batch(pieces, np.arange(len(pieces)))  # (W, T), (W,)
            else:
                sampled = sample_windows(train.corpus, indices, chunking.max_len, random_windows)
                ids, batch_lengths = pad_batch(sampled, np.arange(len(indices)))  # (B, T), (B,)
            inputs = (ids, batch_lengths) if owners is None else (ids, batch_lengths, torch.from_numpy(owners))
            yield Batch(tuple(cluster.to_device(tensor) for tensor in inputs),
                        cluster.to_device(train.loss_targets(positions)), int(batch_lengths.sum()))

    return batches


def validator(model: SequenceClassifier, valid: Labeled, chunking: Chunking | None,
              cluster: Cluster) -> Callable[[], tuple[float, float]]:
    """Validation loss and accuracy: each process scores its share, the sums make the global figures."""

    def validate() -> tuple[float, float]:
        share = np.arange(len(valid.indices))[cluster.rank :: cluster.world_size]
        loss_sum = correct = 0.0
        if len(share):
            logits = text_logits(model, valid.corpus, valid.indices[share], chunking)  # (n, C)
            truth = valid.loss_targets(share)
            loss_sum = summed_loss(logits, truth)
            correct = count_correct(logits, truth).item()
        valid.corpus.release_pages()
        loss_sum, correct, count = cluster.sum([loss_sum, correct, len(share)])
        return loss_sum / count, correct / count

    return validate


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
