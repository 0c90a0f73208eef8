"""The fast path of stage 2 gives exactly the ids and the vocabulary of the `tokenizers` definition."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from seqclf.ids import PAD, UNK, UNK_ID
from seqclf.text.tokenizer import TokenizerConfig, WordTokenizer

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# What breaks naive tokenizers: accents, CJK, emoji (and their modifiers), zero-width and joiner
# characters, combining marks, mixed case, punctuation runs, full-width forms, ligatures, the ASCII
# controls that Python calls white space and Unicode does not (\x1c-\x1f), and white space of every kind.
PIECES = st.sampled_from([
    "café", "naïve", "Ünïcode", "straße", "ǅ", "ﬁne", "Ｆｕｌｌ", "東京", "漢字テスト", "😀", "👍🏽", "👨‍👩‍👧",
    "\u200b", "\u200c", "\u200d", "\ufeff", "e\u0301", "\u0301", "A\u030a", "İ", "ΣΑΣ", "ὈΔΥΣΣΕΎΣ",
    "!!!", "?!", "...", "--", "'s", "n't", "(", ")", "[x]", "#1", "$5", "3.14", "snake_case", "CamelCase",
    "\x1c", "\x1d", "\x1e", "\x1f", "\x00", "\x7f", "\t", "\n", "\r", "\x0b", "\x0c", " ", "\u00a0", "\u2028",
    "\u3000", "x²", "½", "Ⅻ", "ⓐ",
])
TEXT = st.lists(st.one_of(PIECES, st.text(st.characters(exclude_categories=("Cs",)), max_size=6),
                          st.text(st.characters(max_codepoint=127), max_size=12)), max_size=10).map("".join)


def library(texts, lowercase=True, min_freq=1, max_size=None):
    """What `tokenizers` itself builds from the same definition."""
    hf = Tokenizer(models.WordLevel(unk_token=UNK))
    hf.normalizer = normalizers.Sequence([normalizers.NFKC()] + ([normalizers.Lowercase()] if lowercase else []))
    hf.pre_tokenizer = pre_tokenizers.Whitespace()
    size = (1 << 40) if max_size is None else max_size + 2
    hf.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=size, min_frequency=min_freq,
                                                            special_tokens=[PAD, UNK], show_progress=False))
    return hf


@PROPERTY
@given(texts=st.lists(TEXT, min_size=1, max_size=12), lowercase=st.booleans(),
       min_freq=st.integers(1, 3), max_size=st.one_of(st.none(), st.integers(1, 20)))
def test_the_vocabulary_is_the_trainers_own(texts, lowercase, min_freq, max_size):
    config = TokenizerConfig(lowercase=lowercase, min_freq=min_freq, max_size=max_size, max_len=1000)
    ours, encoded = WordTokenizer.train(texts, config)
    theirs = library(texts, lowercase, min_freq, max_size)
    assert ours.to_json() == theirs.to_str()
    for i, text in enumerate(texts):
        assert list(encoded.sequence(i)) == (theirs.encode(text).ids or [UNK_ID])


@PROPERTY
@given(train=st.lists(TEXT, min_size=1, max_size=8), texts=st.lists(TEXT, min_size=1, max_size=20))
def test_encoding_is_what_tokenizer_json_gives(tmp_path_factory, train, texts):
    tokenizer, _ = WordTokenizer.train(train + ["the common words"], TokenizerConfig(max_len=1000))
    path = tmp_path_factory.mktemp("tokenizer") / "tokenizer.json"
    tokenizer.save(path)
    standalone = Tokenizer.from_file(str(path))
    standalone.no_padding()
    corpus = tokenizer.encode(texts)
    for i, text in enumerate(texts):
        expected = standalone.encode(text).ids  # truncated to max_len by tokenizer.json itself
        assert list(corpus.sequence(i)) == (expected or [UNK_ID]), repr(text)


@pytest.mark.parametrize("texts", [["plain ascii"] * 3, ["café"] * 3, ["a b", "café crème", "x", "東京 tower", ""]])
def test_mixed_batches_keep_their_order(texts):
    tokenizer, _ = WordTokenizer.train(["a b café crème tower x"], TokenizerConfig(max_len=50))
    corpus = tokenizer.encode(texts)
    assert [list(corpus.sequence(i)) for i in range(len(texts))] == [list(tokenizer.encode([t]).sequence(0))
                                                                     for t in texts]


@PROPERTY
@given(texts=st.lists(st.one_of(TEXT, TEXT.map(lambda t: t.encode("ascii", "ignore").decode() * 7)), min_size=1,
                      max_size=20), max_len=st.integers(1, 12))
def test_the_model_reads_the_same_first_ids_however_they_are_found(texts, max_len):
    tokenizer, _ = WordTokenizer.train(texts + ["the common words"], TokenizerConfig(max_len=max_len))
    whole, cut = tokenizer.encode(texts), tokenizer.encode(texts, every_id=False)
    assert [list(cut.sequence(i)) for i in range(len(texts))] == [list(whole.sequence(i)) for i in range(len(texts))]


def test_special_tokens_spelled_out_in_a_text_encode_as_tokenizer_json_does(tmp_path):
    texts = ["<unk>", "a <pad> b", "x<unk>y <UNK>", "plain words"]
    config = TokenizerConfig(lowercase=False, max_len=1000)
    ours, encoded = WordTokenizer.train(texts, config)
    ours.save(tmp_path / "tokenizer.json")
    theirs = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    theirs.no_padding()
    for i, text in enumerate(texts):
        expected = theirs.encode(text).ids
        assert list(encoded.sequence(i)) == expected  # training's own encoding
        assert list(ours.encode([text]).sequence(0)) == expected == list(ours.encode([text], every_id=False).sequence(0))
    assert list(encoded.sequence(0)) == [UNK_ID]


def test_the_separator_character_as_a_word_of_a_text_is_counted_like_any_word():
    texts = ["A\u2063", "\u2063 b"]  # U+2063 is seqclf's boundary between texts inside the fast path
    config = TokenizerConfig(lowercase=False, max_len=1000)
    ours, encoded = WordTokenizer.train(texts, config)
    theirs = library(texts, lowercase=False)
    assert ours.to_json() == theirs.to_str()
    for i, text in enumerate(texts):
        assert list(encoded.sequence(i)) == theirs.encode(text).ids
