import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqclf.text.tensors import pad_batch
from seqclf.ids import EncodedCorpus
from seqclf.nn.classifier import SequenceClassifier
from seqclf.nn.encoders import ENCODERS
from seqclf.nn.pooling import POOLINGS
from seqclf.nn.settings import ModelConfig

VOCAB, CLASSES = 40, 3
VARIANTS = [
    ModelConfig(embed_dim=50, hidden_dim=64, bidirectional=False, pooling="last"),  # the classic setup
    ModelConfig(embed_dim=8, hidden_dim=6, bidirectional=True, pooling="last"),
    ModelConfig(embed_dim=8, hidden_dim=6, bidirectional=True, pooling="max", num_layers=2),
    ModelConfig(embed_dim=8, hidden_dim=6, bidirectional=False, pooling="mean", num_layers=2),
    ModelConfig(encoder="gru", embed_dim=8, hidden_dim=6, bidirectional=True, pooling="attention"),
    ModelConfig(encoder="rnn", embed_dim=8, hidden_dim=6, bidirectional=True, pooling="last", num_layers=2),
    ModelConfig(encoder="cnn", embed_dim=8, hidden_dim=6, bidirectional=False, pooling="max", kernel_sizes="2,3,5"),
    ModelConfig(encoder="transformer", embed_dim=8, hidden_dim=8, num_heads=2, bidirectional=False,
                pooling="attention", num_layers=2),
    ModelConfig(encoder="transformer", embed_dim=8, hidden_dim=8, num_heads=2, bidirectional=False, pooling="mean"),
    ModelConfig(encoder="bag", embed_dim=8, bidirectional=False, pooling="mean", ngram_buckets=97),
    ModelConfig(embed_dim=8, hidden_dim=6, bidirectional=True, pooling="last", ngram_buckets=97),
]


def model_for(config: ModelConfig) -> SequenceClassifier:
    torch.manual_seed(0)
    return SequenceClassifier(config, VOCAB, CLASSES).eval()


def test_the_variants_cover_every_encoder_and_pooling_the_config_accepts():
    """The config validates against the registries themselves (one list each), so these are the choices."""
    assert {config.encoder for config in VARIANTS} == set(ENCODERS)
    assert {config.pooling for config in VARIANTS} == set(POOLINGS)
    from seqclf.errors import ConfigError
    with pytest.raises(ConfigError, match="choose one of: lstm, gru, rnn, cnn, transformer, bag"):
        ModelConfig(encoder="xlstm").validate()


@pytest.mark.parametrize("config", VARIANTS, ids=lambda c: f"{c.encoder}-bi{c.bidirectional}-{c.pooling}-{c.num_layers}")
def test_stage_shapes(config):
    model = model_for(config)
    ids = torch.randint(2, VOCAB, (5, 10))
    stages = model.forward_stages(ids, torch.tensor([10, 3, 1, 7, 10]))
    directions = 2 if config.bidirectional else 1
    features = config.hidden_dim * (len(config.widths) if config.encoder == "cnn" else directions)
    if config.encoder == "bag":
        features = config.embed_dim
    assert model.encoder.output_dim == features
    assert stages["embedded"].shape == (5, 10, config.embed_dim)
    assert stages["encoded"].shape == (5, 10, features)
    assert stages["pooled"].shape == (5, features)
    assert stages["logits"].shape == (5, CLASSES)
    assert torch.equal(model(ids, torch.tensor([10, 3, 1, 7, 10])), stages["logits"])


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(1, 12), min_size=1, max_size=6), extra=st.integers(1, 50), seed=st.integers(0, 99))
def test_padding_never_changes_the_output(lengths, extra, seed):
    """Property: whatever the padding after a sequence, every variant gives the same probabilities."""
    rng = np.random.default_rng(seed)
    corpus = EncodedCorpus.from_sequences([rng.integers(2, VOCAB, size=n).tolist() for n in lengths])
    index = np.arange(len(lengths))
    short = pad_batch(corpus, index)
    long = pad_batch(corpus, index, length=max(lengths) + extra)
    for config in VARIANTS:
        model = model_for(config)
        with torch.no_grad():
            a, b = torch.softmax(model(*short), 1), torch.softmax(model(*long), 1)
        assert torch.allclose(a, b, atol=1e-5), config


def test_classic_sentence_padded_to_10_and_60_gives_the_same_probabilities():
    corpus = EncodedCorpus.from_sequences([[5, 9, 13, 2]])
    model = model_for(VARIANTS[0])
    with torch.no_grad():
        p10 = torch.softmax(model(*pad_batch(corpus, np.array([0]), length=10)), 1)
        p60 = torch.softmax(model(*pad_batch(corpus, np.array([0]), length=60)), 1)
    assert (p10 - p60).abs().max().item() <= 1e-5


def test_padding_embedding_is_zero_and_untrained():
    model = model_for(VARIANTS[1])
    assert torch.count_nonzero(model.embedding.weight[0]) == 0
    model.train()
    model(torch.tensor([[3, 4, 0, 0]]), torch.tensor([2])).sum().backward()
    assert torch.count_nonzero(model.embedding.weight.grad[0]) == 0


def test_bigrams_are_hashed_per_step_and_never_formed_with_padding():
    model = model_for(ModelConfig(encoder="bag", embed_dim=4, bidirectional=False, pooling="mean", ngram_buckets=11))
    ids = torch.tensor([[3, 5, 7, 0], [3, 5, 9, 4]])
    with torch.no_grad():
        bigrams = model.bigrams(ids, torch.tensor([3, 4]))  # (2, 4, 4)
    assert torch.equal(bigrams[0, 0], bigrams[1, 0])  # the same bigram (3, 5) in both rows
    assert torch.count_nonzero(bigrams[0, 2:]) == 0  # (7, <pad>) and padding: no bigram
    assert torch.count_nonzero(bigrams[1, 2]) > 0 and torch.count_nonzero(bigrams[1, 3]) == 0


def test_word_dropout_turns_real_tokens_into_unk_only_while_training():
    from seqclf.ids import PAD_ID, UNK_ID
    from seqclf.nn.classifier import drop_words

    torch.manual_seed(0)
    ids = torch.tensor([[5, 6, 7, PAD_ID], [8, 9, PAD_ID, PAD_ID]])
    dropped = drop_words(ids, 0.5)
    assert ((dropped == ids) | (dropped == UNK_ID)).all()
    assert (dropped[ids == PAD_ID] == PAD_ID).all()
    assert (drop_words(ids, 0.999999)[ids != PAD_ID] == UNK_ID).all()

    model = SequenceClassifier(ModelConfig(word_dropout=0.5, embed_dropout=0.0, dropout=0.0), 10, 2).eval()
    lengths = torch.tensor([3, 2])
    assert torch.equal(model(ids, lengths), model(ids, lengths))  # no randomness at prediction time
