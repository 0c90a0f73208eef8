"""The prediction trace: one text through every stage, with the real values each stage produced.

Like the data-flow table (`seqclf.data_flow`), it runs the model's `forward_stages` -- the path `forward`
(and so `predict`) takes -- and reports what each stage produced. Nothing here recomputes a stage: the
n-gram evidence's per-feature contributions are the terms its forward pass sums.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from seqclf.text.batching import Chunking
from seqclf.inference import predict_logits
from seqclf.nn.classifier import Classifier
from seqclf.nn.ensemble import Ensemble
from seqclf.nn.modes import device_of, eval_mode
from seqclf.nn.settings import COMBINATION_NAMES
from seqclf.text.tokenizer import WordTokenizer

from seqclf.data_flow import chunked_logits, first_sequence_stages, preview

NGRAMS_SHOWN = 6


def _round(array: torch.Tensor) -> list:
    return np.round(array.detach().cpu().double().numpy(), 4).tolist()


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
    logits: list[float]  # (C,) of the (first) sequence model's head
    probabilities: list[float]  # (C,) what the model predicts (for an ensemble: the combination)
    classes: list[str]
    label: str
    models: list[dict] | None = None  # an ensemble's models: {"name", "weight", "probabilities"}
    combination: str | None = None  # an ensemble's rule: mean | geometric
    ngrams: list[dict] | None = None  # the n-gram evidence: {"ngram", "evidence": (C,)}, strongest first
    temperature: float | None = None  # what the logits are divided by before softmax (None: 1, not calibrated)
    multi_label: bool = False  # probabilities are each label's sigmoid; `labels` are those over `thresholds`
    thresholds: list[float] | None = None  # (C,) multi-label
    labels: list[str] | None = None  # multi-label: the labels predicted, most probable first
    windows: list[dict] | None = None  # chunking a long text: {"start", "end", "logits"} per window; the
    window_pooling: str | None = None  # stages above show the first, `probabilities` the pooled logits'
    pooled_logits: list[float] | None = None  # (C,) chunking: the windows' logits pooled

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
            + (f", {truncated} tokens cut by max_len={self.max_len}" if truncated > 0 and not self.windows else "")
            + (f", {len(self.tokens)} tokens read in windows (below)" if self.windows else ""),
            f"3 embedding       {e_rows} x {e_cols}",
        ]
        for step in range(min(self.length, 3)):
            lines.append(f"                  id {self.ids[step]:<6d} {preview(self.embedding[step])}")
        if self.length > 3:
            lines.append(f"                  … {self.length - 3} more rows, then {e_rows - self.length} padding rows")
        lines += [
            f"4 encoder steps   {h_rows} x {h_cols} (steps after {self.length} are padding and unused)",
            f"  sequence vector {len(self.sequence_vector)} ({self.pooling} pooling) {preview(self.sequence_vector)}",
            "5 logits          " + ("sequence model 1: " if self.models else "")
            + "  ".join(f"{c} {v:+.3f}" for c, v in zip(self.classes, self.logits)),
        ]
        lines += self._combined_lines()
        if self.temperature is not None:
            lines.append(f"  temperature     logits / {self.temperature:.3f} (calibrated on validation data)")
        lines += self._window_lines()
        shown = "  ".join(f"{c} {p:.3f}" for c, p in zip(self.classes, self.probabilities))
        if self.thresholds is None:  # softmax over the classes, the most probable one predicted
            return "\n".join([*lines, "  softmax         " + shown,
                              f"  predicted       {self.label} ({max(self.probabilities):.3f})"])
        return "\n".join([
            *lines,
            "  sigmoid         " + shown + "  (each label's own probability: they do not sum to 1)",
            "  thresholds      " + "  ".join(f"{c} {t:.3f}" for c, t in zip(self.classes, self.thresholds)),
            "  predicted       {" + ", ".join(self.labels) + "}" + ("" if self.labels else " (no label reaches its "
                                                                     "threshold)"),
        ])

    def _window_lines(self) -> list[str]:
        if not self.windows:
            return []
        lines = [f"  windows         {len(self.windows)} windows of {self.max_len} tokens (stages 2-4 above show "
                 f"the first); their logits:"]
        for window in self.windows:
            lines.append(f"{'':18}tokens {window['start'] + 1}-{window['end']}: "
                         + "  ".join(f"{c} {v:+.3f}" for c, v in zip(self.classes, window["logits"])))
        lines.append(f"  window pooling  {self.window_pooling}: " + "  ".join(
            f"{c} {v:+.3f}" for c, v in zip(self.classes, self.pooled_logits)))
        return lines


    def _combined_lines(self) -> list[str]:
        if self.models is None:
            return []
        lines = []
        for i, model in enumerate(self.models):
            shown = "  ".join(f"{c} {p:.3f}" for c, p in zip(self.classes, model["probabilities"]))
            lines.append(f"{'  models' if i == 0 else '':<18}{model['name']} (weight {model['weight']:.2f}): {shown}")
        if self.ngrams:
            predicted = self.classes.index(self.label)
            pushed = [f"{g['ngram']!r} {g['evidence'][predicted]:+.2f}" for g in self.ngrams[:NGRAMS_SHOWN]]
            lines.append(f"  n-grams         for {self.label}: " + ", ".join(pushed)
                         + (f" (of {len(self.ngrams)})" if len(self.ngrams) > NGRAMS_SHOWN else ""))
        lines.append(f"  combination     {COMBINATION_NAMES[self.combination]} of the models' probabilities")
        return lines


def prediction_trace(model: Classifier, tokenizer: WordTokenizer, classes: Sequence[str], text: str,
                     thresholds: Sequence[float] | None = None, chunking: Chunking | None = None) -> PredictionTrace:
    corpus = tokenizer.encode([text])
    stages, ids, lengths = first_sequence_stages(model, corpus, tokenizer.max_len)
    logits, windows = stages["logits"][:1], None  # (1, C)
    if chunking is not None and int(np.diff(corpus.offsets)[0]) > tokenizer.max_len:
        pieces, _, starts = chunking.windows(corpus)
        window_logits = predict_logits(model, pieces)  # (W, C), in eval mode
        windows = [{"start": int(start), "end": int(start + length), "logits": row}
                   for start, length, row in zip(starts, pieces.lengths, window_logits.tolist())]
        logits = chunked_logits(model, corpus, chunking)
    probabilities = model.activate(logits)[0]  # (C,)
    label = int(probabilities.argmax())
    combined = {}
    if isinstance(model, Ensemble):
        combined = {"models": [{"name": name, "weight": weight, "probabilities": log_probs.exp().tolist()}
                               for name, weight, log_probs in zip(model.sources, model.weights.tolist(),
                                                                  stages["model_log_probs"][:, 0])],
                    "combination": model.rule,
                    "ngrams": _ngram_evidence(model, tokenizer, ids, lengths, label) if model.ngrams else None}
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
        logits=stages.get("head_logits", stages["logits"])[0].tolist(),
        probabilities=probabilities.tolist(),
        classes=list(classes),
        label=classes[label],
        temperature=None if model.temperature == 1.0 else model.temperature,
        **combined,
        **model.task.traced_decision(probabilities.numpy(), thresholds, classes),
        windows=windows,
        window_pooling=None if windows is None else chunking.pooling,
        pooled_logits=None if windows is None else logits[0].tolist(),
    )


def _ngram_evidence(model: Ensemble, tokenizer: WordTokenizer, ids: torch.Tensor, lengths: torch.Tensor,
                    label: int) -> list[dict]:
    """Each n-gram of the text with what it gives each class, the strongest for `label` first."""
    ngrams, length = model.ngrams, int(lengths[0])
    with eval_mode(model), torch.inference_mode():
        features, counted, _ = ngrams.features(ids.to(device_of(model)), lengths.to(device_of(model)))
        evidence = ngrams.contributions(features, counted)
    tokens = [tokenizer.id_to_token(int(i)) for i in ids[0, :length]]
    names: dict[int, list[str]] = {}
    for feature, name in [*zip(ids[0, :length].tolist(), tokens),
                          *zip(ngrams.bigram_features(ids)[0, : length - 1].tolist(),
                               (f"{a} {b}" for a, b in zip(tokens, tokens[1:])))]:
        names.setdefault(feature, []).append(name)  # a hashed bucket may hold several bigrams
    found = [(int(f), e) for f, c, e in zip(features[0].tolist(), counted[0].tolist(), evidence[0].tolist()) if c]
    return sorted(({"ngram": " / ".join(dict.fromkeys(names[f])), "evidence": e} for f, e in found),
                  key=lambda g: -g["evidence"][label])
