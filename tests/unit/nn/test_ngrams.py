import torch

from seqclf.nn.ngrams import NgramEvidence


def evidence(vocab=20, classes=2, buckets=31):
    torch.manual_seed(0)
    module = NgramEvidence(vocab, classes, buckets)
    with torch.no_grad():
        module.ratio.normal_()
        module.weight.normal_()
        module.bias.normal_()
    return module


def test_each_ngram_counts_once_and_padding_never():
    module = evidence()
    ids = torch.tensor([[5, 6, 5, 6, 0, 0]])  # "a b a b": unigrams a, b; bigrams (a b) twice, (b a) once
    features, counted, slots = module.features(ids, torch.tensor([4]))
    kept = sorted(features[counted].tolist())
    bigram = module.bigram_features(ids)[0]
    assert kept == sorted({5, 6, int(bigram[0]), int(bigram[1])})
    assert 0 not in kept
    everything = torch.cat([ids[0], bigram])  # slot t: the unigram at t; slot T + t: the bigram from t
    for feature, slot, count in zip(features[0].tolist(), slots[0].tolist(), counted[0].tolist()):
        assert not count or int(everything[slot]) == feature


def test_an_all_padding_baseline_holds_no_ngram():
    module = evidence()
    features, counted, _ = module.features(torch.zeros(1, 6, dtype=torch.long), torch.tensor([4]))
    assert not counted.any()


def test_padding_and_batch_mates_change_nothing():
    module = evidence()
    ids = torch.tensor([[3, 4, 7]])
    alone = module(ids, torch.tensor([3]))
    padded = module(torch.tensor([[3, 4, 7, 0, 0, 0], [9, 9, 9, 9, 9, 9]]), torch.tensor([3, 6]))
    assert torch.allclose(alone[0], padded[0], atol=1e-6)


def test_the_contributions_are_what_forward_sums():
    module = evidence(classes=3)
    ids, lengths = torch.tensor([[2, 8, 3, 8, 0], [4, 4, 0, 0, 0]]), torch.tensor([4, 2])
    features, counted, _ = module.features(ids, lengths)
    parts = module.contributions(features, counted)  # (B, 2T, C)
    assert torch.allclose(parts.sum(dim=1) + module.bias, module(ids, lengths), atol=1e-6)
