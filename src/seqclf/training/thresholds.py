"""Multi-label decision thresholds, chosen on validation data: a label is predicted when its probability
reaches its threshold. `per-label` maximizes each label's F1 on its own (the rule Flair's users asked for);
`global` chooses one threshold for every label by micro-F1; a number is used as given."""
from __future__ import annotations

import numpy as np

UNINFORMED = 0.5  # a label without positive validation examples: its F1 is 0 at any threshold
BOUNDS = (0.001, 0.999)  # thresholds stay inside (0, 1)


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The threshold t that maximizes the F1 of `scores >= t` against 0/1 `truth`: midway between the
    lowest score predicted positive and the next score below it (ties fall on the same side)."""
    scores, truth = np.asarray(scores, dtype=np.float64), np.asarray(truth) > 0.5  # (N,) each
    positives = int(truth.sum())
    if positives == 0:
        return UNINFORMED
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], np.cumsum(truth[order])  # the top k + 1 predicted positive: hits[k] right
    f1 = 2 * hits / (np.arange(1, len(ranked) + 1) + positives)  # 2 TP / (predicted + actual)
    cut_allowed = np.r_[ranked[1:] < ranked[:-1], True]  # never between equal scores
    best = int(np.argmax(np.where(cut_allowed, f1, -1.0)))
    below = ranked[best + 1] if best + 1 < len(ranked) else 0.0
    return float(np.clip((ranked[best] + below) / 2, *BOUNDS))


def choose_thresholds(probabilities: np.ndarray, truth: np.ndarray | None, rule: str | float) -> list[float]:
    """One threshold per label (columns of (N, C) `probabilities`) by `rule`: per-label, global, or a number.
    Without validation data (`truth` None), a rule other than a number gives 0.5 to every label."""
    labels = probabilities.shape[1]
    if isinstance(rule, float):
        return [rule] * labels
    if truth is None:
        return [UNINFORMED] * labels
    if rule == "global":
        return [best_threshold(probabilities.ravel(), truth.ravel())] * labels
    return [best_threshold(probabilities[:, c], truth[:, c]) for c in range(labels)]
