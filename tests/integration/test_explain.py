"""Token attributions where the answer is known: one keyword decides the label, the rest is noise."""
from __future__ import annotations

import random

import numpy as np
import pytest

from seqclf import TextClassifier
from seqclf.errors import SeqclfError

KEYWORDS = {"zorble": "alpha", "quaffy": "beta", "mindle": "gamma"}
FILLER = [f"w{i}" for i in range(300)]
SETTINGS = {  # small models, each accurate on this corpus
    "lstm": dict(encoder="lstm", embed_dim=24, hidden_dim=24, bidirectional=True, pooling="max"),
    "cnn": dict(encoder="cnn", embed_dim=24, hidden_dim=24, bidirectional=False, pooling="max"),
    "bag": dict(encoder="bag", embed_dim=24, hidden_dim=24, bidirectional=False, pooling="mean"),
}


def keyword_corpus(n: int, seed: int) -> tuple[list[str], list[str], list[int]]:
    """Texts of 5-14 random filler words with one keyword somewhere: texts, labels, keyword positions."""
    rng = random.Random(seed)
    texts, labels, positions = [], [], []
    for _ in range(n):
        words = rng.choices(FILLER, k=rng.randint(5, 14))
        keyword = rng.choice(list(KEYWORDS))
        position = rng.randint(0, len(words))
        words.insert(position, keyword)
        texts.append(" ".join(words))
        labels.append(KEYWORDS[keyword])
        positions.append(position)
    return texts, labels, positions


@pytest.fixture(scope="module")
def corpus():
    return keyword_corpus(1500, seed=1), keyword_corpus(200, seed=2)


@pytest.mark.parametrize("encoder", sorted(SETTINGS))
def test_the_keyword_gets_the_largest_attribution(corpus, encoder):
    (texts, labels, _), (test_texts, test_labels, positions) = corpus
    clf = TextClassifier(**SETTINGS[encoder], max_len=16, epochs=6, batch_size=32, seed=3, valid_fraction=0.1)
    clf.fit(texts, labels)
    assert np.mean(np.array(clf.predict(test_texts)) == np.array(test_labels)) >= 0.95  # the model learned the rule

    explanations = clf.explain(test_texts)
    hits = [int(np.argmax([t["attribution"] for t in e.tokens])) == position
            for e, position in zip(explanations, positions)]
    assert np.mean(hits) >= 0.95, f"{encoder}: keyword on top in {np.mean(hits):.1%} of texts"
    for e in explanations:  # completeness: attributions sum to the logit difference, up to the reported delta
        total = sum(t["attribution"] for t in e.tokens)
        assert total == pytest.approx(e.score - e.baseline_score + e.delta, abs=1e-4)
    relative = np.array([abs(e.delta) / abs(e.score - e.baseline_score) for e in explanations])
    print(f"{encoder}: keyword on top in {np.mean(hits):.1%} of {len(hits)} texts; |delta| / |logit difference|: "
          f"median {np.median(relative):.4f}, 95th percentile {np.percentile(relative, 95):.4f}")
    assert np.median(relative) < 0.02 and np.percentile(relative, 95) < 0.1


def test_an_ensemble_with_bigrams_and_ngram_evidence_is_explained_whole(corpus):
    (texts, labels, _), (test_texts, _, positions) = corpus
    clf = TextClassifier(encoder="bag", embed_dim=16, hidden_dim=16, bidirectional=False, pooling="mean",
                         ngram_buckets=1000, ensemble=2, ngram_evidence=True, max_len=16, epochs=4, seed=3,
                         valid_fraction=0.1, calibrate=False).fit(texts, labels)
    explanations = clf.explain(test_texts[:60], steps=100)
    hits = [int(np.argmax([t["attribution"] for t in e.tokens])) == p for e, p in zip(explanations, positions)]
    assert np.mean(hits) >= 0.95
    for e in explanations:
        total = sum(t["attribution"] for t in e.tokens)
        assert total == pytest.approx(e.score - e.baseline_score + e.delta, abs=1e-4)
        assert abs(e.delta) < 0.1 * abs(e.score - e.baseline_score)
    # one name per number: the ensemble's score is its combined log-probability, never called a logit; the
    # trace's logits are those of the one sequence model it follows through the stages
    e = explanations[0]
    assert e.score_name == "combined log-probability"
    assert np.exp(e.score) == pytest.approx(e.probabilities[e.label], rel=1e-4)
    assert "attribution to the combined log-probability" in e.render() and "logit" not in e.render()
    trace = clf.trace(test_texts[0]).render()
    assert "5 logits          sequence model 1: " in trace and "mean mean" not in trace
    assert any(line.split()[:3] in (["combination", "arithmetic", "mean"], ["combination", "geometric", "mean"])
               for line in trace.splitlines())


def test_a_chosen_class_and_more_steps(fitted):
    one, = fitted.explain(["what a wonderful film"], label="negative", steps=5)
    many, = fitted.explain(["what a wonderful film"], label="negative", steps=200)
    assert one.label == many.label == "negative" and one.steps == 5
    assert one.score_name in ("logit", "logit / temperature") and "logit" in one.render()
    assert abs(many.delta) <= abs(one.delta) + 1e-6
    alone, = fitted.explain("what a wonderful film")  # one str is one text, named "the text" when blank
    assert alone.text == "what a wonderful film"
    with pytest.raises(SeqclfError, match="^field 'text': the text is empty"):
        fitted.explain(" \t")
    with pytest.raises(SeqclfError, match="item 1"):  # a list's texts are named by position
        fitted.explain(["fine", " "])
    with pytest.raises(SeqclfError, match="unknown class 'nope'"):
        fitted.explain(["fine"], label="nope")
    with pytest.raises(SeqclfError, match="steps"):
        fitted.explain(["fine"], steps=0)


def test_top_words_rank_each_class_keyword_first(corpus):
    (texts, labels, _), (test_texts, _, _) = corpus
    clf = TextClassifier(**SETTINGS["bag"], max_len=16, epochs=6, seed=3, valid_fraction=0.1).fit(texts, labels)
    report = clf.top_words(test_texts, top=3, steps=20)
    for keyword, name in KEYWORDS.items():
        assert report["classes"][name][0]["word"] == keyword
        assert report["classes"][name][0]["count"] >= 3


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_an_lstm_trained_on_a_gpu_is_explained_there(corpus):
    """cuDNN's recurrent kernels give no gradients in eval mode: explaining runs PyTorch's own kernels."""
    (texts, labels, _), (test_texts, _, positions) = corpus
    clf = TextClassifier(**SETTINGS["lstm"], max_len=16, epochs=6, seed=3, valid_fraction=0.1, device="cuda")
    clf.fit(texts, labels)
    assert next(clf.model.parameters()).device.type == "cuda"
    explanations = clf.explain(test_texts)
    hits = [int(np.argmax([t["attribution"] for t in e.tokens])) == p for e, p in zip(explanations, positions)]
    assert np.mean(hits) >= 0.95
    for e in explanations:
        assert sum(t["attribution"] for t in e.tokens) == pytest.approx(e.score - e.baseline_score + e.delta, abs=1e-3)
