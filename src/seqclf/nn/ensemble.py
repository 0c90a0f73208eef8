"""Stage 5 across models: K sequence models and, optionally, the n-gram evidence, combined into one
class distribution by a rule chosen on validation data (`training/combine.py`).

Its `stages` are the first sequence model's stages (what the trace shows for stages 3-4; its
logits as "head_logits"), every model's log-probabilities ("model_log_probs", (M, B, C)), and the
combination as "logits": normalized log-probabilities, so that softmax gives the combined
probabilities, on every backend alike.
"""
from __future__ import annotations

import torch

from seqclf.errors import ConfigError
from seqclf.nn.classifier import Classifier, SequenceClassifier
from seqclf.nn.combination import combine
from seqclf.nn.ngrams import NgramEvidence
from seqclf.nn.settings import ModelConfig


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
        """The models combined, in the order of `weights`."""
        return [f"sequence model {i + 1}" for i in range(len(self.members))] + (
            ["n-gram evidence"] if self.ngrams is not None else [])

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


def build_classifier(config: ModelConfig, vocab_size: int, num_classes: int, multi_label: bool = False) -> Classifier:
    """The model `config` describes, untrained: one sequence model, or the ensemble with its combination
    as resolved by training; with its temperature and its activation (config.json records them; a multi-label
    model is one sequence model, as `Config.validate` checks)."""
    if not config.combined:
        model = SequenceClassifier(config, vocab_size, num_classes)
    else:
        if config.combine == "auto" or config.ngram_weight == "auto":
            raise ConfigError("an ensemble's combination must be resolved (training chooses it)", field="combine")
        members = [SequenceClassifier(config, vocab_size, num_classes) for _ in range(config.ensemble)]
        ngrams = NgramEvidence(vocab_size, num_classes) if config.ngram_evidence else None
        model = Ensemble(members, ngrams, config.combine, config.ngram_weight if ngrams is not None else 0.0)
    model.temperature = float(config.temperature)
    model.multi_label = multi_label
    return model
