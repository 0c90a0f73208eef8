"""`seqclf tune`: search the settings that matter with Optuna, then train the final model on the best.

Each trial trains one sequence model on the training file and scores it on the validation file (with
the n-gram evidence combined when the trial turns it on; the evidence is fitted once per search and
reused). Optuna's TPE sampler (seeded) proposes the settings and its median pruner stops a trial
whose validation accuracy after an epoch trails the median of earlier trials at that epoch. The
first trial is `accurate`'s sequence model, so the search starts from a known-good point. The study
lives in OUT/study.db (SQLite): an interrupted search resumes where it stopped. The search ends when
the study holds `trials` finished trials (complete or pruned, earlier runs' included) or when this
run's `budget_seconds` have passed, whichever comes first.
At the end OUT/best.yaml holds the best settings, and OUT/model the final model: an ensemble of
`ensemble` sequence models with those settings, as `accurate` is an ensemble of its.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from seqclf import artifacts
from seqclf.config import FIELD_SECTION, Config, load_preset
from seqclf.text.cache import CorpusCache, default_cache_dir
from seqclf.data.readers import check_readable
from seqclf.errors import SeqclfError
from seqclf.fileio import removing_new_directories, write_file_atomically
from seqclf.runs import TrainingRun, train_to_directory
from seqclf.study import open_study, study_errors
from seqclf.training.distributed import Cluster
from seqclf.training.events import DataEncoded, PhaseStarted, RunReport, TrialFinished
from seqclf.training.history import EpochRecord, History
from seqclf.training.recipe import fit, fit_ngrams, load_files
from seqclf.training.trainer import Callback

METRICS = {"accuracy": "maximize", "loss": "minimize"}
FINISHED = ("COMPLETE", "PRUNED")  # the states of a trial that count towards `trials`
DEFAULT_BUDGET = 600.0  # seconds of search when neither a time limit nor a number of trials is given
STUDY, BEST, MODEL = "study.db", "best.yaml", "model"
START = "accurate"  # the first trial: this preset's sequence model


@dataclass
class TuneResult:
    best: dict  # the best trial's settings
    best_value: float
    trials: int  # finished trials (complete or pruned) in the study: this run's and earlier runs'
    completed: int  # of them, those that completed
    new: int  # of them, those this run finished
    search_seconds: float  # of this run's search
    run: TrainingRun  # the final model's training


def suggest(trial) -> dict:
    """The settings a trial tries: encoder, sizes, dropout, learning rate, epochs, n-gram evidence."""
    encoder = trial.suggest_categorical("encoder", ["lstm", "gru", "cnn", "bag"])
    settings = {"encoder": encoder,
                "embed_dim": trial.suggest_categorical("embed_dim", [50, 100, 200, 300]),
                "embed_dropout": trial.suggest_float("embed_dropout", 0.0, 0.5),
                "dropout": trial.suggest_float("dropout", 0.0, 0.6),
                "word_dropout": trial.suggest_float("word_dropout", 0.0, 0.3),
                "lr": trial.suggest_float("lr", 5e-4, 2e-2, log=True),
                "epochs": trial.suggest_int("epochs", 3, 15),
                "batch_size": trial.suggest_categorical("batch_size", [16, 32, 64]),
                "ngram_evidence": trial.suggest_categorical("ngram_evidence", [False, True])}
    if encoder in ("lstm", "gru"):
        settings["bidirectional"] = trial.suggest_categorical("bidirectional", [True, False])
        settings["pooling"] = trial.suggest_categorical("recurrent_pooling", ["max", "mean", "attention", "last"])
    else:
        settings["bidirectional"] = False
        settings["pooling"] = trial.suggest_categorical("pooling", ["max", "mean"])
    if encoder != "bag":
        settings["hidden_dim"] = trial.suggest_categorical("hidden_dim", [64, 100, 150, 200])
    else:
        settings["ngram_buckets"] = trial.suggest_categorical("ngram_buckets", [0, 100_000])
    return settings


def start_params(config: Config) -> dict:
    """`accurate`'s sequence model, as the first trial's parameters (in `suggest`'s names)."""
    model, train = config.model, config.train
    return {"encoder": model.encoder, "embed_dim": model.embed_dim, "embed_dropout": model.embed_dropout,
            "dropout": model.dropout, "word_dropout": model.word_dropout, "lr": train.lr, "epochs": train.epochs,
            "batch_size": train.batch_size, "ngram_evidence": model.ngram_evidence,
            "bidirectional": model.bidirectional, "recurrent_pooling": model.pooling, "hidden_dim": model.hidden_dim}


def tune(config: Config, data: str | Path, valid: str | Path, out: str | Path, budget_seconds: float | None = None, *,
         trials: int | None = None, metric: str = "accuracy", seed: int = 0, ensemble: int = 3,
         cache: str | Path | bool = True, report: RunReport | None = None) -> TuneResult:
    """Search until the study holds `trials` finished trials or `budget_seconds` have passed, whichever comes
    first (with neither, for DEFAULT_BUDGET seconds), then train the final model into OUT/model (see the
    module's doc). A study that already holds `trials` finished trials is not searched further: its best
    settings are written and the final model trained all the same."""
    optuna = _optuna()
    budget_seconds = _time_limit(budget_seconds, trials)
    if metric not in METRICS:
        raise SeqclfError(f"unknown metric {metric!r}", field="metric", hint="choose one of: " + ", ".join(METRICS))
    report = report or RunReport()
    for path in (data, valid):
        check_readable(path, config.data)
    out = Path(out)
    artifacts.check_output(out / MODEL)  # before the search, not after it
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # it logs every trial, a failed one with its traceback
    with removing_new_directories(out):  # before any work: a study that cannot be used is said at once
        study = _open(optuna, out / STUDY, metric, seed)
    cache_root = None if cache is False else default_cache_dir() if cache is True else Path(cache)
    report.on_event(PhaseStarted("reading"))
    tokenizer, train_data, valid_data = load_files(config, CorpusCache(cache_root), Cluster(), data, valid)
    train_data.task.check_single_label(train_data.source, "`seqclf tune` searches single-label models (its space "
                                       "includes ensembles and n-gram evidence)",
                                       hint="train a multi-label model with `seqclf train` (its settings are flags)")
    for encoded in (train_data, valid_data):
        report.on_event(DataEncoded(encoded))
    report.on_event(PhaseStarted("ngram_evidence"))
    ngrams = fit_ngrams(config, tokenizer, train_data, valid_data)
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds

    def objective(trial) -> float:
        settings = suggest(trial)
        started = time.monotonic()
        pruning = _Pruning(trial, optuna, metric, deadline)
        fitted = fit(config.updated(settings), tokenizer, train_data, valid_data, callbacks=[pruning], ngrams=ngrams)
        trial.set_user_attr("seconds", time.monotonic() - started)
        return fitted.validation[metric]

    with study_errors(out / STUDY):  # a full disk or a read-only file while trials run: one line
        started, before = time.monotonic(), len(finished(study))
        _search(study, objective, budget_seconds, trials, report)
        search_seconds, done = time.monotonic() - started, finished(study)
        completed = [t for t in done if t.state.name == "COMPLETE"]
        if not completed:
            raise SeqclfError("no trial of the study completed", field="budget",
                              hint="give a longer --budget or more --trials")
        best, best_value = suggest_settings(study.best_trial), study.best_value
        final = config.updated({**best, "ensemble": ensemble})
        write_file_atomically(out / BEST, lambda path: path.write_text(_best_yaml(final, study, metric), "utf-8"))
    run = train_to_directory(final, data, out / MODEL, valid=valid, cache=cache, report=report)
    return TuneResult(best, best_value, len(done), len(completed), len(done) - before, search_seconds, run)


def _open(optuna, path: Path, metric: str, seed: int):
    """The study of `path`, checked to search `metric`; its first trial queued when it has none."""
    study = open_study(optuna, path, METRICS[metric], optuna.samplers.TPESampler(seed=seed),
                       optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1),
                       start_params(Config.from_dict(load_preset(START))))
    with study_errors(path):
        held = study.direction.name.lower()
        if held != METRICS[metric]:  # Optuna would go on with the study's own direction, in silence
            other = next(name for name, direction in METRICS.items() if direction == held)
            raise SeqclfError(f"holds a search of the validation {other}, not the {metric}", path=path,
                              field="metric", hint=f"give --metric {other} to go on with it, or choose another --out")
    return study


def finished(study) -> list:
    """The study's finished trials: complete or pruned (not failed, nor running or left running by a killed run)."""
    return [t for t in study.trials if t.state.name in FINISHED]


def _search(study, objective, budget_seconds: float | None, trials: int | None, report: RunReport) -> None:
    """Trials until the study holds `trials` finished ones or `budget_seconds` have passed (None: no such limit)."""
    left = None if trials is None else trials - len(finished(study))
    if left is not None and left <= 0:
        return

    def after(study, trial) -> None:
        state = trial.state.name.lower()
        if trial.state.name in FINISHED:
            report.on_event(TrialFinished(trial.number, state, trial.value, trial.user_attrs.get("epochs", 0),
                                          trial.user_attrs.get("seconds", _duration(trial)), suggest_settings(trial),
                                          state == "complete" and study.best_trial.number == trial.number))

    def announced(trial) -> float:
        report.on_event(PhaseStarted("trial"))  # a trial can outlast the console's quiet limit: it says so
        return objective(trial)

    study.optimize(announced, n_trials=left, timeout=budget_seconds, callbacks=[after])


def _time_limit(budget_seconds: float | None, trials: int | None) -> float | None:
    """The time limit of this run's search (None: none), once both limits are checked."""
    if budget_seconds is not None and not 0 < budget_seconds < math.inf:  # NaN too: a deadline that never comes
        raise SeqclfError(f"must be a positive, finite number of seconds, got {budget_seconds}", field="budget")
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials < 1):
        raise SeqclfError(f"must be a whole number, at least 1, got {trials!r}", field="trials")
    return DEFAULT_BUDGET if budget_seconds is None and trials is None else budget_seconds


def suggest_settings(trial) -> dict:
    """A finished trial's settings, in config field names."""
    params = dict(trial.params)
    if "recurrent_pooling" in params:
        params["pooling"] = params.pop("recurrent_pooling")
    elif "pooling" in params:
        params["bidirectional"] = False
    return params


class _Pruning(Callback):
    """Reports each epoch's validation figure to the trial; stops it when the pruner says so, or when
    the search's time is up (`deadline`, on the monotonic clock; None: no time limit)."""

    def __init__(self, trial, optuna, metric: str, deadline: float | None) -> None:
        self.trial, self.optuna, self.metric, self.deadline = trial, optuna, metric, deadline

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        value = record.valid_accuracy if self.metric == "accuracy" else record.valid_loss
        self.trial.report(value, record.epoch)
        self.trial.set_user_attr("epochs", record.epoch)
        if self.trial.should_prune() or (self.deadline is not None and time.monotonic() > self.deadline):
            raise self.optuna.TrialPruned()


def _best_yaml(config: Config, study, metric: str) -> str:
    trial = study.best_trial
    header = (f"# seqclf tune: trial {trial.number} of {len(finished(study))}, validation {metric} {trial.value:.4f}\n"
              f"# Train with: seqclf train DATA --config best.yaml --out MODEL\n")
    chosen = {name: getattr(getattr(config, FIELD_SECTION[name]), name)
              for name in (*suggest_settings(trial), "ensemble")}
    return header + yaml.safe_dump(chosen, sort_keys=False)


def _duration(trial) -> float:
    if trial.datetime_start and trial.datetime_complete:
        return (trial.datetime_complete - trial.datetime_start).total_seconds()
    return 0.0


def _optuna():
    try:
        import optuna
    except ImportError:
        raise SeqclfError("tuning needs Optuna", hint="pip install 'seqclf[tune]'") from None
    return optuna
