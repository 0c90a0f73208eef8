"""Batch prediction over files no machine holds, with Ray Data (the `ray` extra): the stateful batch
inference Ray documents, a callable class that loads the model once per actor and labels batches.

    import ray
    from seqclf.ray_data import SeqclfPredictor

    texts = ray.data.read_text("reviews/*.txt", drop_empty_lines=False)  # one row per line, blank ones too
    labeled = texts.map_batches(SeqclfPredictor, fn_constructor_kwargs={"model": "model"},
                                compute=ray.data.ActorPoolStrategy(size=2), num_cpus=1, batch_size=4096)
    labeled.write_json("labeled/")

Each row gets what `seqclf predict` gives a line: "label" and "probabilities" (in the model's class order,
so that every batch has one schema; a multi-label model: "labels"), or, for a blank text, no label and
"error". An actor computes on `threads` threads (default 1, as it asks Ray for one CPU), so actors do not
contend for cores.
"""
from __future__ import annotations

import numpy as np

from seqclf.api import BackendConfig, TextClassifier
from seqclf.reading import BadRow

EMPTY = "empty text"


class SeqclfPredictor:
    """A Ray Data `map_batches` class: `__init__` loads the model directory once per actor, `__call__`
    labels a batch (a dict of NumPy columns) read by column `text_column`."""

    def __init__(self, model: str, text_column: str = "text", top_k: int | None = None, backend: str = "auto",
                 threads: int = 1) -> None:
        self.model = TextClassifier.load(model, BackendConfig(backend, threads=threads))
        self.text_column, self.top_k = text_column, top_k

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch[self.text_column]]
        inputs = [text if text.strip() else BadRow("batch", None, EMPTY, text, self.text_column) for text in texts]
        results = self.model.predict_inputs(inputs, self.top_k)
        multi_label = any(result is not None and "labels" in result for result in results)
        key = "labels" if multi_label else "label"
        return {**batch,
                key: _column([None if result is None else result[key] for result in results]),
                "probabilities": _column([None if result is None else self._in_class_order(result["probabilities"])
                                          for result in results]),
                "error": _column([EMPTY if result is None else None for result in results])}


    def _in_class_order(self, probabilities: dict[str, float]) -> dict[str, float]:
        return {name: probabilities[name] for name in self.model.classes_ if name in probabilities}


def _column(values: list) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column
