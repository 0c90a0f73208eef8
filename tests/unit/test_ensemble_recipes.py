"""An ensemble of recipes (`ensemble: fast,accurate,cnn`): each sequence model's settings, resolved from a
preset or an encoder, kept in config.json, and checked."""
import dataclasses

import pytest

from seqclf.config import MEMBER_FIELDS, Config, load_preset
from seqclf.errors import ConfigError
from seqclf.nn.settings import ENSEMBLE_FIELDS
from seqclf.training.settings import MEMBER_TRAIN_FIELDS


def own_settings(config: Config) -> dict:
    """A single model's settings of stages 3-5 and its training loop."""
    model = {name: value for name, value in dataclasses.asdict(config.model).items() if name not in ENSEMBLE_FIELDS}
    return {**model, **{name: getattr(config.train, name) for name in MEMBER_TRAIN_FIELDS}}


def test_a_preset_member_has_its_presets_model_and_loop():
    config = Config.from_dict({"ensemble": "fast,accurate"})
    assert [member.recipe for member in config.members] == ["fast", "accurate"]
    for member, preset in zip(config.member_configs(), ("fast", "accurate")):
        assert own_settings(member) == own_settings(Config.from_dict(load_preset(preset)))
        assert (member.model.ensemble, member.model.ngram_evidence) == (1, False)  # the ensemble's, not its own
    assert config.model.sequence_models == 2 and config.model.combined


def test_an_encoder_member_has_the_ensembles_settings_with_that_encoder():
    config = Config.from_dict({"embed_dim": 32, "lr": 0.01, "ensemble": "lstm,cnn,bag"})
    lstm, cnn, bag = config.member_configs()
    assert config.encoders == ["lstm", "cnn", "bag"]
    assert {member.model.embed_dim for member in (lstm, cnn, bag)} == {32}
    assert {member.train.lr for member in (lstm, cnn, bag)} == {0.01}
    assert lstm.model.bidirectional and not cnn.model.bidirectional and not bag.model.bidirectional


def test_a_recipes_settings_win_and_the_ensembles_fill_the_rest():
    config = Config.from_dict({"ensemble": "fast,gru"}).updated({"epochs": 3, "hidden_dim": 20})
    fast, gru = config.member_configs()
    assert (fast.train.epochs, gru.train.epochs) == (10, 3)  # fast sets its epochs; gru takes the ensemble's
    assert gru.model.hidden_dim == 20
    assert [member.recipe for member in config.members] == ["fast", "gru"]  # kept while `ensemble` is not set


def test_config_json_keeps_each_members_settings():
    config = Config.from_dict({"ensemble": "fast,cnn"})
    saved = config.to_dict()
    assert saved["members"] == [{"recipe": "fast", "settings": config.members[0].settings},
                                {"recipe": "cnn", "settings": {"encoder": "cnn"}}]
    assert Config.from_dict(saved) == config
    saved["members"][0]["settings"]["lr"] = 0.5  # as an older preset said: the model is rebuilt as it was trained
    assert Config.from_dict(saved).member_configs()[0].train.lr == 0.5
    assert "members" not in Config.from_dict({"ensemble": 3}).to_dict()  # one recipe: config.json as before


def test_every_member_setting_is_a_setting_of_one_model():
    assert not set(MEMBER_FIELDS) & set(ENSEMBLE_FIELDS)
    assert set(MEMBER_TRAIN_FIELDS) <= {field.name for field in dataclasses.fields(Config().train)}


@pytest.mark.parametrize("values, field, message", [
    ({"ensemble": "fast,nope"}, "ensemble", "unknown recipe 'nope'"),
    ({"ensemble": "lstm,,cnn"}, "ensemble", "comma-separated recipes"),
    ({"ensemble": 0}, "ensemble", ">= 1"),
    ({"pooling": "last", "ensemble": "lstm,cnn"}, "pooling", "ensemble member 2 \\(cnn\\): 'last' pooling"),
    ({"ensemble": "gru", "members": [{"recipe": "cnn", "settings": {}}]}, "members", "are not those of ensemble"),
    ({"ensemble": "gru", "members": [{"recipe": "gru", "settings": {"seed": 1}}]}, "seed", "not a setting of one"),
    ({"ensemble": "gru", "members": [{"recipe": "gru"}]}, "members", "a list of"),
])
def test_a_bad_ensemble_of_recipes_names_the_field(values, field, message):
    with pytest.raises(ConfigError, match=message) as raised:
        Config.from_dict(values)
    assert raised.value.field == field
