"""A model's answers as data, from probabilities already computed: each text's class (or, multi-label, its
labels at or over their thresholds) with its probabilities most probable first, as the model's task shapes
it (`Task.answers`), and whether it was read truncated or in windows. What `predict_top`, `seqclf predict`
and `/v1/predict` give."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqclf.text.batching import Chunking
from seqclf.task import Task


def answers(task: Task, probabilities: np.ndarray, tokens: np.ndarray, classes: Sequence[str], max_len: int,
            chunking: Chunking | None, thresholds: np.ndarray | None, top_k: int | None = None) -> list[dict]:
    """Per text: {"label", "probabilities"} with the `top_k` most probable classes (all by default), most
    probable first; with `thresholds` (a multi-label model), {"labels", "probabilities", "note"}. A text
    longer than max_len (`tokens`, (N,)) also gets "truncated": true or, with chunking, "windows": n."""
    result = task.answers(probabilities, thresholds, classes, top_k)
    longer = np.flatnonzero(tokens > max_len)  # texts longer than max_len: said, never silent
    if chunking is None:
        for i in longer.tolist():
            result[i]["truncated"] = True
    else:
        for i, windows in zip(longer.tolist(), chunking.window_counts(tokens[longer]).tolist()):
            result[i]["windows"] = windows
    return result
