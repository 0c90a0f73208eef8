"""The training recipe: settings and encoded data in, a fitted model out (torchtune's recipes).

It wires the components the generic `Trainer` knows nothing of: the train/validation split, class
indices, class weights, pretrained vectors, the model and its optimizer, DistributedDataParallel and
the distributed bucketing sampler, checkpoints and resume, and the checks that every process of a
distributed run read the same files (the barrier around the cache) and ended with the same weights.
Under `torchrun` every process calls `fit` with the same data; alone, a process is a cluster of one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqclf.artifacts import ModelParts
from seqclf.config import Config
from seqclf.text.batching import Chunking
from seqclf.text.tensors import pad_batch
from seqclf.text.cache import CorpusCache
from seqclf.data.streams import ReadProgress
from seqclf.text.encoded import EncodedData, encode_file, encode_training_file
from seqclf.errors import ConfigError, SeqclfError
from seqclf.fitted_state import FittedState
from seqclf.ids import EncodedCorpus
from seqclf.inference import predict_logits, text_logits
from seqclf.nn.classifier import Classifier, SequenceClassifier
from seqclf.nn.ensemble import Ensemble
from seqclf.nn.modes import device_of, eval_mode
from seqclf.nn.ngrams import NgramEvidence
from seqclf.text.tokenizer import WordTokenizer
from seqclf.threads import choose_threads, denormals_flushed
from seqclf.text.vectors import VectorCoverage
from seqclf.training.checkpoint import load_member, save_member
from seqclf.training.tracking import open_trackers
from seqclf.training.calibration import Calibration, calibrate
from seqclf.training.combine import choose_combination
from seqclf.training.distributed import Cluster, join_cluster
from seqclf.training.examples import SoftTargets, Split, class_order, split_examples
from seqclf.training.history import History
from seqclf.training.member import train_member
from seqclf.training.ngram_fit import Labeled, fit_ngram_evidence
from seqclf.training.thresholds import choose_thresholds
from seqclf.training.events import (Calibrated, Combined, LabelSetsFound, LongTexts, MemberStarted, PhaseStarted,
                                     RunReport, ThresholdsChosen, tell)
from seqclf.training.trainer import Callback


def load_files(config: Config, cache: CorpusCache, cluster: Cluster, train: str | Path,
               valid: str | Path | None = None, progress: ReadProgress | None = None,
               ) -> tuple[WordTokenizer, EncodedData, EncodedData | None]:
    """Read and encode the training (and validation) file, through the cache; `progress` follows the read of
    the training file. Under torchrun, rank 0 encodes and writes the cache first; the other processes then
    memory-map it."""
    if not cluster.is_main:
        cluster.barrier()
    tokenizer, train_data = encode_training_file(train, config.data, config.tokenizer, cache, progress)
    # label sets in the training data: the validation file's labels are sets too
    valid_data = encode_file(valid, config.data.reading_for(train_data.task), tokenizer, cache) if valid is not None \
        else None
    if cluster.is_main:
        cluster.barrier()
    return tokenizer, train_data, valid_data


@denormals_flushed()  # from its start: the thread pool its first parallel operation starts flushes them too
def fit(config: Config, tokenizer: WordTokenizer, train: EncodedData, valid: EncodedData | float | None = None, *,
        cluster: Cluster | None = None, callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
        resume: bool = False, ngrams: tuple[NgramEvidence, float] | None = None,
        soft: SoftTargets | None = None) -> ModelParts:
    """Train a model: `ensemble` sequence models one after another, then (with `ngram_evidence`) the
    n-gram evidence, then the combination chosen on the validation data. `valid`: encoded validation
    data, a fraction of `train` to hold out, or None for the configured valid_fraction. Each sequence
    model keeps the weights of its best validation epoch. With `checkpoint_dir`, a resume checkpoint is
    written there after an epoch once `checkpoint_seconds` have passed since the last (and every
    `checkpoint_every` steps); `resume=True` continues from it.
    `ngrams`: n-gram evidence already fitted on the same data (and its L2 penalty), used instead of
    fitting it again (a search reuses one across its trials). `soft`: a teacher's probabilities for each
    training text, which the sequence models learn instead of the labels (`seqclf.distill`). `config` is never changed: what training
    chose or resolved is the returned model's `fitted` state; its network is in eval mode, on the training
    device, its history holds every sequence model's epochs (`EpochRecord.member` tells whose)."""
    settings = config.train
    cluster = cluster or join_cluster(settings.device)
    threads = choose_threads(settings.threads, share=cluster.local_world_size)
    torch.set_num_threads(threads.threads)
    if cluster.distributed and settings.checkpoint_every:
        raise ConfigError("is for single-process runs; a distributed run writes its checkpoint after each epoch",
                          field="checkpoint_every", hint="leave --checkpoint-every out under torchrun")
    trackers = open_trackers(config) if cluster.is_main else []  # TensorBoard, MLflow: as `log_to` says
    callbacks = [*callbacks, *trackers]
    reports = [callback for callback in callbacks if isinstance(callback, RunReport)]
    task = train.task  # chosen once, from the training labels
    task.check_combinable(config.model.sequence_models, config.model.ngram_evidence)
    if task.label_sets:
        tell(reports, LabelSetsFound(None if config.data.task == task else train.detected))
    classes = class_order(train.label_names, config.data.label_order)
    data = split_examples(tokenizer, train, valid, classes, settings, soft)
    tell(reports, threads)
    chunking = Chunking.of(config.tokenizer, tokenizer.max_len)
    tell(reports, long_texts(train.corpus, tokenizer.max_len, chunking, settings.window_training == "all"))
    members, history, coverage = _train_members(config, tokenizer, classes, data, cluster, callbacks, reports,
                                                checkpoint_dir, resume, chunking)
    model, combination, validation = _combine(members, config, tokenizer, classes, data, reports, ngrams)
    if validation is None and data.valid is not None:  # one model: its kept epoch was scored already
        kept = history.records[history.best_epoch - 1]
        validation = {"accuracy": kept.valid_accuracy, "loss": kept.valid_loss}
    fitted_calibration = _calibrated(model, config, data, chunking, reports)
    state = FittedState(task, max_len=tokenizer.max_len, vocab_size=tokenizer.vocab_size, num_classes=len(classes),
                        temperature=float(model.temperature), **combination,
                        thresholds=_thresholds(config, model, data, classes, chunking, reports))
    for tracker in trackers:
        tracker.finish({f"valid_{name}": value for name, value in (validation or {}).items() if value is not None})
    tell(reports, PhaseStarted("finished"))
    return ModelParts(config, state, tokenizer, classes, model, history, validation=validation,
                      calibration=fitted_calibration, coverage=coverage, cluster=cluster,
                      fingerprints=same_weights_everywhere(model, cluster))


def _train_members(config: Config, tokenizer: WordTokenizer, classes: list[str], data: Split, cluster: Cluster,
                   callbacks: Sequence[Callback], reports: list[RunReport], checkpoint_dir: str | Path | None,
                   resume: bool, chunking: Chunking | None
                   ) -> tuple[list[SequenceClassifier], History, VectorCoverage | None]:
    """The ensemble's sequence models, each with its own settings (`Config.member_configs`), trained one after
    another (finished ones read back on resume), and their epochs in one history (`EpochRecord.member` tells
    whose)."""
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
    members, records, coverage = [], [], None
    configs = config.member_configs()
    for member, (member_config, recipe) in enumerate(zip(configs, config.model.recipes or [None] * len(configs))):
        seed = config.train.seed + MEMBER_SEED_STEP * member
        tell(reports, MemberStarted(member, len(configs), seed, member_config.train.epochs, len(data.train.indices),
                                    recipe))
        finished = load_member(directory, member, config, data.fingerprint) if resume and directory else None
        model = SequenceClassifier(member_config.model, tokenizer.vocab_size, len(classes))
        model.task = data.task
        if finished is not None:
            model.load_state_dict(finished[0])
            history = finished[1]
        else:
            model, history, coverage = train_member(member_config, seed, member, tokenizer, classes, data, cluster,
                                                     callbacks, directory, resume, chunking)
            if directory is not None and config.model.combined and cluster.is_main:
                save_member(directory, member, config, data.fingerprint, model, history)
        members.append(model.to(cluster.device).eval())
        records += [replace(record, member=member) for record in history.records]
    return members, History(records), coverage


MEMBER_SEED_STEP = 1000  # member i of an ensemble trains with seed + 1000 i


def long_texts(corpus: EncodedCorpus, max_len: int, chunking: Chunking | None, every_window: bool) -> LongTexts | None:
    """How many texts are longer than max_len, and how they are read; None if none is."""
    longer = sum(int((piece > max_len).sum()) for piece in corpus.length_pieces(cut=False))
    if not longer:
        return None
    return LongTexts(longer, len(corpus), max_len, None if chunking is None else chunking.stride,
                     None if chunking is None else chunking.pooling, every_window)


def _calibrated(model: Classifier, config: Config, data: Split, chunking: Chunking | None,
                reports: list[RunReport]) -> Calibration | None:
    """With `calibrate` (single-label, validation data at hand): the temperature fitted, set on `model`."""
    if not config.train.calibrate or data.valid is None or not data.task.calibrated:
        return None
    tell(reports, PhaseStarted("calibration"))
    fitted = calibrate(text_logits(model, data.valid.corpus, data.valid.indices, chunking), data.valid.loss_targets())
    model.temperature = fitted.used
    tell(reports, Calibrated(fitted))
    return fitted


def _thresholds(config: Config, model: Classifier, data: Split, classes: list[str],
                chunking: Chunking | None, reports: list[RunReport]) -> tuple[float, ...] | None:
    """A multi-label model's thresholds, chosen on the validation data (`train.threshold`); else None."""
    valid = data.valid
    if not data.task.label_sets:
        return None
    tell(reports, PhaseStarted("thresholds"))
    rule = config.train.threshold
    probabilities, truth = np.zeros((1, len(classes))), None
    if valid is not None:
        probabilities = model.activate(text_logits(model, valid.corpus, valid.indices, chunking)).numpy()
        truth = valid.targets.numpy()
    thresholds = choose_thresholds(probabilities, truth, rule)
    tell(reports, ThresholdsChosen(tuple(thresholds), tuple(classes), rule, valid is not None))
    return tuple(thresholds)


def fit_ngrams(config: Config, tokenizer: WordTokenizer, train: EncodedData,
               valid: EncodedData | float | None = None) -> tuple[NgramEvidence, float]:
    """The n-gram evidence `fit` would combine, fitted on its own (with its L2 penalty)."""
    classes = class_order(train.label_names, config.data.label_order)
    data = split_examples(tokenizer, train, valid, classes, config.train)
    return fit_ngram_evidence(tokenizer.vocab_size, len(classes), data.train, data.valid, config.train.ngram_l2)


def _combine(members: list[SequenceClassifier], config: Config, tokenizer: WordTokenizer, classes: list[str],
             data: Split, reports: list[RunReport],
             fitted_ngrams: tuple[NgramEvidence, float] | None) -> tuple[Classifier, dict, dict | None]:
    """The final model: the single sequence model, or the ensemble with its combination chosen on the
    validation data (what was chosen: `FittedState`'s combine, ngram_weight and ngram_l2)."""
    model_config, valid = config.model, data.valid
    if not model_config.combined:
        return members[0], {}, None
    ngrams, l2 = None, None
    if model_config.ngram_evidence:
        tell(reports, None if fitted_ngrams else PhaseStarted("ngram_evidence"))
        ngrams, l2 = fitted_ngrams or fit_ngram_evidence(tokenizer.vocab_size, len(classes), data.train, valid,
                                                         config.train.ngram_l2)
        ngrams.to(device_of(members[0]))
    log_probs = None
    tell(reports, PhaseStarted("combination"))
    if valid is not None:
        everything = Ensemble(members, ngrams, "mean", 0.0).eval()
        with eval_mode(everything), torch.inference_mode():
            log_probs = torch.cat([everything.forward_stages(ids.to(device_of(everything)), lengths.to(
                device_of(everything)))["model_log_probs"].cpu() for ids, lengths in _batches(valid)], dim=1)
    rule, weight = choose_combination(log_probs, None if valid is None else valid.loss_targets(), len(members),
                                      ngrams is not None, model_config.combine, model_config.ngram_weight)
    model = Ensemble(members, ngrams, rule, weight).eval()
    validation = _validation(model, valid)
    tell(reports, Combined(tuple(model.sources), tuple(model.weights.tolist()), model.rule,
                           None if validation is None else validation["accuracy"]))
    return model, {"combine": rule, "ngram_weight": float(weight), "ngram_l2": None if l2 is None else float(l2)}, \
        validation


def _batches(data: Labeled, size: int = 512):
    for start in range(0, len(data.indices), size):
        yield pad_batch(data.corpus, data.indices[start : start + size])


def _validation(model: Classifier, valid: Labeled | None) -> dict | None:
    if valid is None:
        return None
    logits = predict_logits(model, valid.corpus, valid.indices)  # (N, C)
    truth = valid.loss_targets()
    return {"accuracy": (logits.argmax(1) == truth).float().mean().item(),
            "loss": nn.functional.cross_entropy(logits, truth).item()}


def same_weights_everywhere(model: Classifier, cluster: Cluster) -> list[str]:
    """Under torchrun, every process's weights fingerprint (rank order), checked equal; alone, none."""
    if not cluster.distributed:
        return []
    fingerprints = cluster.gather(model.weights_fingerprint())
    if len(set(fingerprints)) != 1:
        raise SeqclfError(f"the processes ended with different weights: {fingerprints}",
                          hint="please report this with the command line")
    return fingerprints


