"""Long texts read in windows: each text's window logits pooled into one row, before the task's activation
(`seqclf.task`). The one home of window pooling, on NumPy arrays (what ONNX Runtime's path uses, never
importing PyTorch) and on PyTorch tensors (differentiable; through tensor methods, so this module imports no
PyTorch either); tests/unit/test_outputs.py checks that the two agree.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

WINDOW_POOLINGS = ("mean", "max")


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


def pool_window_tensors(logits: torch.Tensor, owners: torch.Tensor, texts: int, how: str) -> torch.Tensor:
    """`pool_windows` on tensors, differentiable, so that training reads every window of a text as prediction
    does: (N, C) logits of `texts` texts from the (W, C) logits of their windows, `owners` (W,)."""
    index = owners.to(logits.device).unsqueeze(1).expand_as(logits)  # (W, C)
    pooled = logits.new_zeros(texts, logits.size(1))  # (N, C)
    reduce = "amax" if how == "max" else "mean"
    return pooled.scatter_reduce(0, index, logits, reduce=reduce, include_self=False)

