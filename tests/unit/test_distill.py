"""Distillation: a student learns its teacher's probabilities (not the labels) over the training texts and
perturbed copies of them, never sees a validation text, and is an ordinary model directory."""
import json

import numpy as np
import pytest

from seqclf import TextClassifier
from seqclf.data.readers import dataset_from_lists
from seqclf.distill import DistillConfig, distill, perturbed, save_student, student_config, with_copies
from seqclf.errors import ConfigError, DataError
from seqclf.text.encoded import encode_data
from seqclf.training.examples import SoftTargets

from helpers import TINY, assert_same_probabilities

STUDENT = {**TINY, "encoder": "bag", "pooling": "max", "epochs": 6, "lr": 0.02, "calibrate": False}


@pytest.fixture(scope="module")
def teacher(demo_data):
    texts, labels = demo_data
    return TextClassifier(**{**TINY, "epochs": 4, "pooling": "max"}, ensemble="gru,bag", ngram_evidence=True).fit(texts, labels,
                                                                                               progress=False)


def test_a_copy_keeps_some_of_its_words_each_moved_at_most_shuffle_places():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    for _ in range(200):
        moved = perturbed(" ".join(words), rng, DistillConfig(drop=0.0, shuffle=3)).split()
        assert sorted(moved) == sorted(words)
        assert all(abs(moved.index(word) - i) <= 3 for i, word in enumerate(words))
        dropped = perturbed(" ".join(words), rng, DistillConfig(drop=0.5, shuffle=0)).split()
        assert dropped and all(dropped.index(b) > dropped.index(a) for a, b in zip(dropped, dropped[1:]))
        assert set(dropped) <= set(words)
    assert perturbed("alone", rng, DistillConfig(drop=0.99)) == "alone"  # one word is always kept


def test_copies_come_after_the_texts_and_keep_their_labels():
    data = dataset_from_lists(["a b c", "d e f g"], ["x", "y"], "data")
    copied = with_copies(data, DistillConfig(copies=3), seed=0)
    assert copied.texts[:2] == data.texts and len(copied) == 8
    assert copied.labels == ["x", "y"] * 4


def test_the_student_learns_the_teachers_probabilities_not_the_labels(demo_data):
    texts, labels = demo_data
    classifier = TextClassifier(**STUDENT)
    tokenizer = TextClassifier(**STUDENT).fit(texts[:50], labels[:50], epochs=1, progress=False).tokenizer
    train = encode_data(dataset_from_lists(texts, labels, "data"), tokenizer)
    classes = sorted(set(labels))
    everything_first = np.zeros((len(texts), len(classes)), dtype=np.float32)
    everything_first[:, 0] = 1.0  # a teacher that answers the first class, whatever the text
    classifier.fit_encoded(tokenizer, train, 0.0, soft=SoftTargets(classes, everything_first))
    assert set(classifier.predict(texts)) == {classes[0]}
    correct = [record.train_accuracy for record in classifier.history.records]
    assert correct[-1] == 1.0  # agreement with the teacher, not accuracy on the labels


def test_a_teacher_of_other_classes_is_refused(demo_data):
    texts, labels = demo_data
    tokenizer = TextClassifier(**STUDENT).fit(texts[:50], labels[:50], epochs=1, progress=False).tokenizer
    train = encode_data(dataset_from_lists(texts, labels, "data.tsv"), tokenizer)
    soft = SoftTargets(["yes", "no"], np.full((len(texts), 2), 0.5, dtype=np.float32))
    with pytest.raises(DataError, match="teacher's classes") as raised:
        TextClassifier(**STUDENT).fit_encoded(tokenizer, train, 0.0, soft=soft)
    assert raised.value.path == "data.tsv"


def test_a_student_is_close_to_its_teacher_on_held_out_texts_and_saves_as_any_model(teacher, demo_data, tmp_path):
    texts, labels = demo_data
    data = dataset_from_lists(texts, labels, "data")
    config = student_config(teacher.config, "none").updated({**STUDENT, "valid_fraction": 0.2})
    distilled = distill(teacher, data, None, config, DistillConfig(copies=2))
    held_out = round(0.2 * len(texts))
    assert (distilled.texts, distilled.examples) == (len(texts) - held_out, 3 * (len(texts) - held_out))
    assert distilled.agreement >= 0.8, distilled.to_dict()
    assert distilled.student.tokenizer.fingerprint() == teacher.tokenizer.fingerprint()
    assert distilled.student.config.model.sequence_models == 1

    directory = save_student(distilled, tmp_path / "student")
    loaded = TextClassifier.load(directory)
    assert_same_probabilities(loaded, distilled.student, texts[:40])
    saved = json.loads((directory / "distillation.json").read_text())
    assert saved["settings"] == {"copies": 2, "drop": 0.1, "shuffle": 3}
    assert saved["validation"]["agreement"] == distilled.agreement
    assert loaded.trace("I love this movie").label in loaded.classes_


def test_distillation_settings_are_checked(teacher, demo_data):
    data = dataset_from_lists(*demo_data, "data")
    with pytest.raises(ConfigError, match="drop"):
        distill(teacher, data, None, student_config(teacher.config), DistillConfig(drop=1.5))
