"""A model's answers as data, from probabilities already computed: each text's class (or, multi-label, its
labels at or over their thresholds), its probabilities most probable first, and whether it was read
truncated or in windows. What `predict_top`, `seqclf predict` and `/v1/predict` give."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqclf.text.batching import Chunking
from seqclf.outputs import INDEPENDENT_NOTE


def labels_over_thresholds(probabilities: np.ndarray, thresholds: np.ndarray, classes: Sequence[str]) -> list[list[str]]:
    """Multi-label: each text's labels whose (N, C) probability reaches its (C,) threshold, most probable first."""
    order = np.argsort(-probabilities, axis=1, kind="stable")  # (N, C)
    chosen = probabilities >= thresholds  # (N, C)
    return [[classes[c] for c in row if picked[c]] for row, picked in zip(order.tolist(), chosen.tolist())]


def answers(probabilities: np.ndarray, tokens: np.ndarray, classes: Sequence[str], max_len: int,
            chunking: Chunking | None, thresholds: np.ndarray | None, top_k: int | None = None) -> list[dict]:
    """Per text: {"label", "probabilities"} with the `top_k` most probable classes (all by default), most
    probable first; with `thresholds` (a multi-label model), {"labels", "probabilities", "note"}. A text
    longer than max_len (`tokens`, (N,)) also gets "truncated": true or, with chunking, "windows": n."""
    k = len(classes) if top_k is None else max(1, min(top_k, len(classes)))
    order = np.argsort(probabilities, axis=1)[:, ::-1][:, :k].tolist()  # (N, k), most probable first
    shown = [{classes[i]: row[i] for i in top} for top, row in zip(order, probabilities.tolist())]
    if thresholds is not None:
        result = [{"labels": labels, "probabilities": p, "note": INDEPENDENT_NOTE}
                  for labels, p in zip(labels_over_thresholds(probabilities, thresholds, classes), shown)]
    else:
        result = [{"label": classes[top[0]], "probabilities": p} for top, p in zip(order, shown)]
    longer = np.flatnonzero(tokens > max_len)  # texts longer than max_len: said, never silent
    if chunking is None:
        for i in longer.tolist():
            result[i]["truncated"] = True
    else:
        for i, windows in zip(longer.tolist(), chunking.window_counts(tokens[longer]).tolist()):
            result[i]["windows"] = windows
    return result
