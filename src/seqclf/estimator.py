"""scikit-learn's estimator protocol over a classifier's settings, so that `clone`, `cross_val_score`,
`GridSearchCV` and a `Pipeline` can use `TextClassifier`: `get_params` / `set_params` over every setting
by its field name, `score` (accuracy; subset accuracy for a multi-label model), scikit-learn's tags, and
whether it is fitted. The settings are what the user asked for: `fit` never changes them.

`get_params` gives each setting as it was passed (scikit-learn's `clone` checks that a new classifier
keeps the very objects it was given) and every other at the value the settings resolved to (a `bag`
encoder's `bidirectional` is False), so that a classifier made from them is the same classifier.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seqclf.config import FIELD_SECTION, Config


class SettingsEstimator:
    """The settings half of a classifier: `config`, what was asked for, and scikit-learn's protocol over it.
    A subclass provides `evaluate(texts, labels)` (for `score`) and `_parts` (None until fitted)."""

    _parts: Any

    def __init__(self, config: Config | None = None, **settings: Any) -> None:
        self._given = dict(settings)  # each as passed: get_params returns these very objects
        self.config = (config or Config()).updated(settings)  # what was asked for; training never changes it

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every setting by its field name (`deep` has no nested estimators to reach into)."""
        resolved = {name: getattr(getattr(self.config, section), name) for name, section in FIELD_SECTION.items()}
        return {**resolved, **self._given}

    def set_params(self, **settings: Any) -> SettingsEstimator:
        """These settings from now on (checked first: a bad one changes nothing); a fitted model keeps its own."""
        self.config = self.config.updated(settings, source="set_params")
        self._given.update(settings)
        return self

    def score(self, texts: Sequence[str], labels: Sequence[object]) -> float:
        """Accuracy on labelled texts (multi-label: the share of texts whose label set is exactly right)."""
        return float(self.evaluate(texts, labels)["accuracy"])

    def __sklearn_is_fitted__(self) -> bool:
        return self._parts is not None

    def __sklearn_tags__(self):  # called by scikit-learn only, so it is there to import
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True, one_d_labels=True),
                    classifier_tags=ClassifierTags(multi_label=True),
                    input_tags=InputTags(one_d_array=True, two_d_array=False, string=True), non_deterministic=False)
