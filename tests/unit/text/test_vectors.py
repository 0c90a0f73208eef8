import gzip

import numpy as np
import pytest
import torch

from seqclf import ConfigError, DataError, TextClassifier
from seqclf.text.vectors import read_vectors

from helpers import TINY

VOCABULARY = {"<pad>": 0, "<unk>": 1, "good": 2, "bad": 3, "film": 4}


def test_glove_and_word2vec_formats(tmp_path):
    glove = tmp_path / "v.txt"
    glove.write_text("good 1 2 3\nzebra 9 9 9\nbad -1 -2 -3\ngood 7 7 7\n")
    table, found, coverage = read_vectors(glove, VOCABULARY, 5)
    assert table[2].tolist() == [1, 2, 3] and table[3].tolist() == [-1, -2, -3]  # the first "good" wins
    assert found.tolist() == [False, False, True, True, False]
    assert (coverage.found, coverage.vocabulary, coverage.dimension) == (2, 3, 3)
    assert "2 of 3 vocabulary words found (67%)" in str(coverage)
    word2vec = tmp_path / "v.vec.gz"
    with gzip.open(word2vec, "wt", encoding="utf-8") as handle:
        handle.write("2 2\nfilm 0.5 0.25\nbad 1 1\n")
    table, found, coverage = read_vectors(word2vec, VOCABULARY, 5)
    assert table[4].tolist() == [0.5, 0.25] and coverage.dimension == 2


@pytest.mark.parametrize("content, message", [
    ("good 1 2\nbad 1 2 3\n", r"v\.txt:2: 3 values, earlier lines have 2"),
    ("good 1 x\n", r"v\.txt:1: a value is not a number"),
    ("good\n", r"v\.txt:1: expected a word followed by numbers"),
    ("", "no vectors in the file"),
])
def test_bad_vector_files(tmp_path, content, message):
    (tmp_path / "v.txt").write_text(content)
    with pytest.raises(DataError, match=message):
        read_vectors(tmp_path / "v.txt", VOCABULARY, 5)


def _vector_file(tmp_path, dimension):
    rng = np.random.default_rng(0)
    lines = [f"{w} " + " ".join(f"{v:.4f}" for v in rng.normal(size=dimension)) for w in ("movie", "love", "bad", "the")]
    (tmp_path / "vectors.txt").write_text("\n".join(lines) + "\n")
    return tmp_path / "vectors.txt", {line.split()[0]: [float(v) for v in line.split()[1:]] for line in lines}


@pytest.mark.parametrize("freeze", [True, False])
def test_training_starts_from_the_vectors(tmp_path, demo_data, freeze):
    path, vectors = _vector_file(tmp_path, TINY["embed_dim"])
    texts, labels = demo_data
    clf = TextClassifier(**TINY, vectors=str(path), freeze_vectors=freeze).fit(texts, labels)
    assert clf.vectors_coverage.found == sum(w in clf.tokenizer.vocabulary() for w in vectors)
    row = clf.model.embedding.weight[clf.tokenizer.vocabulary()["movie"]].cpu()
    close = torch.allclose(row, torch.tensor(vectors["movie"]), atol=1e-4)
    assert close == freeze  # frozen vectors stay as read; fine-tuned ones move
    assert torch.count_nonzero(clf.model.embedding.weight[0]) == 0


def test_vector_dimension_must_match(tmp_path, demo_data):
    path, _ = _vector_file(tmp_path, 5)
    with pytest.raises(ConfigError, match=r"field 'embed_dim': the vectors have dimension 5.*--embed-dim 5"):
        TextClassifier(**TINY, vectors=str(path)).fit(*demo_data)
