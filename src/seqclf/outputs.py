"""Stage 5's last step, from logits to what a model answers, in NumPy (no PyTorch): softmax over classes
for single-label models, a sigmoid per label for multi-label ones; and, for long texts read in windows,
each text's window logits pooled into one row.

PyTorch's side of the same choice is `Classifier.activate` (nn/classifier.py); tests check that both agree.
"""
from __future__ import annotations

import numpy as np

TASKS = ("single-label", "multi-label")
WINDOW_POOLINGS = ("mean", "max")
INDEPENDENT_NOTE = ("multi-label: each probability is its label's own (a sigmoid), so they do not sum to 1; "
                    "a label is predicted when its probability reaches its threshold")


def task_name(multi_label: bool) -> str:
    return TASKS[1] if multi_label else TASKS[0]


def probabilities(logits: np.ndarray, multi_label: bool) -> np.ndarray:
    """(N, C) float32 probabilities of (N, C) logits: rows sum to 1 (softmax), or each in (0, 1) (sigmoid)."""
    logits = np.asarray(logits, dtype=np.float32)  # no copy when it is float32 already (every engine's)
    if multi_label:
        out = np.exp(-logits)  # (N, C); in place from here: one text's call is microseconds
        out += 1.0
        return np.reciprocal(out, out=out)
    out = np.exp(logits - logits.max(axis=1, keepdims=True))  # (N, C)
    out /= out.sum(axis=1, keepdims=True)
    return out


def pool_windows(logits: np.ndarray, owners: np.ndarray, texts: int, how: str) -> np.ndarray:
    """(N, C) logits of `texts` texts from (W, C) logits of their windows; `owners` (W,) says whose window
    each row is (every text has at least one). `how`: mean or max over a text's windows."""
    logits = np.asarray(logits, dtype=np.float32)
    if len(owners) == texts:  # one window per text: nothing to pool
        out = np.empty_like(logits)
        out[owners] = logits
        return out
    if how == "max":
        out = np.full((texts, logits.shape[1]), -np.inf, dtype=np.float32)
        np.maximum.at(out, owners, logits)
        return out
    sums = np.zeros((texts, logits.shape[1]), dtype=np.float64)
    np.add.at(sums, owners, logits)
    return (sums / np.bincount(owners, minlength=texts)[:, None]).astype(np.float32)
