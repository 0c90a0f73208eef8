"""A model of sequence models of different recipes: trained each with its own settings, saved, loaded,
resumed and shown as any model."""
import json

import pytest

from seqclf import TextClassifier
from seqclf.training.trainer import Callback

from helpers import TINY, assert_same_probabilities

MIXED = {**TINY, "pooling": "max", "ensemble": "gru,bag"}


@pytest.fixture(scope="module")
def mixed(demo_data):
    texts, labels = demo_data
    return TextClassifier(**MIXED, ngram_evidence=True).fit(texts, labels)


def test_each_sequence_model_is_built_and_trained_by_its_recipe(mixed):
    first, second = mixed.model.members
    assert (first.config.encoder, second.config.encoder) == ("gru", "bag")
    assert [record.member for record in mixed.history.records] == [0, 0, 1, 1]
    assert mixed.model.sources == ["sequence model 1 (gru)", "sequence model 2 (bag)", "n-gram evidence"]


def test_it_saves_with_each_members_settings_and_loads_the_same(mixed, demo_data, tmp_path):
    directory = mixed.save(tmp_path / "mixed")
    saved = json.loads((directory / "config.json").read_text())
    assert [member["recipe"] for member in saved["members"]] == ["gru", "bag"]
    loaded = TextClassifier.load(directory)
    assert loaded.model.encoders == ["gru", "bag"]
    assert_same_probabilities(loaded, mixed, demo_data[0][:40])


def test_the_trace_and_the_data_flow_name_each_models_encoder(mixed, demo_data):
    trace = mixed.trace("I love this movie")
    assert [m["name"] for m in trace.models] == ["sequence model 1 (gru)", "sequence model 2 (bag)",
                                                 "n-gram evidence"]
    rows = {row.stage: row for row in mixed.data_flow(demo_data[0]).rows}
    assert "2 models (gru, bag)" in rows["5 sequence models"].operation


def test_an_interrupted_mixed_ensemble_resumes_into_the_same_model(demo_data, tmp_path):
    texts, labels = demo_data
    uninterrupted = TextClassifier(**MIXED).fit(texts, labels)

    class StopInTheSecondModel(Callback):
        epochs = 0

        def on_epoch_begin(self, epoch, steps):
            StopInTheSecondModel.epochs += 1
            if StopInTheSecondModel.epochs == 4:  # the bag's second epoch: its first is in the checkpoint
                raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        TextClassifier(**MIXED).fit(texts, labels, checkpoint_dir=tmp_path, callbacks=[StopInTheSecondModel()])
    resumed = TextClassifier(**MIXED).fit(texts, labels, checkpoint_dir=tmp_path, resume=True)
    assert resumed.model.weights_fingerprint() == uninterrupted.model.weights_fingerprint()
    assert [record.member for record in resumed.history.records] == [0, 0, 1, 1]
