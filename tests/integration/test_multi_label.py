"""Multi-label classification on real text: a TREC question and a random SST-2 sentence in one text,
labelled {question type, sentiment}, plus a third label when a second question is appended."""
import json

import numpy as np
import pytest
from helpers import FILLER, SECOND_QUESTION, TOPICS, question_sentence_pairs, topic_texts

from seqclf import TextClassifier
from seqclf.data.readers import read_dataset
from seqclf.errors import ConfigError, DataError
from seqclf.task import MULTI_LABEL


def test_questions_with_sentences_get_both_labels(shared_data, sst2):
    trec = {split: read_dataset(shared_data / "trec" / f"{split}.tsv") for split in ("train", "test")}
    train = question_sentence_pairs(trec["train"], sst2["train"], seed=1)
    held_out = question_sentence_pairs(trec["test"], sst2["test"], seed=2)
    clf = TextClassifier().fit(*train)  # default settings; label lists: multi-label, detected
    assert clf.task is MULTI_LABEL and len(clf.fitted_state.thresholds) == 9
    assert not clf.config.data.multi_label  # detected from the data, not asked: the settings stay as given
    report = clf.evaluate(*held_out)
    print(f"TREC question + SST-2 sentence pairs, {report['examples']} held out: micro-F1 {report['micro_f1']:.4f}, "
          f"macro-F1 {report['macro_f1']:.4f}, samples-F1 {report['samples_f1']:.4f}, subset accuracy "
          f"{report['subset_accuracy']:.4f}, Hamming loss {report['hamming_loss']:.4f}; per label F1: "
          + ", ".join(f"{name} {row['f1']:.3f}" for name, row in report["per_label"].items()))
    assert report["micro_f1"] >= 0.80
    assert report["per_label"][SECOND_QUESTION]["f1"] >= 0.9  # the easy label is found
    predicted = clf.predict(held_out[0][:50])
    assert all(isinstance(labels, list) for labels in predicted) and any(len(labels) >= 2 for labels in predicted)


# -- a small multi-label model: every face of it ------------------------------------------------------

SMALL = dict(embed_dim=24, hidden_dim=24, epochs=6, max_len=16)


@pytest.fixture(scope="module")
def topics_model(tmp_path_factory):
    clf = TextClassifier(**SMALL, multi_label=True).fit(*topic_texts(1500, seed=0))
    return clf, clf.save(tmp_path_factory.mktemp("ml") / "topics")


def test_a_small_multi_label_model_learns_label_sets(topics_model):
    clf, _ = topics_model
    texts, labels = topic_texts(300, seed=1)
    report = clf.evaluate(texts, labels)
    assert report["micro_f1"] >= 0.95, report
    assert clf.predict(["the pizza and the bank and it was bread and stock"]) == [["food", "money"]] or \
        set(clf.predict(["the pizza and the bank and it was bread and stock"])[0]) == {"food", "money"}
    answer, = clf.predict_top(["the coach and the team"])
    assert answer["labels"] == ["sport"] and "do not sum to 1" in answer["note"] and "label" not in answer
    assert list(answer["probabilities"]) == sorted(answer["probabilities"], key=answer["probabilities"].get,
                                                   reverse=True)


def test_the_model_directory_records_the_task_and_thresholds(topics_model):
    clf, directory = topics_model
    config = json.loads((directory / "config.json").read_text())
    fitted = json.loads((directory / "fitted.json").read_text())
    assert fitted["task"] == "multi-label" and config["data"]["multi_label"] is True
    assert len(fitted["thresholds"]) == 3 and all(0 < t < 1 for t in fitted["thresholds"])
    assert "thresholds" not in config["model"] and "task" not in config
    loaded = TextClassifier.load(directory)
    texts, _ = topic_texts(50, seed=3)
    np.testing.assert_allclose(loaded.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    assert loaded.predict(texts) == clf.predict(texts)


def test_the_trace_and_data_flow_show_the_sigmoid_and_the_thresholds(topics_model):
    clf, _ = topics_model
    trace = clf.trace("the coach and the team")
    assert trace.multi_label and trace.labels == ["sport"] and len(trace.thresholds) == 3
    assert abs(sum(trace.probabilities) - 1) > 0.05  # independent probabilities
    rendered = trace.render()
    assert "sigmoid" in rendered and "thresholds" in rendered and "softmax" not in rendered and "{sport}" in rendered
    rows = [row.stage for row in clf.data_flow(["the coach and the team"]).rows]
    assert rows[-2:] == ["5 sigmoid", "5 thresholds"] and "5 softmax" not in rows


def test_onnx_graph_of_a_multi_label_model_matches_pytorch(topics_model, tmp_path):
    import onnx

    clf, directory = topics_model
    report = clf.export_onnx(directory / "model.onnx")
    texts, _ = topic_texts(200, seed=4, filler=(0, 30))
    expected = clf.predict_proba(texts)
    onnx_model = TextClassifier.load(directory, backend="onnx")
    got = onnx_model.predict_proba(texts)
    assert float(np.abs(got - expected).max()) <= 1e-4 and report.parity_error <= 1e-4
    assert onnx_model.predict(texts) == clf.predict(texts)
    metadata = {p.key: p.value for p in onnx.load(str(directory / "model.onnx")).metadata_props}
    assert metadata["seqclf.task"] == "multi-label"
    clf.export_onnx(directory / "model.int8.onnx", quantize="int8")
    int8 = TextClassifier.load(directory, backend="onnx", quantize="int8").predict_proba(texts)
    assert int8.shape == expected.shape and float(np.abs(int8 - expected).max()) < 0.1


def test_a_single_label_model_refuses_label_sets(fitted):
    with pytest.raises(DataError, match="holds label sets"):
        fitted.evaluate(["a text"], [["x", "y"]])


# -- long texts ------------------------------------------------------------------------------------------


def keyword_at_the_end(n: int, seed: int, length: int) -> tuple[list[str], list[str]]:
    """Texts of `length` filler words whose class is told by one keyword near the end."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = str(rng.choice(["sport", "food"]))
        words = [str(w) for w in rng.choice(FILLER, size=length)]
        words.insert(length - int(rng.integers(1, 4)), str(rng.choice(TOPICS[label])))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def test_chunking_reads_what_truncation_cuts_off():
    """Training reads every window of a long text and pools their logits, as prediction does (one random
    window per epoch, window_training=random, stays near chance here in 10 epochs)."""
    train, test = keyword_at_the_end(1000, seed=0, length=40), keyword_at_the_end(200, seed=1, length=40)
    settings = dict(embed_dim=16, hidden_dim=16, epochs=10, max_len=10, calibrate=False)
    truncated = TextClassifier(**settings).fit(*train)
    chunked = TextClassifier(**settings, long_text="chunk", window_pooling="max").fit(*train)
    accuracy = {name: clf.evaluate(*test)["accuracy"] for name, clf in (("truncate", truncated), ("chunk", chunked))}
    print(f"keyword after max_len: accuracy {accuracy}")
    assert accuracy["truncate"] <= 0.65 and accuracy["chunk"] >= 0.95
    answer, = truncated.predict_top([test[0][0]])
    assert "truncated" in answer and "windows" not in answer
    answer, = chunked.predict_top([test[0][0]])
    assert answer["windows"] == 1 + -(-(41 - 10) // 5) and "truncated" not in answer
    trace = chunked.trace(test[0][0])
    assert len(trace.windows) == answer["windows"] and trace.windows[-1]["end"] == 41 and trace.window_pooling == "max"
    np.testing.assert_allclose(trace.pooled_logits, np.max([w["logits"] for w in trace.windows], axis=0), atol=1e-6)
    assert "windows" in trace.render() and "window pooling" in trace.render()
    assert chunked.data_flow(test[0][:3]).rows[1].stage == "2 windows"


def test_a_multi_label_ensemble_is_refused_by_name():
    with pytest.raises(ConfigError, match="one sequence model") as caught:
        TextClassifier(ensemble=2).fit(*topic_texts(50, seed=0))
    assert caught.value.field == "ensemble"


def test_audit_and_tune_refuse_label_sets_by_name(tmp_path):
    from seqclf.audit import audit
    from seqclf.config import Config
    from seqclf.data.readers import dataset_from_lists
    from seqclf.tune import tune

    texts, labels = topic_texts(60, seed=0)
    with pytest.raises(DataError, match="holds label sets"):
        audit(dataset_from_lists(texts, labels), Config(), folds=2)
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": ls}) + "\n" for t, ls in zip(texts, labels)))
    with pytest.raises(DataError, match="holds label sets") as caught:
        tune(Config(), data, data, tmp_path / "tune", 10, cache=False)
    assert "seqclf train" in caught.value.hint
