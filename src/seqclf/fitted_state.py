"""What training learned besides the weights: the fitted state, apart from the settings the user gave.

`Config` (config.json) holds what was asked: `max_len: auto`, `combine: auto`, `calibrate: true`.
`FittedState` (fitted.json, beside it in the model directory) holds what training made of it: the
max_len the tokenizer resolved, the combination chosen on validation data, the temperature fitted,
the multi-label thresholds, the task the data turned out to be, and the fingerprint of the weights
written. None of it is a flag; training never writes it into the settings.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from seqclf.errors import ConfigError
from seqclf.fields import finite_number
from seqclf.task import Task, task_named


@dataclass(frozen=True)
class FittedState:
    """What one training run learned besides the weights (scikit-learn's fitted attributes)."""

    task: Task  # what the training labels made it: single-label, or multi-label (label sets)
    max_len: int  # tokens read per sequence, as resolved (settings may say `auto`)
    vocab_size: int  # ids of the tokenizer, special tokens included
    num_classes: int  # outputs of the model, in labels.json's order
    temperature: float = 1.0  # the logits are divided by it before softmax (calibration; 1: none)
    thresholds: tuple[float, ...] | None = None  # multi-label: each label's probability threshold
    combine: str | None = None  # several models: the combination rule chosen
    ngram_weight: float | None = None  # several models: the n-gram evidence's share (0 without it)
    ngram_l2: float | None = None  # n-gram evidence: the L2 penalty chosen
    weights_fingerprint: str | None = None  # of the weights saved beside it (ties an ONNX graph to them)

    def with_values(self, **values: Any) -> FittedState:
        return dataclasses.replace(self, **values)

    def to_dict(self) -> dict[str, Any]:
        values = {**dataclasses.asdict(self), "task": self.task.name}
        values["thresholds"] = None if self.thresholds is None else list(self.thresholds)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FittedState:
        """The state fitted.json records, every field checked; a problem is a ConfigError naming the field."""
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ConfigError("not a fitted value", field=unknown[0], hint="fitted values: " + ", ".join(names))
        missing = [name for name in ("task", "max_len", "vocab_size", "num_classes") if name not in values]
        if missing:
            raise ConfigError("missing", field=missing[0])
        thresholds = values.get("thresholds")
        if thresholds is not None and not isinstance(thresholds, list):
            raise ConfigError(f"expected a list of numbers, got {thresholds!r}", field="thresholds")
        if not isinstance(values["task"], str):
            raise ConfigError(f"expected a task's name, got {values['task']!r}", field="task")
        return cls(**{**values, "task": task_named(values["task"]),
                      "thresholds": None if thresholds is None else tuple(thresholds)}).checked()

    def checked(self) -> FittedState:
        for name, least in (("max_len", 1), ("vocab_size", 1), ("num_classes", 2)):
            value = getattr(self, name)
            if type(value) is not int or value < least:
                raise ConfigError(f"expected an integer of at least {least}, got {value!r}", field=name)
        if not finite_number(self.temperature) or self.temperature <= 0:
            raise ConfigError(f"must be a number > 0, got {self.temperature!r}", field="temperature")
        self.task.check_thresholds(self.thresholds, self.num_classes)
        if self.combine is not None and not isinstance(self.combine, str):
            raise ConfigError(f"expected a rule's name, got {self.combine!r}", field="combine")
        if self.ngram_weight is not None and not (finite_number(self.ngram_weight) and 0 <= self.ngram_weight <= 1):
            raise ConfigError(f"must be in [0, 1], got {self.ngram_weight!r}", field="ngram_weight")
        if self.ngram_l2 is not None and not (finite_number(self.ngram_l2) and self.ngram_l2 > 0):
            raise ConfigError(f"must be a number > 0, got {self.ngram_l2!r}", field="ngram_l2")
        if self.weights_fingerprint is not None and not isinstance(self.weights_fingerprint, str):
            raise ConfigError(f"expected a string, got {self.weights_fingerprint!r}", field="weights_fingerprint")
        return self
