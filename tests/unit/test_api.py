import json

import numpy as np
import pytest
import torch

from seqclf import DataError, NotFittedError, TextClassifier
from seqclf.text.tensors import pad_batch
from seqclf.training.history import History
from seqclf.training.trainer import Callback

from helpers import TINY, assert_same_probabilities


def test_predict_proba_rows_sum_to_one_in_classes_order(fitted, demo_data):
    texts, _ = demo_data
    probabilities = fitted.predict_proba(texts[:20])
    assert probabilities.shape == (20, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert fitted.classes_ == ["negative", "neutral", "positive"]  # sorted by default
    assert fitted.predict(texts[:20]) == [fitted.classes_[i] for i in probabilities.argmax(axis=1)]


def test_results_come_back_in_input_order(fitted, demo_data):
    texts, _ = demo_data
    batch = fitted.predict_proba(texts[:50])
    one_by_one = np.stack([fitted.predict_proba([t])[0] for t in texts[:50]])
    assert np.allclose(batch, one_by_one, atol=1e-6)


def test_history_has_one_record_per_epoch(fitted):
    assert [r.epoch for r in fitted.history.records] == [1, 2]
    assert all(r.valid_accuracy is not None for r in fitted.history.records)  # 10% held out by default


def test_same_seed_gives_the_same_metrics(demo_data):
    texts, labels = demo_data
    runs = [TextClassifier(**TINY, seed=3).fit(texts, labels).history.to_jsonl() for _ in range(2)]
    strip = lambda s: [{k: v for k, v in json.loads(line).items() if k not in ("seconds", "tokens_per_second")}
                       for line in s.splitlines()]
    assert strip(runs[0]) == strip(runs[1])


def test_first_seen_label_order(demo_data):
    texts, labels = demo_data
    clf = TextClassifier(**TINY, label_order="first-seen").fit(texts, labels, epochs=1)
    assert clf.classes_ == list(dict.fromkeys(labels))


def test_explicit_validation_and_no_validation(demo_data):
    texts, labels = demo_data
    clf = TextClassifier(**TINY).fit(texts[:200], labels[:200], valid=(texts[200:], labels[200:]), epochs=1)
    assert clf.history.records[0].valid_accuracy is not None
    clf = TextClassifier(**TINY).fit(texts, labels, valid=0.0, epochs=1)
    assert clf.history.records[0].valid_accuracy is None


def test_best_epoch_weights_are_kept(demo_data):
    texts, labels = demo_data
    clf = TextClassifier(**{**TINY, "epochs": 4}).fit(texts, labels)
    best = clf.history.best_epoch
    record = clf.history.records[best - 1]
    # Re-scoring the held-out split with the kept weights reproduces the best epoch's accuracy.
    order = np.random.default_rng(clf.config.train.seed).permutation(len(texts))[: round(len(texts) * 0.1)]
    held_texts, held_labels = [texts[i] for i in order], [labels[i] for i in order]
    assert clf.evaluate(held_texts, held_labels)["accuracy"] == pytest.approx(record.valid_accuracy)


def test_padding_to_10_or_60_gives_the_same_probabilities(fitted):
    corpus = fitted.tokenizer.encode(["this movie was truly great"])
    device = fitted.model.head.weight.device
    with torch.no_grad():
        p10 = torch.softmax(fitted.model(*(t.to(device) for t in pad_batch(corpus, np.array([0]), length=10))), 1)
        p60 = torch.softmax(fitted.model(*(t.to(device) for t in pad_batch(corpus, np.array([0]), length=60))), 1)
    assert (p10 - p60).abs().max().item() <= 1e-5


def test_save_load_gives_identical_probabilities(fitted, model_dir, demo_data):
    texts, _ = demo_data
    loaded = TextClassifier.load(model_dir)
    assert loaded.classes_ == fitted.classes_ and loaded.config == fitted.config
    assert_same_probabilities(loaded, fitted, texts)
    assert loaded.history == fitted.history


def test_trace_is_the_prediction_path(fitted):
    trace = fitted.trace("I love this movie so much")
    assert trace.ids[: trace.length] == [t["id"] for t in trace.tokens][: trace.length]
    assert trace.ids[trace.length :] == [0] * (trace.max_len - trace.length)
    assert len(trace.embedding) == trace.max_len and len(trace.embedding[0]) == TINY["embed_dim"]
    assert len(trace.sequence_vector) == TINY["hidden_dim"]
    assert trace.sequence_vector == pytest.approx(trace.encoder_steps[trace.length - 1], abs=1e-4)  # last pooling
    assert np.allclose(trace.probabilities, fitted.predict_proba([trace.text])[0], atol=1e-6)
    assert trace.label == fitted.predict([trace.text])[0]
    rendered = trace.render()
    for stage in ("1 tokens", "2 ids", "3 embedding", "4 encoder steps", "sequence vector", "5 logits", "softmax",
                  "predicted"):
        assert stage in rendered
    # stage 5's temperature step: the head's logits, divided by the fitted temperature, give the probabilities
    assert trace.temperature == fitted.calibration.temperature
    assert f"temperature     logits / {trace.temperature:.3f}" in rendered
    assert np.allclose(np.exp(np.array(trace.logits) / trace.temperature) / np.exp(np.array(trace.logits) /
                       trace.temperature).sum(), trace.probabilities, atol=1e-6)


def test_data_flow_shapes(fitted, demo_data):
    texts, _ = demo_data
    flow = fitted.data_flow(texts)
    assert fitted.calibration.kept  # the tiny model is over-confident on its validation data: the temperature stays
    assert flow.summary() == ("300 x variable -> 300 x 12 -> 300 x 12 x 16 -> 300 x 12 x 12 -> 300 x 12 -> 300 x 3 "
                              "-> 300 x 3 -> 300 x 3")
    assert [r.stage for r in flow.rows] == ["1 raw text", "2 token ids", "3 embedding", "4 encoder", "4 pooling",
                                            "5 fully connected", "5 temperature", "5 softmax"]
    assert f"logits / {fitted.calibration.temperature:.3f}" in flow.rows[6].operation


def test_bad_input_raises_value_errors():
    with pytest.raises(DataError, match="only one class"):
        TextClassifier(**TINY).fit(["a", "b"], ["x", "x"])
    with pytest.raises(DataError, match="empty text"):
        TextClassifier(**TINY).fit(["a", ""], ["x", "y"])
    with pytest.raises(DataError, match="no training examples"):
        TextClassifier(**TINY).fit([], [])
    unfitted = TextClassifier()
    for use in (lambda: unfitted.predict(["a"]), lambda: unfitted.predict_top(["a"]), lambda: unfitted.trace("a"),
                lambda: unfitted.data_flow(["a"]), unfitted.describe, lambda: unfitted.evaluate(["a"], ["x"]),
                lambda: unfitted.explain(["a"]), unfitted.export_onnx, lambda: unfitted.save("never")):
        with pytest.raises(NotFittedError, match="no model yet"):  # every use of the model says so, first
            use()
    with pytest.raises(ValueError, match="unknown setting"):
        TextClassifier(embeding_dim=3)


def test_validation_labels_must_be_known(demo_data):
    texts, labels = demo_data
    with pytest.raises(DataError, match="labels not seen in training: 'other'"):
        TextClassifier(**TINY).fit(texts, labels, valid=(["x"], ["other"]))


def test_linear_schedule_lowers_the_learning_rate(demo_data):
    texts, labels = demo_data
    constant = TextClassifier(**TINY).fit(texts, labels).history.records
    linear = TextClassifier(**TINY, lr_schedule="linear").fit(texts, labels).history.records
    assert [r.learning_rate for r in constant] == [TextClassifier().config.train.lr] * 2
    assert linear[1].learning_rate < linear[0].learning_rate < TextClassifier().config.train.lr


@pytest.mark.parametrize("settings", [
    dict(encoder="gru", bidirectional=True, pooling="attention"),
    dict(encoder="rnn", bidirectional=False, pooling="mean"),
    dict(encoder="cnn", bidirectional=False, pooling="max"),
    dict(encoder="transformer", bidirectional=False, pooling="attention", hidden_dim=8, num_heads=2),
    dict(encoder="bag", bidirectional=False, pooling="mean", ngram_buckets=1000),
], ids=lambda s: s["encoder"])
def test_every_encoder_trains_saves_and_loads(demo_data, tmp_path, settings):
    texts, labels = demo_data
    clf = TextClassifier(**{**TINY, **settings}).fit(texts, labels, epochs=1)
    loaded = TextClassifier.load(clf.save(tmp_path / "m"))
    assert_same_probabilities(loaded, clf, texts[:30])
    trace = loaded.trace(texts[0])
    assert np.allclose(trace.probabilities, loaded.predict_proba([texts[0]])[0], atol=1e-6)


def test_regularization_settings_take_effect(demo_data):
    texts, labels = demo_data
    plain = TextClassifier(**TINY).fit(texts, labels).history.records[0].train_loss
    smoothed = TextClassifier(**TINY, label_smoothing=0.3).fit(texts, labels).history.records[0].train_loss
    assert smoothed != plain
    stopped = TextClassifier(**{**TINY, "epochs": 30}, patience=2).fit(texts, labels)
    history = stopped.history
    assert len(history.records) == history.best_epoch + 2 < 30  # two epochs past the best, then stop
    weighted = TextClassifier(**TINY, class_weight="balanced").fit(texts[:150], labels[:150])
    assert len(weighted.history.records) == 2


def test_plateau_schedule_halves_the_rate_after_an_epoch_without_improvement(demo_data):
    texts, labels = demo_data
    records = TextClassifier(**{**TINY, "epochs": 6}, lr_schedule="plateau").fit(texts, labels).history.records
    assert records[0].learning_rate == TextClassifier().config.train.lr
    for n, (before, after) in enumerate(zip(records, records[1:]), start=1):
        improved = History(records[:n]).best_epoch == n
        assert after.learning_rate == pytest.approx(before.learning_rate * (1.0 if improved else 0.5))
    assert records[-1].learning_rate < records[0].learning_rate


# -- ensembles and n-gram evidence ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ensemble(demo_data):
    texts, labels = demo_data
    return TextClassifier(**{**TINY, "ensemble": 2, "ngram_evidence": True}).fit(texts, labels)


def test_an_ensemble_resolves_its_combination_and_keeps_every_history(ensemble):
    fitted = ensemble.fitted_state
    assert fitted.combine in ("mean", "geometric") and isinstance(fitted.ngram_weight, float)
    assert isinstance(fitted.ngram_l2, float)
    settings = ensemble.config  # as given: what training chose is not written back into them
    assert (settings.model.combine, settings.model.ngram_weight, settings.train.ngram_l2) == ("auto", "auto", "auto")
    assert [r.member for r in ensemble.history.records] == [0, 0, 1, 1]
    assert 0 <= ensemble.validation["accuracy"] <= 1


def test_an_ensemble_saves_and_loads_to_the_same_probabilities(ensemble, demo_data, tmp_path):
    texts = demo_data[0][:40]
    loaded = TextClassifier.load(ensemble.save(tmp_path / "ensemble"))
    assert_same_probabilities(loaded, ensemble, texts)
    assert json.loads((tmp_path / "ensemble" / "config.json").read_text())["format_version"] == 4


def test_the_trace_shows_every_model_and_the_ngrams_that_pushed(ensemble):
    trace = ensemble.trace("I love this movie")
    assert [m["name"] for m in trace.models] == ["sequence model 1", "sequence model 2", "n-gram evidence"]
    assert sum(m["weight"] for m in trace.models) == pytest.approx(1)
    label = trace.classes.index(trace.label)
    pushed = [g["evidence"][label] for g in trace.ngrams]
    assert pushed == sorted(pushed, reverse=True) and {"love", "i love", "this movie"} <= {g["ngram"] for g in trace.ngrams}
    rendered = trace.render()
    assert "n-gram evidence (weight" in rendered and "n-grams         for " in rendered
    assert trace.probabilities == pytest.approx(ensemble.predict_proba(["I love this movie"])[0].tolist(), abs=1e-6)


def test_the_data_flow_has_the_combination_stages(ensemble, demo_data):
    stages = [row.stage for row in ensemble.data_flow(demo_data[0]).rows]
    calibrated = ["5 temperature"] if ensemble.calibration.kept else []
    assert stages[5:] == ["5 fully connected", "5 sequence models", "5 n-gram evidence", "5 combination", *calibrated,
                          "5 softmax"]


def test_an_interrupted_ensemble_resumes_from_its_finished_members(demo_data, tmp_path):
    texts, labels = demo_data
    settings = {**TINY, "ensemble": 2}
    first = TextClassifier(**settings).fit(texts, labels, checkpoint_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.member0.safetensors",
                                                          "checkpoint.member1.safetensors", "checkpoint.safetensors"]

    class Count(Callback):
        epochs = 0

        def on_epoch_begin(self, epoch, steps):
            Count.epochs += 1

    again = TextClassifier(**settings).fit(texts, labels, checkpoint_dir=tmp_path, resume=True, callbacks=[Count()])
    assert Count.epochs == 0  # both members were finished: nothing is trained again
    assert again.model.weights_fingerprint() == first.model.weights_fingerprint()
