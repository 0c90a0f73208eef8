import numpy as np
import torch

from seqclf.ids import EncodedCorpus
from seqclf.training.ngram_fit import L2_GRID, Labeled, fit_ngram_evidence


def keyword_corpus(n, seed):
    """Class 1 texts hold token 5 (anywhere); every other token is noise from 6..40."""
    rng = np.random.default_rng(seed)
    sequences, targets = [], []
    for i in range(n):
        words = rng.integers(6, 40, size=rng.integers(3, 9)).tolist()
        if i % 2:
            words[rng.integers(len(words))] = 5
        sequences.append(words)
        targets.append(i % 2)
    return Labeled(EncodedCorpus.from_sequences(sequences), np.arange(n), torch.tensor(targets))


def test_the_keyword_gets_the_evidence_and_the_penalty_is_chosen_on_validation():
    train, valid = keyword_corpus(400, 0), keyword_corpus(200, 1)
    evidence, l2 = fit_ngram_evidence(41, 2, train, valid)
    assert l2 in L2_GRID
    assert evidence.ratio[5, 1] > 2 and evidence.ratio[5, 0] < -2  # far more often in class 1
    assert abs(evidence.ratio[10, 1]) < 1  # noise: about as often in either
    ids = torch.tensor([[5, 12, 30], [12, 30, 7]])
    assert evidence(ids, torch.tensor([3, 3])).argmax(1).tolist() == [1, 0]


def test_a_given_penalty_is_used_without_validation():
    _, l2 = fit_ngram_evidence(41, 2, keyword_corpus(100, 2), None, l2=0.5)
    assert l2 == 0.5


def test_the_fit_is_the_same_on_every_run_with_several_threads():
    """The weights' gradient is summed in a fixed order: an accumulating index_put_ (indexing's backward)
    made the fit differ from run to run on 2 threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train = keyword_corpus(3000, 3)
        fits = [fit_ngram_evidence(41, 2, train, None, l2=0.1)[0] for _ in range(3)]
    finally:
        torch.set_num_threads(threads)
    for other in fits[1:]:
        assert torch.equal(other.weight, fits[0].weight) and torch.equal(other.bias, fits[0].bias)
