import optuna

from seqclf.config import Config, load_preset
from seqclf.tune import start_params, suggest, suggest_settings


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
