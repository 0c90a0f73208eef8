"""ONNX on real data: every exportable encoder gives PyTorch's answers in ONNX Runtime on 1,000 SST-2
test sentences of all lengths, and int8 models keep a trained model's test accuracy."""
import numpy as np
import pytest

from seqclf import TextClassifier
from seqclf.deploy.graph import UNEXPORTABLE
from seqclf.nn.encoders import ENCODERS

SMALL = dict(embed_dim=32, hidden_dim=32, epochs=1, batch_size=32)
EXPORTABLE = {  # each encoder once, with the poolings and options spread over them
    "lstm": dict(bidirectional=True, num_layers=2, pooling="attention"),
    "gru": dict(bidirectional=True, pooling="last"),
    "cnn": dict(bidirectional=False, pooling="max"),
    "transformer": dict(bidirectional=False, pooling="mean", num_heads=2),
    "bag": dict(bidirectional=False, pooling="max", ngram_buckets=20_000),
}


def test_every_encoder_is_either_checked_here_or_refused_by_name():
    assert set(EXPORTABLE) | set(UNEXPORTABLE) == set(ENCODERS) and not set(EXPORTABLE) & set(UNEXPORTABLE)


@pytest.fixture(scope="module")
def sentences(sst2):
    """1,000 test sentences spread evenly over the length range (shortest and longest included)."""
    texts = sst2["test"].texts
    words = np.array([len(t.split()) for t in texts])
    picked = np.argsort(words, kind="stable")[np.linspace(0, len(texts) - 1, 1000).astype(int)]
    return [texts[i] for i in picked]


@pytest.mark.parametrize("encoder", list(EXPORTABLE))
def test_onnx_runtime_matches_pytorch(encoder, sst2, sentences, tmp_path):
    train = sst2["train"]
    clf = TextClassifier(**SMALL, encoder=encoder, **EXPORTABLE[encoder]).fit(train.texts[:3000], train.labels[:3000])
    lengths = clf.tokenizer.encode(sentences).lengths
    assert lengths.min() <= 3 and lengths.max() >= 40  # short and long sentences, padded together in batches
    directory = clf.save(tmp_path / encoder)
    report = clf.export_onnx(directory / "model.onnx")
    expected = clf.predict_proba(sentences)
    got = TextClassifier.load(directory, backend="onnx").predict_proba(sentences)
    error = float(np.abs(got - expected).max())
    print(f"{encoder}: max |probability difference| {error:.2e} over {len(sentences)} sentences "
          f"(export check {report.parity_error:.2e})")
    assert error <= 1e-4
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_int8_keeps_the_test_accuracy_of_a_trained_sst2_model(sst2, sst2_default_model, tmp_path):
    test = sst2["test"]
    directory = sst2_default_model.save(tmp_path / "sst2")
    fp32 = sst2_default_model.export_onnx(directory / "model.onnx")
    int8 = sst2_default_model.export_onnx(directory / "model.int8.onnx", quantize="int8")
    accuracy = {f"{backend} {quantize or 'fp32'}": TextClassifier.load(directory, backend, quantize).evaluate(
        test.texts, test.labels)["accuracy"] for backend in ("torch", "onnx") for quantize in (None, "int8")}
    print(accuracy, f"ONNX file {fp32.bytes:,} -> {int8.bytes:,} bytes")
    assert accuracy["onnx fp32"] == accuracy["torch fp32"]
    assert abs(accuracy["torch int8"] - accuracy["torch fp32"]) <= 0.005
    assert abs(accuracy["onnx int8"] - accuracy["torch fp32"]) <= 0.005
    assert int8.bytes <= 0.35 * fp32.bytes  # every weight matrix in 8 bits, embedding tables included
