import math
import time

import optuna
import pytest
from optuna.trial import TrialState

from seqclf.config import Config, load_preset
from seqclf.errors import SeqclfError
from seqclf.training.history import EpochRecord
from seqclf.training.events import RunReport
from seqclf.tune import (DEFAULT_BUDGET, _Pruning, _search, _time_limit, finished, start_params, suggest,
                         suggest_settings)


def test_the_first_trial_is_accurates_sequence_model():
    accurate = Config.from_dict(load_preset("accurate"))
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.enqueue_trial(start_params(accurate))
    trial = study.ask()
    settings = suggest(trial)
    flat = {name: value for section in accurate.to_dict().values() for name, value in section.items()}
    assert all(flat[name] == value for name, value in settings.items()), settings


def test_every_suggestion_is_a_valid_configuration():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(40):
        trial = study.ask()
        Config().updated(suggest(trial))  # raises on an impossible combination
        study.tell(trial, 0.5)
    assert all(Config().updated(suggest_settings(t)) for t in study.trials)


def finished_study(n: int):
    study = optuna.create_study()
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=n)
    return study


@pytest.mark.parametrize("held, trials, run", [(0, 3, 3), (2, 3, 1), (3, 3, 0), (5, 3, 0)])
def test_trials_counts_the_studys_finished_trials_earlier_runs_included(held, trials, run):
    study = finished_study(held)
    _search(study, lambda trial: trial.suggest_float("x", 0, 1), None, trials, RunReport())
    assert len(study.trials) == held + run


def test_pruned_trials_count_and_failed_ones_do_not():
    study = optuna.create_study()
    for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
        study.tell(study.ask(), 0.5 if state == TrialState.COMPLETE else None, state=state)
    assert [t.state for t in finished(study)] == [TrialState.COMPLETE, TrialState.PRUNED]
    _search(study, lambda trial: 0.5, None, 3, RunReport())
    assert len(finished(study)) == 3


def test_with_both_limits_the_search_stops_at_whichever_comes_first():
    def slow(trial):  # however fast the machine, a trial outlasts the budget below
        time.sleep(0.2)
        return 0.5

    study = optuna.create_study()
    _search(study, slow, 0.1, 100, RunReport())
    assert len(study.trials) == 1  # the time limit came first
    _search(study, slow, 3600, 2, RunReport())
    assert len(study.trials) == 2  # the trial count came first


def test_the_time_limit_applies_by_default_only_without_a_trial_count():
    assert _time_limit(None, None) == DEFAULT_BUDGET
    assert _time_limit(None, 5) is None and _time_limit(30, 5) == 30 and _time_limit(30, None) == 30


@pytest.mark.parametrize("budget, trials, field", [(math.nan, None, "budget"), (math.inf, None, "budget"),
                                                   (0, None, "budget"), (-1, 3, "budget"), (None, 0, "trials"),
                                                   (None, math.nan, "trials"), (None, 2.5, "trials"),
                                                   (None, True, "trials")])
def test_impossible_limits_are_refused_by_name(budget, trials, field):
    with pytest.raises(SeqclfError, match=f"field '{field}'"):
        _time_limit(budget, trials)


class FakeTrial:
    def report(self, value, step): ...

    def set_user_attr(self, key, value): ...

    def should_prune(self) -> bool:
        return False


def test_a_search_without_a_time_limit_has_no_deadline():
    record = EpochRecord(1, train_loss=1.0, train_accuracy=0.5, valid_loss=1.0, valid_accuracy=0.5, seconds=1.0,
                         tokens_per_second=1.0, learning_rate=0.001)
    _Pruning(FakeTrial(), optuna, "accuracy", None).on_epoch_end(record, None)  # no deadline: not pruned
    with pytest.raises(optuna.TrialPruned):
        _Pruning(FakeTrial(), optuna, "accuracy", time.monotonic() - 1).on_epoch_end(record, None)
