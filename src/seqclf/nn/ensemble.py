"""Stage 5 across models: K sequence models and, optionally, the n-gram evidence, combined into one
class distribution by a rule chosen on validation data (`training/combine.py`).

Its `stages` are the first sequence model's stages (what the trace shows for stages 3-4; its
logits as "head_logits"), every model's log-probabilities ("model_log_probs", (M, B, C)), and the
combination as "logits": normalized log-probabilities, so that softmax gives the combined
probabilities, on every backend alike.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from seqclf.errors import ConfigError
from seqclf.fields import check_choice
from seqclf.fitted_state import FittedState
from seqclf.nn.classifier import Classifier, SequenceClassifier
from seqclf.nn.combination import combine
from seqclf.nn.ngrams import NgramEvidence
from seqclf.nn.settings import COMBINATION_NAMES, ModelConfig


class Ensemble(Classifier):
    def __init__(self, members: list[SequenceClassifier], ngrams: NgramEvidence | None, rule: str,
                 ngram_weight: float) -> None:
        super().__init__()
        self.members = torch.nn.ModuleList(members)
        self.ngrams = ngrams
        self.config, self.rule, self.ngram_weight = members[0].config, rule, ngram_weight
        shares = [(1 - ngram_weight) / len(members)] * len(members) + ([ngram_weight] if ngrams is not None else [])
        device = members[0].head.weight.device  # the members' own device (training may have used a GPU)
        self.register_buffer("weights", torch.tensor(shares, device=device), persistent=False)  # (M,) from config.json

    @property
    def sources(self) -> list[str]:
        """The models combined, in the order of `weights` (with their encoders where these differ)."""
        mixed = len(set(self.encoders)) > 1
        named = [f" ({encoder})" if mixed else "" for encoder in self.encoders]
        return [f"sequence model {i}{encoder}" for i, encoder in enumerate(named, 1)] + (
            ["n-gram evidence"] if self.ngrams is not None else [])

    @property
    def encoders(self) -> list[str]:
        return [member.config.encoder for member in self.members]

    def stages(self, ids: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        # ids: (B, T) int64, lengths: (B,)
        stages = self.members[0].forward_stages(ids, lengths)
        logits = [stages["logits"], *(member(ids, lengths) for member in self.members[1:])]  # each (B, C)
        if self.ngrams is not None:
            logits.append(self.ngrams(ids, lengths))  # (B, C)
        log_probs = torch.log_softmax(torch.stack(logits), dim=2)  # (M, B, C)
        return {**stages, "head_logits": stages["logits"], "model_log_probs": log_probs,
                "logits": combine(log_probs, self.weights, self.rule)}  # (B, C) combined log-probabilities

    @property
    def vocab_size(self) -> int:
        return self.members[0].vocab_size

    @property
    def num_classes(self) -> int:
        return self.members[0].num_classes


def build_classifier(configs: Sequence[ModelConfig], ngram_evidence: bool, fitted: FittedState) -> Classifier:
    """The model of these sequence models' settings (and the n-gram evidence), untrained, as training left it
    (`fitted`): one sequence model, or the ensemble with the combination chosen; with its temperature and its
    activation (a multi-label model is one sequence model, as `Config.validate` checks)."""
    vocab_size, num_classes = fitted.vocab_size, fitted.num_classes
    if len(configs) == 1 and not ngram_evidence:
        model = SequenceClassifier(configs[0], vocab_size, num_classes)
    else:
        if fitted.combine is None or fitted.ngram_weight is None:
            raise ConfigError("an ensemble's combination is chosen by training: fitted.json must give it",
                              field="combine")
        check_choice("combine", fitted.combine, COMBINATION_NAMES)
        members = [SequenceClassifier(config, vocab_size, num_classes) for config in configs]
        ngrams = NgramEvidence(vocab_size, num_classes) if ngram_evidence else None
        model = Ensemble(members, ngrams, fitted.combine, fitted.ngram_weight if ngrams is not None else 0.0)
    model.temperature = float(fitted.temperature)
    model.task = fitted.task
    return model
