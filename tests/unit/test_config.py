import json

import pytest

from seqclf.config import Config, load_preset, preset_names, read_config_file
from seqclf.errors import ConfigError


def test_flat_and_sectioned_settings_set_the_same_fields():
    flat = Config.from_dict({"embed_dim": 50, "epochs": 3})
    sectioned = Config.from_dict({"model": {"embed_dim": 50}, "train": {"epochs": 3}})
    assert flat == sectioned
    assert flat.model.embed_dim == 50 and flat.train.epochs == 3


def test_round_trip_through_dict():
    config = Config().updated({"max_len": 17, "bidirectional": False})
    assert Config.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"max_len": "auto"}, "auto"),
        ({"max_len": "12"}, 12),
        ({"max_size": "none"}, None),
        ({"bidirectional": "false"}, False),
        ({"lr": "0.01"}, 0.01),
    ],
)
def test_strings_from_the_command_line_are_coerced(values, expected):
    config = Config.from_dict(values)
    (name,) = values
    section = {"max_len": "tokenizer", "max_size": "tokenizer", "bidirectional": "model", "lr": "train"}[name]
    assert getattr(getattr(config, section), name) == expected


@pytest.mark.parametrize(
    "values, message",
    [
        ({"embed_dims": 5}, r"field 'embed_dims': unknown setting .*did you mean 'embed_dim'"),
        ({"max_len": "long"}, r"field 'max_len': expected an integer or 'auto'"),
        ({"max_len": 0}, r"field 'max_len': must be >= 1"),
        ({"epochs": 2.5}, r"field 'epochs': expected int"),
        ({"encoder": "lsmt"}, r"field 'encoder': unknown value 'lsmt' \(choose one of: lstm"),
        ({"pooling": "sum"}, r"field 'pooling': unknown value"),
        ({"dropout": 1.0}, r"field 'dropout': must be in \[0, 1\)"),
        ({"valid_fraction": 1.5}, r"field 'valid_fraction'"),
        ({"model": 3}, r"field 'model': section must be a mapping"),
        ({"encoder": "cnn", "bidirectional": True}, r"field 'bidirectional': the cnn encoder reads both"),
        ({"encoder": "transformer", "bidirectional": False, "pooling": "last"}, r"field 'pooling': 'last' pooling"),
        ({"encoder": "transformer", "bidirectional": False, "hidden_dim": 10, "num_heads": 4},
         r"field 'num_heads': hidden_dim 10 does not divide"),
        ({"kernel_sizes": "3,x"}, r"field 'kernel_sizes': expected widths"),
    ],
)
def test_bad_settings_name_the_field(values, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_dict(values)


def test_config_files(tmp_path):
    (tmp_path / "c.yaml").write_text("embed_dim: 32\nmodel:\n  hidden_dim: 8\n")
    (tmp_path / "c.json").write_text(json.dumps({"epochs": 2}))
    assert Config.from_dict(read_config_file(tmp_path / "c.yaml")).model.hidden_dim == 8
    assert read_config_file(tmp_path / "c.json") == {"epochs": 2}
    (tmp_path / "bad.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        read_config_file(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="cannot read config file"):
        read_config_file(tmp_path / "missing.yaml")


def test_classic_preset_is_the_textbook_setup():
    assert "classic" in preset_names()
    config = Config.from_dict(load_preset("classic"))
    assert (config.tokenizer.max_len, config.model.embed_dim, config.model.hidden_dim) == (10, 50, 64)
    assert config.model.pooling == "last" and not config.model.bidirectional
    with pytest.raises(ConfigError, match="unknown preset"):
        load_preset("nope")


def test_every_preset_is_a_valid_documented_configuration():
    assert {"classic", "fast", "accurate"} <= set(preset_names())
    for name in preset_names():
        Config.from_dict(load_preset(name), source=f"preset {name}")  # validates
    assert Config.from_dict(load_preset("fast")).model.encoder == "bag"


def _float_settings() -> list[str]:
    """Every setting that takes a number with a fraction (a float, or a list of them), from the config's own types."""
    import typing

    from seqclf.config import FIELD_TYPES

    def floats(hint) -> bool:
        return hint is float or any(floats(option) for option in typing.get_args(hint))

    return sorted(name for name, hint in FIELD_TYPES.items() if floats(hint))


NOT_FINITE = [float("nan"), float("inf"), float("-inf"), "nan", "NaN", "inf", "-Infinity", "1e999"]


def test_every_float_setting_is_found():
    assert {"lr", "threshold", "ngram_l2", "ngram_weight"} <= set(_float_settings())


@pytest.mark.parametrize("name", _float_settings())
@pytest.mark.parametrize("value", NOT_FINITE, ids=repr)
def test_no_float_setting_takes_nan_or_an_infinity(name, value):
    from seqclf.config import FIELD_TYPES

    given = [0.5, value] if "list" in str(FIELD_TYPES[name]) else value
    with pytest.raises(ConfigError, match=rf"field '{name}': must be a finite number"):
        Config.from_dict({name: given})


@pytest.mark.parametrize("text, name", [("lr: .nan\n", "cfg.yaml"), ("lr: .inf\n", "cfg.yaml"),
                                        ('{"lr": NaN}', "cfg.json"), ('{"train": {"lr": Infinity}}', "cfg.json")])
def test_a_config_file_with_nan_or_infinity_is_refused_naming_the_field(tmp_path, text, name):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match="field 'lr': must be a finite number"):
        Config().updated(read_config_file(path), source=str(path))
