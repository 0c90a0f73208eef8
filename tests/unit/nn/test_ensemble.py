import pytest
import torch

from seqclf.errors import ConfigError
from seqclf.fitted_state import FittedState
from seqclf.task import SINGLE_LABEL
from seqclf.nn.classifier import SequenceClassifier
from seqclf.nn.combination import COMBINATIONS, combine
from seqclf.nn.ensemble import Ensemble, build_classifier
from seqclf.nn.ngrams import NgramEvidence
from seqclf.nn.settings import ModelConfig

CONFIG = ModelConfig(embed_dim=8, hidden_dim=6, bidirectional=False, pooling="last")


@pytest.mark.parametrize("rule", sorted(COMBINATIONS))
def test_combinations_are_distributions_and_ignore_a_zero_weight(rule):
    log_probs = torch.log_softmax(torch.randn(3, 5, 4), dim=2)  # (M, B, C)
    combined = combine(log_probs, torch.tensor([0.5, 0.5, 0.0]), rule)
    assert torch.allclose(combined.exp().sum(1), torch.ones(5), atol=1e-6)
    assert torch.allclose(combined, combine(log_probs[:2], torch.tensor([0.5, 0.5]), rule), atol=1e-5)
    same = log_probs[:1].expand(3, -1, -1)
    assert torch.allclose(combine(same, torch.full((3,), 1 / 3), rule), log_probs[0], atol=1e-5)


def test_the_ensemble_is_the_combination_of_its_models():
    torch.manual_seed(0)
    members = [SequenceClassifier(CONFIG, 30, 3).eval() for _ in range(2)]
    ngrams = NgramEvidence(30, 3, buckets=17)
    model = Ensemble(members, ngrams, "geometric", 0.2).eval()
    ids, lengths = torch.randint(2, 30, (4, 6)), torch.tensor([6, 2, 1, 4])
    expected = combine(torch.log_softmax(torch.stack([members[0](ids, lengths), members[1](ids, lengths),
                                                      ngrams(ids, lengths)]), 2), torch.tensor([0.4, 0.4, 0.2]),
                       "geometric")
    assert torch.allclose(model(ids, lengths), expected, atol=1e-6)
    assert model.sources == ["sequence model 1", "sequence model 2", "n-gram evidence"]


def test_building_needs_the_combination_training_chose():
    fitted = FittedState(SINGLE_LABEL, max_len=10, vocab_size=30, num_classes=3)
    assert isinstance(build_classifier([CONFIG], False, fitted), SequenceClassifier)
    several = [CONFIG, ModelConfig(**{**vars(CONFIG), "encoder": "cnn", "pooling": "max"})]
    with pytest.raises(ConfigError, match="chosen by training"):
        build_classifier(several, True, fitted)
    with pytest.raises(ConfigError, match="unknown value 'median'"):
        build_classifier(several, True, fitted.with_values(combine="median", ngram_weight=0.3))
    model = build_classifier(several, True, fitted.with_values(combine="mean", ngram_weight=0.3, temperature=2.0))
    assert isinstance(model, Ensemble) and model.weights.tolist() == pytest.approx([0.35, 0.35, 0.3])
    assert model.temperature == 2.0 and model.encoders == ["lstm", "cnn"]
