"""Model directories of format versions 1-3, read as today's: their config.json held the fitted state
among the settings (the task, the resolved max_len, the combination chosen, the temperature, the
thresholds, the sizes); `split_fitted` takes it out, so such a directory loads as one saved now.
"""
from __future__ import annotations

import copy
from typing import Any

COMBINATION = ("combine", "ngram_weight")  # model section: resolved when the model combines several


def split_fitted(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A version 1-3 config.json (without format_version and checksums) as (settings, fitted values): the
    settings as they would have been given (resolved values stay, as nothing says they were `auto`), and
    the values `FittedState.from_dict` reads."""
    settings = copy.deepcopy(raw)
    model, tokenizer, train = (settings.get(name, {}) for name in ("model", "tokenizer", "train"))
    fitted: dict[str, Any] = {
        "task": settings.pop("task", "single-label"),
        "vocab_size": settings.pop("vocab_size", None),
        "num_classes": settings.pop("num_classes", None),
        "max_len": tokenizer.get("max_len") if isinstance(tokenizer, dict) else None,
    }
    if isinstance(model, dict):
        fitted["temperature"] = model.pop("temperature", 1.0)
        fitted["thresholds"] = model.pop("thresholds", None)
        if model.get("ensemble", 1) != 1 or model.get("ngram_evidence", False):
            fitted.update({name: model.get(name) for name in COMBINATION})
            if model.get("ngram_evidence", False) and isinstance(train, dict):
                fitted["ngram_l2"] = train.get("ngram_l2")
    return settings, fitted
