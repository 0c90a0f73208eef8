"""All settings of one model: the four component configs as one object, as `config.json` stores them
and as flags, config files, presets and `TextClassifier(**settings)` set them.

Each section is its component's own dataclass, validated against that component's registries
(`DataConfig` in data/settings.py, `TokenizerConfig` in text/tokenizer.py, `ModelConfig` in
nn/classifier.py, `TrainConfig` in training/settings.py). Every field has a unique name across
sections, so a flat mapping sets the same fields as the sectioned form.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Union

import yaml

from seqclf.data.settings import DataConfig
from seqclf.errors import ConfigError
from seqclf.nn.settings import ENCODER_NAMES, ENSEMBLE_FIELDS, RECURRENT_NAMES, ModelConfig
from seqclf.text.tokenizer import TokenizerConfig
from seqclf.training.settings import MEMBER_TRAIN_FIELDS, TrainConfig

SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "tokenizer": TokenizerConfig,
    "model": ModelConfig,
    "train": TrainConfig,
}


@dataclass(frozen=True)
class Member:
    """One sequence model of an ensemble of recipes (`ensemble: fast,accurate,cnn`): the recipe that named it
    and the settings the recipe gives it (of `MEMBER_FIELDS`: stages 3-5 and the training loop); the rest
    (data, tokenizer, combination, seed, device, ...) is the ensemble's. Resolved when `ensemble` is set and
    kept in config.json, so that a model is rebuilt as it was trained whatever later presets say."""

    recipe: str
    settings: dict[str, Any]


@dataclass
class Config:
    """All settings of one model: what `config.json` stores and `seqclf train` flags set."""

    data: DataConfig = field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    members: tuple[Member, ...] = ()  # an ensemble of recipes: each sequence model's recipe; else empty

    def validate(self) -> Config:
        for section in SECTIONS:
            getattr(self, section).validate()
        # spans two sections
        self.data.task.check_combinable(self.model.sequence_models, self.model.ngram_evidence)
        if [member.recipe for member in self.members] != self.model.recipes:
            raise ConfigError(f"the members' recipes {[m.recipe for m in self.members]} are not those of ensemble "
                              f"{self.model.ensemble!r}", field="members", hint="set ensemble, not members")
        self.member_configs()  # each sequence model's settings checked too
        return self

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["members"] = list(values["members"])  # as JSON reads it back
        if not self.members:
            del values["members"]
        return values

    def updated(self, values: dict[str, Any], source: str = "settings") -> Config:
        """A copy with `values` applied; keys are field names, or section names holding such keys (and
        `members`, as config.json records an ensemble of recipes; else they are resolved from `ensemble`)."""
        values = dict(values)
        given_members = values.pop("members", None)
        sections = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        flat = _flatten(values, source)
        for key, value in flat.items():
            section = FIELD_SECTION.get(key)
            if section is None:
                raise ConfigError(f"unknown setting in {source}", field=key, hint=_known_fields_hint(key))
            sections[section][key] = _coerce(key, value, FIELD_TYPES[key])
        _adapt_defaults(sections["model"], flat)
        model = ModelConfig(**sections["model"])
        model.validate()  # `ensemble`'s recipes are names before they are resolved
        members = (_members_read(given_members, source) if given_members is not None
                   else tuple(Member(recipe, recipe_settings(recipe)) for recipe in model.recipes)
                   if "ensemble" in flat else self.members)
        return Config(**{name: SECTIONS[name](**sections[name]) for name in SECTIONS}, members=members).validate()

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "settings") -> Config:
        return cls().updated(values, source)

    def member_configs(self) -> list[Config]:
        """Each sequence model's own settings: these, `ensemble` times; or, for an ensemble of recipes, these
        with each recipe's settings applied, as one model (no ensemble or n-gram evidence of its own)."""
        if not self.members:
            return [self] * self.model.sequence_models
        configs = []
        for number, member in enumerate(self.members, 1):
            try:
                configs.append(self.updated({**member.settings, "ensemble": 1, "ngram_evidence": False}))
            except ConfigError as exc:
                raise ConfigError(f"ensemble member {number} ({member.recipe}): {exc.problem}", field=exc.field,
                                  hint=exc.hint) from None
        return configs

    @property
    def encoders(self) -> list[str]:
        """Each sequence model's encoder."""
        return [config.model.encoder for config in self.member_configs()]


MEMBER_FIELDS = (*(f.name for f in dataclasses.fields(ModelConfig) if f.name not in ENSEMBLE_FIELDS),
                 *MEMBER_TRAIN_FIELDS)


def recipe_settings(recipe: str) -> dict[str, Any]:
    """What a recipe of `ensemble` sets: an encoder's name sets the encoder; a preset, its settings of
    stages 3-5 and of the training loop (not its tokenizer's, nor its own ensemble's)."""
    if recipe in ENCODER_NAMES:
        return {"encoder": recipe}
    if recipe in preset_names():
        return {key: value for key, value in _flatten(load_preset(recipe), recipe).items() if key in MEMBER_FIELDS}
    raise ConfigError(f"unknown recipe {recipe!r}", field="ensemble", hint="a recipe is a preset (" + ", ".join(
        preset_names()) + ") or an encoder (" + ", ".join(ENCODER_NAMES) + ")")


def _members_read(values: Any, source: str) -> tuple[Member, ...]:
    """config.json's members, each checked: a recipe's name and settings of `MEMBER_FIELDS`."""
    if not isinstance(values, list) or not all(isinstance(value, dict) and set(value) == {"recipe", "settings"}
                                               and isinstance(value["recipe"], str)
                                               and isinstance(value["settings"], dict) for value in values):
        raise ConfigError(f"expected a list of {{recipe, settings}} in {source}", field="members")
    for value in values:
        unknown = sorted(set(value["settings"]) - set(MEMBER_FIELDS))
        if unknown:
            raise ConfigError(f"not a setting of one sequence model in {source}", field=unknown[0],
                              hint="its own settings are stages 3-5's and the training loop's")
    return tuple(Member(value["recipe"], {key: _coerce(key, item, FIELD_TYPES[key])
                                          for key, item in value["settings"].items()}) for value in values)


def _adapt_defaults(model: dict[str, Any], given: dict[str, Any]) -> None:
    """A setting not given that cannot hold for the encoder given follows it: an encoder that does not read
    in a direction (bag, cnn, transformer) is not bidirectional unless `bidirectional` was asked for."""
    if "bidirectional" not in given and model["encoder"] not in RECURRENT_NAMES:
        model["bidirectional"] = False


def _flatten(values: dict[str, Any], source: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"section must be a mapping in {source}", field=key)
            flat.update(value)
        else:
            flat[key] = value
    return flat


FIELDS: dict[str, dataclasses.Field] = {f.name: f for cls in SECTIONS.values() for f in dataclasses.fields(cls)}
FIELD_SECTION: dict[str, str] = {f.name: s for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
FIELD_TYPES: dict[str, Any] = {
    name: hint for cls in SECTIONS.values() for name, hint in typing.get_type_hints(cls).items()
}
FIELD_HELP: dict[str, str] = {name: f.metadata["help"] for name, f in FIELDS.items()}


def _known_fields_hint(key: str) -> str:
    close = difflib.get_close_matches(key, FIELD_SECTION, n=1)
    return f"did you mean '{close[0]}'?" if close else "see `seqclf train --help` for the settings"


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Convert a value from YAML, JSON or a command-line string to the field's type."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (Union, types.UnionType) else (hint,)
    if type(None) in options and (value is None or (isinstance(value, str) and value.lower() in ("none", "null"))):
        return None
    if name == "max_len" and isinstance(value, str) and value.lower() == "auto":
        return "auto"
    normalize = FIELDS[name].metadata["normalize"]
    if normalize is not None:
        value = normalize(value)
    for option in options:
        if option is type(None) or (option is str and name == "max_len"):
            continue
        try:
            coerced = _coerce_to(option, value)
        except (TypeError, ValueError):
            continue
        if any(isinstance(number, float) and not math.isfinite(number)
               for number in (coerced if isinstance(coerced, list) else [coerced])):
            raise ConfigError(f"must be a finite number, got {value!r}", field=name)
        return coerced
    expected = " or ".join("none" if o is type(None) else "a list of numbers" if typing.get_origin(o) is list
                           else getattr(o, "__name__", str(o)) for o in options)
    if name == "max_len":
        expected = "an integer or 'auto'"
    raise ConfigError(f"expected {expected}, got {value!r}", field=name)


def _coerce_to(kind: type, value: Any) -> Any:
    if typing.get_origin(kind) is list:
        if not isinstance(value, list):
            raise ValueError(value)
        return [_coerce_to(typing.get_args(kind)[0], item) for item in value]
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ValueError(value)
    if kind is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return int(value)
    if kind is float:
        if isinstance(value, bool):
            raise ValueError(value)
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    raise TypeError(kind)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Settings from a YAML or JSON file (flat, or sectioned like config.json)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("config file is not UTF-8 text", path=path) from None
    try:
        values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot parse config file: {exc}".splitlines()[0], path=path) from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError("config file must hold a mapping of setting: value", path=path)
    return values


def _presets_dir() -> Any:
    return resources.files("seqclf").joinpath("presets")


def preset_names() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in _presets_dir().iterdir() if p.name.endswith(".yaml"))


def load_preset(name: str) -> dict[str, Any]:
    """Settings of a named preset stored as YAML in the package."""
    if name not in preset_names():
        raise ConfigError(f"unknown preset {name!r}", field="preset", hint="choose one of: " + ", ".join(preset_names()))
    return yaml.safe_load(_presets_dir().joinpath(f"{name}.yaml").read_text("utf-8")) or {}
