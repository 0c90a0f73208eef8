"""Views of the model's one forward path: the data-flow table and the prediction trace.

Both run the model's `forward_stages` -- the path `forward` (and so `predict`) takes -- and report
what each stage produced. Nothing here recomputes a stage: the n-gram evidence's per-feature
contributions are the terms its forward pass sums.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from seqclf.data.batching import Chunking
from seqclf.data.tensors import pad_batch
from seqclf.inference import predict_logits, text_logits
from seqclf.ids import EncodedCorpus
from seqclf.nn.classifier import Classifier
from seqclf.nn.ensemble import Ensemble
from seqclf.nn.modes import device_of, eval_mode
from seqclf.text.tokenizer import WordTokenizer

PREVIEW = 6
NGRAMS_SHOWN = 6


def _preview(values: Sequence[float], n: int = PREVIEW) -> str:
    shown = ", ".join(f"{v:.3f}" for v in values[:n])
    return f"[{shown}{', …' if len(values) > n else ''}]"


def _ids_preview(ids: list[int], length: int, n: int = 8) -> str:
    shown = ", ".join(map(str, ids[:n])) + (", …" if len(ids) > n else "")
    return f"[{shown}] (length {length}, {len(ids) - length} padding)"


def _round(array: torch.Tensor) -> list:
    return np.round(array.detach().cpu().double().numpy(), 4).tolist()


def _stages(model: Classifier, corpus: EncodedCorpus, max_len: int) -> tuple[dict, torch.Tensor, torch.Tensor]:
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
    stages, ids, lengths = _stages(model, corpus, tokenizer.max_len)
    config, max_len = model.config, tokenizer.max_len
    words = np.diff(corpus.offsets)  # tokens before truncation
    longer = int((words > max_len).sum())
    encoder = f"{'bi' if config.bidirectional else ''}{config.encoder}, {config.num_layers} layer(s)"
    rows = [
        FlowRow("1 raw text", f"{n} texts, {min(words)}-{max(words)} tokens", [n, "variable"],
                repr(first if len(first) <= 40 else first[:39] + "…")),
    ]
    if chunking is None:
        cut = f", {longer} truncated" if longer else ""
        rows.append(FlowRow("2 token ids", f"tokenize, pad/truncate to {max_len}{cut}", [n, max_len],
                            _ids_preview(ids[0].tolist(), int(lengths[0]))))
    else:
        n = len(chunking.windows(corpus)[1])  # windows: stages 3-5 run on each
        rows.append(FlowRow("2 windows", f"tokenize; {longer} texts longer than {max_len} cut into windows of "
                            f"{max_len} (stride {chunking.stride}), pad", [n, max_len],
                            _ids_preview(ids[0].tolist(), int(lengths[0]))))
    rows += [
        FlowRow("3 embedding", f"lookup, {config.embed_dim} features per token", [n, *stages["embedded"].shape[1:]],
                "token 1: " + _preview(stages["embedded"][0, 0].tolist(), 3)),
        FlowRow("4 encoder", f"{encoder}, one vector per step", [n, *stages["encoded"].shape[1:]],
                f"step {int(lengths[0])}: " + _preview(stages["encoded"][0, int(lengths[0]) - 1].tolist(), 3)),
        FlowRow("4 pooling", f"{config.pooling} -> one vector per sequence", [n, *stages["pooled"].shape[1:]],
                _preview(stages["pooled"][0].tolist(), 3)),
        FlowRow("5 fully connected", f"{stages['pooled'].shape[1]} -> {len(classes)} logits",
                [n, len(classes)], _preview(stages.get("head_logits", stages["logits"])[0].tolist(), 3)),
    ]
    if isinstance(model, Ensemble):
        rows += _ensemble_rows(model, stages, n, len(classes))
    if model.temperature != 1.0:
        rows.append(FlowRow("5 temperature", f"logits / {model.temperature:.3f} (calibrated on validation data)",
                            [n, len(classes)], _preview(stages["logits"][0].tolist(), 3)))
    logits = stages["logits"][:1]  # (1, C) of the first text (its first window)
    if chunking is not None:
        logits = _text_logits(model, corpus, chunking)
        rows.append(FlowRow("5 window pooling", f"{chunking.pooling} of each text's window logits", [texts, len(classes)],
                            _preview(logits[0].tolist(), 3)))
    probabilities = model.activate(logits)[0]  # (C,)
    if model.multi_label:
        rows.append(FlowRow("5 sigmoid", "each label's own probability (they do not sum to 1)",
                            [texts, len(classes)], _preview(probabilities.tolist(), 3)))
        chosen = [c for c, p, t in zip(classes, probabilities.tolist(), thresholds) if p >= t]
        rows.append(FlowRow("5 thresholds", "labels at or over their thresholds (" + ", ".join(
            f"{t:.2f}" for t in thresholds[:4]) + (", …" if len(thresholds) > 4 else "") + ")",
            [texts, "0-" + str(len(classes))], "{" + ", ".join(chosen) + "}"))
    else:
        rows.append(FlowRow("5 softmax", "probabilities over " + ", ".join(classes), [texts, len(classes)],
                            _preview(probabilities.tolist(), 3)))
    return DataFlow(rows)


def _text_logits(model: Classifier, corpus: EncodedCorpus, chunking: Chunking) -> torch.Tensor:
    """(1, C) logits of the corpus's first text, pooled over its windows (`text_logits` runs in eval mode)."""
    return text_logits(model, corpus, np.arange(1), chunking).to(device_of(model))


def _ensemble_rows(model: Ensemble, stages: dict, n: int, classes: int) -> list[FlowRow]:
    log_probs = stages["model_log_probs"][:, 0]  # (M, C) of the first text
    rows = []
    if len(model.members) > 1:
        rows.append(FlowRow("5 sequence models", f"{len(model.members)} models (model 1 above), each -> "
                            f"{classes} probabilities", [n, len(model.members), classes],
                            "model 2: " + _preview(log_probs[1].exp().tolist(), 3)))
    if model.ngrams is not None:
        rows.append(FlowRow("5 n-gram evidence", f"NB-weighted uni- and bigrams (vocabulary + "
                            f"{model.ngrams.buckets:,} hashed) -> {classes} logits", [n, classes],
                            _preview(stages["model_log_probs"][-1, 0].exp().tolist(), 3)))
    shares = ", ".join(f"{w:.2f}" for w in model.weights.tolist())
    combined = stages.get("uncalibrated_logits", stages["logits"])[0]  # (C,) log-probabilities
    rows.append(FlowRow("5 combination", f"{model.rule} mean of {len(model.sources)} models' probabilities "
                        f"(weights {shares})", [n, classes], _preview(combined.exp().tolist(), 3)))
    return rows


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
            lines.append(f"                  id {self.ids[step]:<6d} {_preview(self.embedding[step])}")
        if self.length > 3:
            lines.append(f"                  … {self.length - 3} more rows, then {e_rows - self.length} padding rows")
        lines += [
            f"4 encoder steps   {h_rows} x {h_cols} (steps after {self.length} are padding and unused)",
            f"  sequence vector {len(self.sequence_vector)} ({self.pooling} pooling) {_preview(self.sequence_vector)}",
            "5 logits          " + "  ".join(f"{c} {v:+.3f}" for c, v in zip(self.classes, self.logits)),
        ]
        lines += self._combined_lines()
        if self.temperature is not None:
            lines.append(f"  temperature     logits / {self.temperature:.3f} (calibrated on validation data)")
        lines += self._window_lines()
        shown = "  ".join(f"{c} {p:.3f}" for c, p in zip(self.classes, self.probabilities))
        if not self.multi_label:
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
        lines.append(f"  combination     {self.combination} mean of the models' probabilities")
        return lines


def prediction_trace(model: Classifier, tokenizer: WordTokenizer, classes: Sequence[str], text: str,
                     thresholds: Sequence[float] | None = None, chunking: Chunking | None = None) -> PredictionTrace:
    corpus = tokenizer.encode([text])
    stages, ids, lengths = _stages(model, corpus, tokenizer.max_len)
    logits, windows = stages["logits"][:1], None  # (1, C)
    if chunking is not None and int(np.diff(corpus.offsets)[0]) > tokenizer.max_len:
        pieces, _, starts = chunking.windows(corpus)
        window_logits = predict_logits(model, pieces)  # (W, C), in eval mode
        windows = [{"start": int(start), "end": int(start + length), "logits": row}
                   for start, length, row in zip(starts, pieces.lengths, window_logits.tolist())]
        logits = _text_logits(model, corpus, chunking)
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
        **_decision(model, classes, probabilities.tolist(), thresholds),
        windows=windows,
        window_pooling=None if windows is None else chunking.pooling,
        pooled_logits=None if windows is None else logits[0].tolist(),
    )


def _decision(model: Classifier, classes: Sequence[str], probabilities: list[float],
              thresholds: Sequence[float] | None) -> dict:
    """A multi-label model's thresholds and the labels over them, most probable first."""
    if not model.multi_label:
        return {}
    order = sorted(range(len(classes)), key=lambda c: -probabilities[c])
    return {"multi_label": True, "thresholds": list(thresholds),
            "labels": [classes[c] for c in order if probabilities[c] >= thresholds[c]]}


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
