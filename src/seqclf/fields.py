"""What every component's config dataclass is made of: fields with a help text, and the checks
their `validate()` methods share. Errors name the field, as the command line and config files do."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection
from typing import Any

from seqclf.errors import ConfigError


def setting(help: str, *, default: Any, normalize: Callable[[Any], Any] | None = None) -> Any:
    """A config field. `help` is shown by `--help` and in docs/settings.md's table; `normalize` maps a
    value as typed (a flag, a YAML value) to the stored one, e.g. 'tab' to a tab."""
    return dataclasses.field(default=default, metadata={"help": help, "normalize": normalize})


def choices_text(choices: Collection[str]) -> str:
    return " | ".join(choices)


def check_choice(name: str, value: Any, choices: Collection[str], allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value not in choices:
        raise ConfigError(f"unknown value {value!r}", field=name, hint="choose one of: " + ", ".join(choices))


def check_at_least(name: str, value: int | float, low: int | float) -> None:
    if value < low:
        raise ConfigError(f"must be >= {low}, got {value}", field=name)


def check_fraction(name: str, value: float) -> None:
    """A share: 0 <= value < 1."""
    if not 0 <= value < 1:
        raise ConfigError(f"must be in [0, 1), got {value}", field=name)


def finite_number(value: object) -> bool:
    """An int or float (not a bool) that is finite: what a number read from JSON or YAML must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
