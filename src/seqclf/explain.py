"""Why a label: each token's contribution to a class's score, by Integrated Gradients (Sundararajan et
al. 2017) through Captum's `LayerIntegratedGradients`.

The path runs from a baseline -- the same sequence with every token `<pad>`, whose embedding is the
zero row, which forms no bigram and holds no n-gram -- to the text, at the embedding layer(s), and the
attributions of a class's score sum to score(text) − score(baseline), up to the convergence delta that
every explanation reports (the error of the `steps`-point integral). The score is the number the
activation (softmax or sigmoid) reads, not the probability: each model names it (`score_name`) -- a
single model's logit, an ensemble's combined log-probability, either divided by the temperature
when one was calibrated -- so that "logit" is only ever said of a logit.

Every input the model reads a token through is on the one path: each sequence model's token
embedding (all encoders alike), its hashed bigram embedding, and the n-gram evidence's per-feature
terms. A bigram's share is split evenly between its two tokens; a unigram's goes to its token.
"""
from __future__ import annotations

import copy
import threading
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from seqclf.text.tensors import pad_batch
from seqclf.errors import DataError, SeqclfError
from seqclf.ids import PAD_ID, UNK_ID
from seqclf.nn.classifier import Classifier
from seqclf.nn.ensemble import Ensemble
from seqclf.nn.modes import device_of, eval_mode
from seqclf.nn.pooling import valid_steps
from seqclf.text.tokenizer import WordTokenizer

METHOD = "integrated gradients on the embeddings (Captum LayerIntegratedGradients); baseline: every token <pad>"
BATCH = 32  # texts per attribution pass (each pass runs `steps` copies of them)


@dataclass
class Explanation:
    """One text's attributions to one class's score."""

    text: str
    tokens: list[dict]  # the tokens the model reads: {"text", "id", "known", "attribution"}
    label: str  # the class explained
    predicted: str
    probabilities: dict[str, float]
    score_name: str  # what `score` is: see `score_name`
    score: float  # of the explained class, for the text
    baseline_score: float  # of the explained class, for the all-<pad> baseline
    delta: float  # sum of attributions − (score − baseline_score)
    steps: int
    truncated: int  # tokens after max_len: the model does not read them, so they get no attribution
    method: str = METHOD
    note: str | None = None  # e.g. which model was explained when predictions come from another backend

    def to_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        scale = max((abs(t["attribution"]) for t in self.tokens), default=0.0) or 1.0
        width = max(len(t["text"]) for t in self.tokens)
        lines = [f"explanation of {self.text!r}",
                 f"class explained: {self.label}; predicted: {self.predicted} ({self.probabilities[self.predicted]:.3f})",
                 f"{self.method}, {self.steps} steps",
                 f"  {'token':<{width}}  attribution to the {self.score_name} of {self.label}"]
        for token in self.tokens:
            value = token["attribution"]
            bar = ("+" if value >= 0 else "-") * round(12 * abs(value) / scale)
            name = token["text"] if token["known"] else f"{token['text']}(<unk>)"
            lines.append(f"  {name:<{width + 7 if not token['known'] else width}}  {value:+8.4f}  {bar}")
        if self.truncated:
            lines.append(f"  ({self.truncated} more tokens cut by max_len: not read, not attributed)")
        total = sum(t["attribution"] for t in self.tokens)
        lines.append(f"sum {total:+.4f} = {self.score_name} {self.score:+.4f} − baseline's {self.baseline_score:+.4f} "
                     f"{'+' if self.delta >= 0 else '−'} convergence delta {abs(self.delta):.4f}")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


class Explainer:
    """Attributions of one model, one request at a time, on a copy of it made when first needed:
    attributions hook the copy's embedding layers while they run, and the model that predicts and traces
    (in a server, at the same time, in other threads) must never pass through those hooks."""

    def __init__(self, model: Callable[[], Classifier], tokenizer: WordTokenizer, classes: Sequence[str],
                 backend: str | None = None) -> None:
        """`model` gives the float32 PyTorch model; `backend` describes the one that predicts, if another."""
        self._model, self.tokenizer, self.classes = model, tokenizer, list(classes)
        self.note = None if backend is None else (f"explained through the float32 PyTorch model of this directory: "
                                                  f"attributions need gradients, which {backend} does not give")
        self._copy: Classifier | None = None
        self._lock = threading.Lock()

    def _copied(self) -> Classifier:
        if self._copy is None:
            self._copy = copy.deepcopy(self._model())
        return self._copy

    def explain(self, texts: Sequence[str], label: str | None, steps: int) -> list[Explanation]:
        with self._lock:
            return explain(self._copied(), self.tokenizer, self.classes, texts, label, steps, self.note)

    def top_words(self, texts: Sequence[str], top: int, steps: int, min_count: int) -> dict:
        with self._lock:
            report = top_words(self._copied(), self.tokenizer, self.classes, texts, top, steps, min_count)
        return {**report, "note": self.note}


def explain(model: Classifier, tokenizer: WordTokenizer, classes: Sequence[str], texts: Sequence[str],
            label: str | None, steps: int, note: str | None = None) -> list[Explanation]:
    """Each text's token attributions to the score of `label` (by default, of the class predicted)."""
    _check(classes, label, steps)
    explanations = []
    for start in range(0, len(texts), BATCH):
        batch = texts[start : start + BATCH]
        corpus = tokenizer.encode(batch)
        ids, lengths = pad_batch(corpus, np.arange(len(batch)))  # (B, T), (B,)
        target = None if label is None else list(classes).index(label)
        scores, logits, baseline_logits, delta, targets = attribute(model, ids, lengths, target, steps)
        probabilities = model.activate(logits)  # (B, C): softmax, or each label's sigmoid
        for i, text in enumerate(batch):
            length, target = int(lengths[i]), int(targets[i])
            every = tokenizer.tokens(text)
            tokens = [{"text": t.text, "id": t.id, "known": t.known, "attribution": float(a)}
                      for t, a in zip(every[:length], scores[i, :length].tolist())]
            explanations.append(Explanation(
                text=text, tokens=tokens, label=classes[target],
                predicted=classes[int(probabilities[i].argmax())],
                probabilities=dict(zip(classes, probabilities[i].tolist())),
                score_name=score_name(model), score=float(logits[i, target]),
                baseline_score=float(baseline_logits[i, target]),
                delta=float(delta[i]), steps=steps, truncated=max(0, len(every) - length), note=note))
    return explanations


def score_name(model: Classifier) -> str:
    """What a class's score is for `model`: the number its activation reads for the class."""
    score = "combined log-probability" if isinstance(model, Ensemble) else "logit"
    return score if model.temperature == 1.0 else f"{score} / temperature"


def top_words(model: Classifier, tokenizer: WordTokenizer, classes: Sequence[str], texts: Sequence[str],
              top: int, steps: int, min_count: int) -> dict:
    """Per class, the `top` words of the vocabulary with the largest mean attribution to that class's
    score over their occurrences in `texts` (every text is explained for every class); a word must
    occur at least `min_count` times. Unknown words are left out (they share one <unk> embedding)."""
    if not texts:
        raise DataError("no texts given", field="data")
    _check(classes, None, steps)
    corpus = tokenizer.encode(texts)
    result = {}
    for target, name in enumerate(classes):
        sums: dict[int, float] = defaultdict(float)
        counts: dict[int, int] = defaultdict(int)
        for start in range(0, len(texts), BATCH):
            ids, lengths = pad_batch(corpus, np.arange(start, min(start + BATCH, len(texts))))
            scores = attribute(model, ids, lengths, target, steps)[0]  # (B, T)
            real = valid_steps(lengths, ids.size(1)) & (ids != UNK_ID)  # (B, T)
            for token_id, score in zip(ids[real].tolist(), scores[real].tolist()):
                sums[token_id] += score
                counts[token_id] += 1
        ranked = sorted((token for token in sums if counts[token] >= min_count),
                        key=lambda token: -sums[token] / counts[token])[:top]
        result[name] = [{"word": tokenizer.id_to_token(token), "mean_attribution": sums[token] / counts[token],
                         "count": counts[token]} for token in ranked]
    return {"classes": result, "texts": len(texts), "steps": steps, "min_count": min_count, "method": METHOD}


def attribute(model: Classifier, ids: torch.Tensor, lengths: torch.Tensor, target: int | None,
              steps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-token attributions (B, T) to the score of class `target` (None: each text's predicted class);
    also the scores (B, C) of the texts and of the baseline, the convergence deltas (B,) and the
    classes explained (B,)."""
    from captum.attr import LayerIntegratedGradients

    device = device_of(model)
    ids, lengths = ids.to(device), lengths.to(device)
    baseline = torch.full_like(ids, PAD_ID)  # (B, T): every token <pad>, the same lengths
    layers = attribution_layers(model)
    # cuDNN's recurrent kernels give gradients in training mode only (dropout would then be on): on a GPU the
    # recurrent encoders run PyTorch's own kernels here, in eval mode, for the logits reported too
    with eval_mode(model), torch.backends.cudnn.flags(enabled=False):
        with torch.no_grad():
            logits, baseline_logits = model(ids, lengths), model(baseline, lengths)  # (B, C) each
        targets = logits.argmax(dim=1) if target is None else torch.full_like(lengths, target)  # (B,)
        with warnings.catch_warnings():  # "each layer is not solely dependent on another": ours are not
            warnings.filterwarnings("ignore", "Multiple layers provided", UserWarning)
            integrated = LayerIntegratedGradients(model, [layer for layer, _ in layers])
        attributions, delta = integrated.attribute(ids, baselines=baseline, target=targets,
                                                   additional_forward_args=(lengths,), n_steps=steps,
                                                   internal_batch_size=max(BATCH, len(ids)) * 8,
                                                   return_convergence_delta=True)
    scores = torch.zeros(ids.shape, dtype=torch.float64, device=device)  # (B, T)
    for (_, kind), attribution in zip(layers, attributions):
        attribution = attribution.detach().double()
        if kind == "token":  # (B, T, E)
            scores += attribution.sum(dim=2)
        elif kind == "bigram":  # (B, T, E): the bigram (t, t + 1) at step t
            scores += _split_bigrams(attribution.sum(dim=2))
        else:  # the n-gram evidence's terms (B, 2T, C), in the order of its sorted features
            _, _, slots = model.ngrams.features(ids, lengths)  # (B, 2T)
            by_slot = torch.zeros_like(attribution[:, :, 0]).scatter(1, slots, attribution.sum(dim=2))  # (B, 2T)
            length = ids.size(1)
            scores += by_slot[:, :length] + _split_bigrams(by_slot[:, length:])
    return scores.cpu(), logits.detach().cpu(), baseline_logits.cpu(), delta.detach().cpu(), targets.cpu()


def attribution_layers(model: Classifier) -> list[tuple[nn.Module, str]]:
    """The modules whose outputs the path interpolates, each with its kind: token, bigram or ngram."""
    members = list(model.members) if isinstance(model, Ensemble) else [model]
    layers = []
    for member in members:
        layers.append((member.embedding, "token"))
        if member.bigrams is not None:
            layers.append((member.bigrams, "bigram"))
    if isinstance(model, Ensemble) and model.ngrams is not None:
        layers.append((model.ngrams.terms, "ngram"))
    return layers


def _split_bigrams(scores: torch.Tensor) -> torch.Tensor:
    """(B, T) scores of the bigrams starting at each step -> (B, T) per token, half to each of the two."""
    following = nn.functional.pad(scores[:, :-1], (1, 0))  # (B, T): the bigram that ends at step t
    return (scores + following) / 2


def _check(classes: Sequence[str], label: str | None, steps: int) -> None:
    if label is not None and label not in classes:
        raise SeqclfError(f"unknown class {label!r}", field="label", hint="one of: " + ", ".join(classes))
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise SeqclfError(f"must be an integer of at least 1, got {steps!r}", field="steps")
