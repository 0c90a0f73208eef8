import torch

from seqclf.training.combine import choose_combination


def test_the_ngram_share_follows_what_validation_says():
    targets = torch.tensor([0, 1] * 50)
    right = torch.log_softmax(torch.nn.functional.one_hot(targets, 2).float() * 3, dim=1)  # (N, C)
    noise = torch.log_softmax(torch.randn(100, 2), dim=1)
    rule, weight = choose_combination(torch.stack([noise, right]), targets, members=1, has_ngrams=True)
    assert weight > 0.5  # the n-gram evidence is the one that is right
    rule, weight = choose_combination(torch.stack([right, noise]), targets, members=1, has_ngrams=True)
    assert weight < 0.5


def test_fixed_settings_and_no_validation():
    assert choose_combination(None, None, members=3, has_ngrams=True) == ("mean", 0.25)
    assert choose_combination(None, None, members=3, has_ngrams=False) == ("mean", 0.0)
    assert choose_combination(None, None, 2, True, rule="geometric", ngram_weight=0.4) == ("geometric", 0.4)
