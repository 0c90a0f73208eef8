"""Every sentence of ../shared/data: the fast path's ids are tokenizer.json's, and the vocabulary built in
one pass is WordLevelTrainer's."""
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from seqclf.data.readers import read_dataset
from seqclf.ids import PAD, UNK
from seqclf.text.tokenizer import TokenizerConfig, WordTokenizer


def test_every_shared_sentence_encodes_as_tokenizer_json_does(shared_data, tmp_path):
    files = sorted(shared_data.glob("*/*.tsv"))
    texts = [text for path in files for text in read_dataset(path).texts]
    train = read_dataset(shared_data / "sst2" / "train.tsv").texts
    tokenizer, _ = WordTokenizer.train(train, TokenizerConfig(max_len=1000))
    tokenizer.save(tmp_path / "tokenizer.json")
    standalone = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    standalone.no_padding()
    corpus = tokenizer.encode(texts)
    expected = [e.ids for e in standalone.encode_batch(texts)]
    assert len(texts) > 15_000
    assert all(list(corpus.sequence(i)) == ids for i, ids in enumerate(expected))


def test_the_one_pass_vocabulary_is_the_trainers(shared_data):
    for name in ("sst2", "trec"):
        texts = read_dataset(shared_data / name / "train.tsv").texts
        for min_freq, max_size in ((1, None), (2, 3000)):
            ours, _ = WordTokenizer.train(texts, TokenizerConfig(min_freq=min_freq, max_size=max_size, max_len=64))
            hf = Tokenizer(models.WordLevel(unk_token=UNK))
            hf.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
            hf.pre_tokenizer = pre_tokenizers.Whitespace()
            size = (1 << 40) if max_size is None else max_size + 2
            hf.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=size, min_frequency=min_freq,
                                                                    special_tokens=[PAD, UNK], show_progress=False))
            assert ours.to_json() == hf.to_str(), (name, min_freq, max_size)
