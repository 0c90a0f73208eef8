"""The data-flow table: the shape of a whole data set after each stage, from the model's one forward path
(`forward_stages`, the path `forward` and so `predict` take), with the first sequence's values beside
it. Also the helpers the prediction trace (`seqclf.trace`) shares: previews and the first sequence's
stages.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from seqclf.text.batching import Chunking
from seqclf.text.tensors import pad_batch
from seqclf.inference import text_logits
from seqclf.ids import EncodedCorpus
from seqclf.nn.classifier import Classifier
from seqclf.nn.ensemble import Ensemble
from seqclf.nn.modes import device_of, eval_mode
from seqclf.text.tokenizer import WordTokenizer

PREVIEW = 6


def preview(values: Sequence[float], n: int = PREVIEW) -> str:
    shown = ", ".join(f"{v:.3f}" for v in values[:n])
    return f"[{shown}{', …' if len(values) > n else ''}]"


def ids_preview(ids: list[int], length: int, n: int = 8) -> str:
    shown = ", ".join(map(str, ids[:n])) + (", …" if len(ids) > n else "")
    return f"[{shown}] (length {length}, {len(ids) - length} padding)"


def first_sequence_stages(model: Classifier, corpus: EncodedCorpus, max_len: int) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Every stage's output for the corpus's first sequence, padded to max_len as in the classic picture."""
    ids, lengths = pad_batch(corpus, np.arange(1), length=max_len)  # (1, T), (1,)
    device = device_of(model)
    with eval_mode(model), torch.inference_mode():
        stages = model.forward_stages(ids.to(device), lengths.to(device))
    return stages, ids, lengths


@dataclass
class FlowRow:
    stage: str
    operation: str
    shape: list[int | str]
    example: str

    @property
    def shape_text(self) -> str:
        return " x ".join(str(s) for s in self.shape)


@dataclass
class DataFlow:
    """The shape of the whole data set after each stage, with a small example value at each."""

    rows: list[FlowRow]

    def summary(self) -> str:
        return " -> ".join(row.shape_text for row in self.rows)

    def to_dict(self) -> dict:
        return {"rows": [asdict(r) for r in self.rows], "summary": self.summary()}

    def with_batch_axis(self, name: str) -> DataFlow:
        """The same table with the batch axis named (e.g. "N": any number of texts)."""
        return DataFlow([replace(row, shape=[name, *row.shape[1:]]) for row in self.rows])


def data_flow(model: Classifier, tokenizer: WordTokenizer, classes: Sequence[str], corpus: EncodedCorpus,
              first: str, thresholds: Sequence[float] | None = None, chunking: Chunking | None = None) -> DataFlow:
    """The table for a whole encoded data set; `first` is the text of its first sequence. A multi-label
    model's `thresholds` and the `chunking` of long texts, if any, are shown as the steps they are."""
    n = texts = len(corpus)
    stages, ids, lengths = first_sequence_stages(model, corpus, tokenizer.max_len)
    config, max_len = model.config, tokenizer.max_len
    words = corpus.length_histogram()  # (longest + 1,) texts of each length, before truncation
    shortest, longest, longer = int(np.flatnonzero(words)[0]), len(words) - 1, int(words[max_len + 1 :].sum())
    encoder = f"{'bi' if config.bidirectional else ''}{config.encoder}, {config.num_layers} layer(s)"
    rows = [
        FlowRow("1 raw text", f"{n} texts, {shortest}-{longest} tokens", [n, "variable"],
                repr(first if len(first) <= 40 else first[:39] + "…")),
    ]
    if chunking is None:
        cut = f", {longer} truncated" if longer else ""
        rows.append(FlowRow("2 token ids", f"tokenize, pad/truncate to {max_len}{cut}", [n, max_len],
                            ids_preview(ids[0].tolist(), int(lengths[0]))))
    else:
        n = len(chunking.windows(corpus)[1])  # windows: stages 3-5 run on each
        rows.append(FlowRow("2 windows", f"tokenize; {longer} texts longer than {max_len} cut into windows of "
                            f"{max_len} (stride {chunking.stride}), pad", [n, max_len],
                            ids_preview(ids[0].tolist(), int(lengths[0]))))
    rows += [
        FlowRow("3 embedding", f"lookup, {config.embed_dim} features per token", [n, *stages["embedded"].shape[1:]],
                "token 1: " + preview(stages["embedded"][0, 0].tolist(), 3)),
        FlowRow("4 encoder", f"{encoder}, one vector per step", [n, *stages["encoded"].shape[1:]],
                f"step {int(lengths[0])}: " + preview(stages["encoded"][0, int(lengths[0]) - 1].tolist(), 3)),
        FlowRow("4 pooling", f"{config.pooling} -> one vector per sequence", [n, *stages["pooled"].shape[1:]],
                preview(stages["pooled"][0].tolist(), 3)),
        FlowRow("5 fully connected", f"{stages['pooled'].shape[1]} -> {len(classes)} logits",
                [n, len(classes)], preview(stages.get("head_logits", stages["logits"])[0].tolist(), 3)),
    ]
    if isinstance(model, Ensemble):
        rows += _ensemble_rows(model, stages, n, len(classes))
    if model.temperature != 1.0:
        rows.append(FlowRow("5 temperature", f"logits / {model.temperature:.3f} (calibrated on validation data)",
                            [n, len(classes)], preview(stages["logits"][0].tolist(), 3)))
    logits = stages["logits"][:1]  # (1, C) of the first text (its first window)
    if chunking is not None:
        logits = chunked_logits(model, corpus, chunking)
        rows.append(FlowRow("5 window pooling", f"{chunking.pooling} of each text's window logits", [texts, len(classes)],
                            preview(logits[0].tolist(), 3)))
    probabilities = model.activate(logits)[0]  # (C,)
    if model.task.label_sets:
        rows.append(FlowRow("5 sigmoid", "each label's own probability (they do not sum to 1)",
                            [texts, len(classes)], preview(probabilities.tolist(), 3)))
        chosen = [c for c, p, t in zip(classes, probabilities.tolist(), thresholds) if p >= t]
        rows.append(FlowRow("5 thresholds", "labels at or over their thresholds (" + ", ".join(
            f"{t:.2f}" for t in thresholds[:4]) + (", …" if len(thresholds) > 4 else "") + ")",
            [texts, "0-" + str(len(classes))], "{" + ", ".join(chosen) + "}"))
    else:
        rows.append(FlowRow("5 softmax", "probabilities over " + ", ".join(classes), [texts, len(classes)],
                            preview(probabilities.tolist(), 3)))
    return DataFlow(rows)


def chunked_logits(model: Classifier, corpus: EncodedCorpus, chunking: Chunking) -> torch.Tensor:
    """(1, C) logits of the corpus's first text, pooled over its windows (`text_logits` runs in eval mode)."""
    return text_logits(model, corpus, np.arange(1), chunking).to(device_of(model))


def _ensemble_rows(model: Ensemble, stages: dict, n: int, classes: int) -> list[FlowRow]:
    log_probs = stages["model_log_probs"][:, 0]  # (M, C) of the first text
    rows = []
    if len(model.members) > 1:
        mixed = len(set(model.encoders)) > 1  # an ensemble of recipes: which encoder each model has
        kinds = f" ({', '.join(model.encoders)})" if mixed else ""
        rows.append(FlowRow("5 sequence models", f"{len(model.members)} models{kinds} (model 1 above), each -> "
                            f"{classes} probabilities", [n, len(model.members), classes],
                            "model 2: " + preview(log_probs[1].exp().tolist(), 3)))
    if model.ngrams is not None:
        rows.append(FlowRow("5 n-gram evidence", f"NB-weighted uni- and bigrams (vocabulary + "
                            f"{model.ngrams.buckets:,} hashed) -> {classes} logits", [n, classes],
                            preview(stages["model_log_probs"][-1, 0].exp().tolist(), 3)))
    shares = ", ".join(f"{w:.2f}" for w in model.weights.tolist())
    combined = stages.get("uncalibrated_logits", stages["logits"])[0]  # (C,) log-probabilities
    rows.append(FlowRow("5 combination", f"{model.rule} mean of {len(model.sources)} models' probabilities "
                        f"(weights {shares})", [n, classes], preview(combined.exp().tolist(), 3)))
    return rows
