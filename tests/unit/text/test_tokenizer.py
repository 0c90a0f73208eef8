import numpy as np
import pytest
from tokenizers import Tokenizer

from seqclf.text.tensors import pad_batch
from seqclf.ids import PAD, UNK, UNK_ID
from seqclf.text.tokenizer import TokenizerConfig, WordTokenizer, auto_max_len

TEXTS = ["The film, sadly, was BAD!", "the film was good", "good good film"]


def test_lowercases_and_splits_words_and_punctuation():
    tokenizer, _ = WordTokenizer.train(TEXTS, TokenizerConfig(max_len=8))
    assert [t.text for t in tokenizer.tokens("The film, sadly!")] == ["The", "film", ",", "sadly", "!"]
    ids = [t.id for t in tokenizer.tokens("THE Film")]
    assert ids == [t.id for t in tokenizer.tokens("the film")]


def test_pad_is_0_and_unk_is_1():
    tokenizer, _ = WordTokenizer.train(TEXTS, TokenizerConfig(max_len=8))
    assert tokenizer.id_to_token(0) == PAD and tokenizer.id_to_token(1) == UNK
    (token,) = tokenizer.tokens("zebra")
    assert token.id == UNK_ID and not token.known


def test_min_freq_and_max_size():
    tokenizer, _ = WordTokenizer.train(TEXTS, TokenizerConfig(min_freq=2, max_len=8))
    kept = {tokenizer.id_to_token(i) for i in range(tokenizer.vocab_size)}
    assert kept == {PAD, UNK, "the", "film", "was", "good", ","}
    small, _ = WordTokenizer.train(TEXTS, TokenizerConfig(max_size=2, max_len=8))
    assert small.vocab_size == 4  # two words plus <pad> and <unk>
    assert {small.id_to_token(2), small.id_to_token(3)} == {"film", "good"}  # the most frequent


def test_truncation_to_max_len():
    tokenizer, corpus = WordTokenizer.train(TEXTS, TokenizerConfig(max_len=3))
    assert corpus.lengths.tolist() == [3, 3, 3]
    assert tokenizer.encode(["good"]).lengths.tolist() == [1]


def test_auto_max_len_is_a_high_percentile():
    lengths = np.array([1] * 98 + [50, 60])
    assert auto_max_len(lengths, 95.0) == 1
    assert auto_max_len(lengths, 100.0) == 60
    texts = ["a " * n for n in range(1, 101)]
    tokenizer, corpus = WordTokenizer.train(texts, TokenizerConfig(max_len="auto", max_len_percentile=90))
    assert tokenizer.max_len == 91
    assert corpus.lengths.max() == 91


def test_text_without_tokens_reads_as_one_unknown():
    tokenizer, _ = WordTokenizer.train(TEXTS, TokenizerConfig(max_len=4))
    corpus = tokenizer.encode(["   "])
    assert corpus.lengths.tolist() == [1] and corpus.ids.tolist() == [UNK_ID]


def test_saved_tokenizer_json_gives_the_model_input_on_its_own(tmp_path):
    tokenizer, _ = WordTokenizer.train(TEXTS, TokenizerConfig(max_len=6))
    tokenizer.save(tmp_path / "tokenizer.json")
    standalone = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    texts = ["the film was good", "Sadly the film, was bad and long"]
    ours, _ = pad_batch(tokenizer.encode(texts), np.arange(2), length=6)
    theirs = [e.ids for e in standalone.encode_batch(texts, add_special_tokens=False)]
    assert ours.tolist() == theirs
    reloaded = WordTokenizer.load(tmp_path / "tokenizer.json", max_len=6)
    assert reloaded.encode(texts).ids.tolist() == tokenizer.encode(texts).ids.tolist()


def test_a_window_stride_longer_than_an_auto_max_len_is_refused_once_max_len_is_known():
    from seqclf.errors import ConfigError
    from seqclf.text.tokenizer import TokenizerConfig, resolve_max_len

    config = TokenizerConfig(max_len="auto", window_stride=30, long_text="chunk")
    config.validate()  # max_len is not known yet
    with pytest.raises(ConfigError, match=r"field 'window_stride': must be at most max_len \(8: max_len auto"):
        resolve_max_len(config, np.bincount(np.full(50, 8)))
    assert resolve_max_len(TokenizerConfig(max_len="auto", window_stride=8), np.bincount(np.full(50, 8))) == 8
