"""Configuration: one dataclass per component, validated, serialized as JSON next to the weights.

Every field has a unique name across sections, so a flat mapping (CLI flags, a YAML file,
`TextClassifier(**kwargs)`) sets the same fields as the sectioned form that `config.json` stores.
"""
from __future__ import annotations

import codecs
import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Union

import yaml

from seqclf.errors import ConfigError

FORMATS = ("csv", "tsv", "jsonl", "fasttext")
QUOTINGS = ("auto", "csv", "none")
DELIMITER_NAMES = {"\\t": "\t", "tab": "\t"}  # what a shell lets one type for a tab
RECURRENT = ("lstm", "gru", "rnn")
ENCODERS = (*RECURRENT, "cnn", "transformer", "bag")
POOLINGS = ("last", "max", "mean", "attention")
LR_SCHEDULES = ("constant", "linear", "plateau")


def _help(text: str, **kwargs: Any) -> Any:
    return field(metadata={"help": text}, **kwargs)


@dataclass
class DataConfig:
    """Stage 1: how raw text files are read."""

    format: str | None = _help("csv | tsv | jsonl | fasttext; none = from the file extension", default=None)
    text_column: str = _help("column (or JSON key) holding the text", default="text")
    label_column: str = _help("column (or JSON key) holding the label", default="label")
    label_order: str = _help("order of the classes: sorted | first-seen", default="sorted")
    quoting: str = _help("csv and tsv: csv (RFC 4180: a field may be \"quoted\") | none (a quotation mark is an "
                         "ordinary character) | auto (csv for csv files, none for tsv files)", default="auto")
    delimiter: str | None = _help("csv and tsv: the character between fields, e.g. ';' (\\t or tab for a tab); "
                                  "none = ',' for csv, tab for tsv", default=None)
    encoding: str = _help("text encoding of data files, e.g. cp1252 or utf-16 (utf-8: a BOM is fine)",
                          default="utf-8")
    skip_bad_rows: bool = _help("skip malformed rows instead of failing; each one is reported (train: "
                                "skipped_rows.jsonl in the model directory)", default=False)

    def validate(self) -> None:
        _choice("format", self.format, FORMATS, allow_none=True)
        _choice("label_order", self.label_order, ("sorted", "first-seen"))
        _choice("quoting", self.quoting, QUOTINGS)
        for name in ("text_column", "label_column"):
            if not getattr(self, name):
                raise ConfigError("must not be empty", field=name)
        if self.delimiter is not None:
            if len(self.delimiter) != 1 or self.delimiter in "\"\r\n":
                raise ConfigError(f"must be one character other than a quotation mark or line break, got "
                                  f"{self.delimiter!r}", field="delimiter", hint="e.g. --delimiter ';' or --delimiter tab")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ConfigError(f"unknown encoding {self.encoding!r}", field="encoding",
                              hint="e.g. utf-8, cp1252, latin-1, utf-16") from None


@dataclass
class TokenizerConfig:
    """Stage 2: words to ids, then truncation/padding to max_len."""

    lowercase: bool = _help("lowercase text before splitting", default=True)
    min_freq: int = _help("keep words seen at least this often in the training data", default=1)
    max_size: int | None = _help("keep at most this many words (specials not counted); none = all", default=None)
    max_len: int | str = _help("tokens per sequence: an integer, or 'auto' (a high percentile of lengths)", default="auto")
    max_len_percentile: float = _help("percentile of training lengths used by max_len=auto", default=99.0)

    def validate(self) -> None:
        _at_least("min_freq", self.min_freq, 1)
        if self.max_size is not None:
            _at_least("max_size", self.max_size, 1)
        if self.max_len != "auto":
            _at_least("max_len", self.max_len, 1)
        if not 0 < self.max_len_percentile <= 100:
            raise ConfigError(f"must be in (0, 100], got {self.max_len_percentile}", field="max_len_percentile")


@dataclass
class ModelConfig:
    """Stages 3-5: embedding, sequence encoder, pooling, fully connected head."""

    encoder: str = _help("sequence encoder: " + " | ".join(ENCODERS), default="lstm")
    embed_dim: int = _help("features per token (stage 3)", default=300)
    hidden_dim: int = _help("encoder features per direction (stage 4)", default=100)
    num_layers: int = _help("stacked encoder layers", default=1)
    bidirectional: bool = _help("read each sequence in both directions", default=True)
    pooling: str = _help("sequence vector from the encoder's steps: " + " | ".join(POOLINGS), default="max")
    word_dropout: float = _help("share of training tokens replaced by <unk>, so unseen words get a trained "
                                "embedding", default=0.0)
    embed_dropout: float = _help("dropout on the embeddings", default=0.3)
    dropout: float = _help("dropout on the sequence vector (and between layers)", default=0.3)
    ngram_buckets: int = _help("hashed bigram embeddings added to the token embeddings (fastText style); "
                               "0 = none", default=0)
    kernel_sizes: str = _help("cnn: comma-separated convolution widths", default="3,4,5")
    num_heads: int = _help("transformer: attention heads (hidden_dim must divide by it)", default=4)

    def validate(self) -> None:
        _choice("encoder", self.encoder, ENCODERS)
        _choice("pooling", self.pooling, POOLINGS)
        for name in ("embed_dim", "hidden_dim", "num_layers", "num_heads"):
            _at_least(name, getattr(self, name), 1)
        _at_least("ngram_buckets", self.ngram_buckets, 0)
        if not all(part.strip().isdigit() and int(part) >= 1 for part in self.kernel_sizes.split(",")):
            raise ConfigError(f"expected widths like '3,4,5', got {self.kernel_sizes!r}", field="kernel_sizes")
        if self.encoder not in RECURRENT:
            if self.bidirectional:
                raise ConfigError(f"the {self.encoder} encoder reads both directions at once", field="bidirectional",
                                  hint="pass --no-bidirectional")
            if self.pooling == "last":
                raise ConfigError(f"'last' pooling needs a recurrent encoder, not {self.encoder}", field="pooling",
                                  hint="use max, mean or attention")
        if self.encoder == "transformer" and self.hidden_dim % self.num_heads:
            raise ConfigError(f"hidden_dim {self.hidden_dim} does not divide into {self.num_heads} heads",
                              field="num_heads")
        for name in ("word_dropout", "embed_dropout", "dropout"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ConfigError(f"must be in [0, 1), got {value}", field=name)

    @property
    def widths(self) -> list[int]:
        return [int(part) for part in self.kernel_sizes.split(",")]


@dataclass
class TrainConfig:
    """The training loop."""

    epochs: int = _help("passes over the training data", default=10)
    batch_size: int = _help("sequences per step", default=32)
    lr: float = _help("learning rate (AdamW)", default=2e-3)
    lr_schedule: str = _help("learning rate after warm-up: constant | linear (down to 0 at the end) | plateau "
                             "(halved after each epoch without a better validation accuracy)", default="constant")
    weight_decay: float = _help("AdamW weight decay (not applied to a sparse embedding)", default=1e-4)
    sparse_embedding: bool = _help("update only the embedding rows each batch uses (lazy Adam): much faster "
                                   "for large vocabularies", default=True)
    warmup: float = _help("share of the steps over which the learning rate rises linearly from 0", default=0.0)
    label_smoothing: float = _help("share of each target spread over the other classes", default=0.0)
    class_weight: str = _help("loss weight per class: none | balanced (inverse to class frequency)", default="none")
    patience: int | None = _help("stop after this many epochs without a better validation accuracy; "
                                 "none = run every epoch", default=None)
    max_grad_norm: float | None = _help("clip gradients to this norm; none = no clipping", default=5.0)
    vectors: str | None = _help("pretrained word vectors to start the embedding from (GloVe / word2vec / "
                                "fastText .vec text, .gz too); their dimension must be embed_dim", default=None)
    freeze_vectors: bool = _help("keep the pretrained vectors fixed instead of fine-tuning them", default=False)
    checkpoint_every: int | None = _help("also write the resume checkpoint every this many steps (it is always "
                                         "written after each epoch); none = epochs only", default=None)
    seed: int = _help("random seed: the same seed gives the same metrics on CPU", default=13)
    valid_fraction: float = _help("share of the training data held out when no validation file is given", default=0.1)
    threads: int | None = _help("CPU threads for torch; none = the process's share of the cores", default=None)
    device: str = _help("where to train: auto (a GPU if there is one) | cpu | cuda | mps", default="auto")
    precision: str = _help("fp32, or automatic mixed precision on CUDA: bf16 | fp16", default="fp32")

    def validate(self) -> None:
        for name in ("epochs", "batch_size"):
            _at_least(name, getattr(self, name), 1)
        _choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _choice("class_weight", self.class_weight, ("none", "balanced"))
        _choice("device", self.device, DEVICES)
        _choice("precision", self.precision, PRECISIONS)
        for name in ("warmup", "label_smoothing"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"must be in [0, 1), got {getattr(self, name)}", field=name)
        if self.patience is not None:
            _at_least("patience", self.patience, 1)
        if self.lr <= 0:
            raise ConfigError(f"must be > 0, got {self.lr}", field="lr")
        if self.weight_decay < 0:
            raise ConfigError(f"must be >= 0, got {self.weight_decay}", field="weight_decay")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise ConfigError(f"must be > 0 or none, got {self.max_grad_norm}", field="max_grad_norm")
        if not 0 <= self.valid_fraction < 1:
            raise ConfigError(f"must be in [0, 1), got {self.valid_fraction}", field="valid_fraction")
        for name in ("threads", "checkpoint_every"):
            if getattr(self, name) is not None:
                _at_least(name, getattr(self, name), 1)


DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")

SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "tokenizer": TokenizerConfig,
    "model": ModelConfig,
    "train": TrainConfig,
}


@dataclass
class Config:
    """All settings of one model: what `config.json` stores and `seqclf train` flags set."""

    data: DataConfig = field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> Config:
        for section in SECTIONS:
            getattr(self, section).validate()
        return self

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def updated(self, values: dict[str, Any], source: str = "settings") -> Config:
        """A copy with `values` applied; keys are field names, or section names holding such keys."""
        sections = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        for key, value in _flatten(values, source).items():
            section = FIELD_SECTION.get(key)
            if section is None:
                raise ConfigError(f"unknown setting in {source}", field=key, hint=_known_fields_hint(key))
            sections[section][key] = _coerce(key, value, FIELD_TYPES[key])
        return Config(**{name: SECTIONS[name](**sections[name]) for name in SECTIONS}).validate()

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "settings") -> Config:
        return cls().updated(values, source)


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


FIELD_SECTION: dict[str, str] = {f.name: s for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
FIELD_TYPES: dict[str, Any] = {
    name: hint for cls in SECTIONS.values() for name, hint in typing.get_type_hints(cls).items()
}
FIELD_HELP: dict[str, str] = {
    f.name: f.metadata["help"] for cls in SECTIONS.values() for f in dataclasses.fields(cls)
}


def _known_fields_hint(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, FIELD_SECTION, n=1)
    return f"did you mean '{close[0]}'?" if close else "see `seqclf train --help` for the settings"


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Convert a value from YAML, JSON or a command-line string to the field's type."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (Union, types.UnionType) else (hint,)
    if type(None) in options and (value is None or (isinstance(value, str) and value.lower() in ("none", "null"))):
        return None
    if name == "max_len" and isinstance(value, str) and value.lower() == "auto":
        return "auto"
    if name == "delimiter" and value in DELIMITER_NAMES:
        return DELIMITER_NAMES[value]
    for option in options:
        if option is type(None) or (option is str and name == "max_len"):
            continue
        try:
            return _coerce_to(option, value)
        except (TypeError, ValueError):
            continue
    expected = " or ".join("none" if o is type(None) else getattr(o, "__name__", str(o)) for o in options)
    if name == "max_len":
        expected = "an integer or 'auto'"
    raise ConfigError(f"expected {expected}, got {value!r}", field=name)


def _coerce_to(kind: type, value: Any) -> Any:
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


def _choice(name: str, value: Any, allowed: tuple[str, ...], allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value not in allowed:
        raise ConfigError(f"unknown value {value!r}", field=name, hint="choose one of: " + ", ".join(allowed))


def _at_least(name: str, value: int, low: int) -> None:
    if value < low:
        raise ConfigError(f"must be >= {low}, got {value}", field=name)


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
