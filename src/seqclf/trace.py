"""Views of the model's one forward path: the data-flow table and the prediction trace.

Both run `SequenceClassifier.forward_stages` -- the path `forward` (and so `predict`) takes --
and report what each stage produced. Nothing here recomputes a stage.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from seqclf.data.batching import pad_batch
from seqclf.ids import EncodedCorpus
from seqclf.nn.classifier import SequenceClassifier
from seqclf.nn.modes import device_of, eval_mode
from seqclf.text.tokenizer import WordTokenizer

PREVIEW = 6


def _preview(values: Sequence[float], n: int = PREVIEW) -> str:
    shown = ", ".join(f"{v:.3f}" for v in values[:n])
    return f"[{shown}{', …' if len(values) > n else ''}]"


def _ids_preview(ids: list[int], length: int, n: int = 8) -> str:
    shown = ", ".join(map(str, ids[:n])) + (", …" if len(ids) > n else "")
    return f"[{shown}] (length {length}, {len(ids) - length} padding)"


def _round(array: torch.Tensor) -> list:
    return np.round(array.detach().cpu().double().numpy(), 4).tolist()


def _stages(model: SequenceClassifier, corpus: EncodedCorpus, max_len: int) -> tuple[dict, torch.Tensor, torch.Tensor]:
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


def data_flow(model: SequenceClassifier, tokenizer: WordTokenizer, classes: Sequence[str], corpus: EncodedCorpus,
              first: str) -> DataFlow:
    """The table for a whole encoded data set; `first` is the text of its first sequence."""
    n = len(corpus)
    stages, ids, lengths = _stages(model, corpus, tokenizer.max_len)
    config = model.config
    words = np.diff(corpus.offsets)  # tokens before truncation
    probabilities = torch.softmax(stages["logits"][0], dim=0)
    encoder = f"{'bi' if config.bidirectional else ''}{config.encoder}, {config.num_layers} layer(s)"
    rows = [
        FlowRow("1 raw text", f"{n} texts, {min(words)}-{max(words)} tokens", [n, "variable"],
                repr(first if len(first) <= 40 else first[:39] + "…")),
        FlowRow("2 token ids", f"tokenize, pad/truncate to {tokenizer.max_len}", [n, tokenizer.max_len],
                _ids_preview(ids[0].tolist(), int(lengths[0]))),
        FlowRow("3 embedding", f"lookup, {config.embed_dim} features per token", [n, *stages["embedded"].shape[1:]],
                "token 1: " + _preview(stages["embedded"][0, 0].tolist(), 3)),
        FlowRow("4 encoder", f"{encoder}, one vector per step", [n, *stages["encoded"].shape[1:]],
                f"step {int(lengths[0])}: " + _preview(stages["encoded"][0, int(lengths[0]) - 1].tolist(), 3)),
        FlowRow("4 pooling", f"{config.pooling} -> one vector per sequence", [n, *stages["pooled"].shape[1:]],
                _preview(stages["pooled"][0].tolist(), 3)),
        FlowRow("5 fully connected", f"{stages['pooled'].shape[1]} -> {len(classes)} logits",
                [n, *stages["logits"].shape[1:]], _preview(stages["logits"][0].tolist(), 3)),
        FlowRow("5 softmax", "probabilities over " + ", ".join(classes), [n, len(classes)],
                _preview(probabilities.tolist(), 3)),
    ]
    return DataFlow(rows)


@dataclass
class PredictionTrace:
    """One text's path through the model, with the real values of every stage."""

    text: str
    tokens: list[dict]  # {"text", "id", "known"}, before truncation
    ids: list[int]  # padded/truncated to max_len
    length: int  # true length after truncation
    max_len: int
    embedding: list[list[float]]  # (T, E)
    encoder_steps: list[list[float]]  # (T, H)
    pooling: str
    sequence_vector: list[float]  # (H,)
    logits: list[float]  # (C,)
    probabilities: list[float]  # (C,)
    classes: list[str]
    label: str

    def to_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        e_rows, e_cols = len(self.embedding), len(self.embedding[0])
        h_rows, h_cols = len(self.encoder_steps), len(self.encoder_steps[0])
        truncated = len(self.tokens) - self.length
        known = sum(t["known"] for t in self.tokens)
        pieces = [f"{t['text']}" if t["known"] else f"{t['text']}(<unk>)" for t in self.tokens]
        lines = [
            f"prediction trace of {self.text!r}",
            f"1 tokens          {len(self.tokens)} tokens ({known} in vocabulary): " + " | ".join(pieces),
            f"2 ids             {self.ids}",
            f"                  true length {self.length}"
            + (f", {self.max_len - self.length} padding" if self.length < self.max_len else "")
            + (f", {truncated} tokens cut by max_len={self.max_len}" if truncated > 0 else ""),
            f"3 embedding       {e_rows} x {e_cols}",
        ]
        for step in range(min(self.length, 3)):
            lines.append(f"                  id {self.ids[step]:<6d} {_preview(self.embedding[step])}")
        if self.length > 3:
            lines.append(f"                  … {self.length - 3} more rows, then {e_rows - self.length} padding rows")
        lines += [
            f"4 encoder steps   {h_rows} x {h_cols} (steps after {self.length} are padding and unused)",
            f"  sequence vector {len(self.sequence_vector)} ({self.pooling} pooling) {_preview(self.sequence_vector)}",
            "5 logits          " + "  ".join(f"{c} {v:+.3f}" for c, v in zip(self.classes, self.logits)),
            "  softmax         " + "  ".join(f"{c} {p:.3f}" for c, p in zip(self.classes, self.probabilities)),
            f"  predicted       {self.label} ({max(self.probabilities):.3f})",
        ]
        return "\n".join(lines)


def prediction_trace(model: SequenceClassifier, tokenizer: WordTokenizer, classes: Sequence[str], text: str) -> PredictionTrace:
    stages, ids, lengths = _stages(model, tokenizer.encode([text]), tokenizer.max_len)
    probabilities = torch.softmax(stages["logits"][0], dim=0)  # (C,)
    return PredictionTrace(
        text=text,
        tokens=[{"text": t.text, "id": t.id, "known": t.known} for t in tokenizer.tokens(text)],
        ids=ids[0].tolist(),
        length=int(lengths[0]),
        max_len=tokenizer.max_len,
        embedding=_round(stages["embedded"][0]),
        encoder_steps=_round(stages["encoded"][0]),
        pooling=model.config.pooling,
        sequence_vector=_round(stages["pooled"][0]),
        logits=stages["logits"][0].tolist(),
        probabilities=probabilities.tolist(),
        classes=list(classes),
        label=classes[int(probabilities.argmax())],
    )
