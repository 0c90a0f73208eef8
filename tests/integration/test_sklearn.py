"""scikit-learn's estimator protocol, run by scikit-learn itself: clone, cross_val_score, GridSearchCV and a
Pipeline over TINY models; settings never changed by fit; settings that depend on each other adapt."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

from seqclf import ConfigError, TextClassifier

from helpers import TINY

SMALL = {**TINY, "epochs": 1}


def test_clone_gives_an_unfitted_classifier_with_the_same_settings(demo_data):
    original = TextClassifier(**SMALL, lr=0.003)
    copy = clone(original)
    assert copy is not original and copy.get_params() == original.get_params()
    assert copy.get_params()["lr"] == 0.003 and copy.config == original.config
    original.fit(*demo_data, progress=False)
    check_is_fitted(original)
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(clone(original))


def test_fit_does_not_change_the_settings(demo_data):
    clf = TextClassifier(**SMALL)
    before = clf.get_params()
    clf.fit(*demo_data, epochs=2, progress=False)
    assert clf.get_params() == before and clf.config.train.epochs == 1
    assert len(clf.history.records) == 2  # the 2 epochs asked of this fit


def test_cross_val_score_and_grid_search_run_on_texts(demo_data):
    texts, labels = demo_data[0][:300], demo_data[1][:300]
    scores = cross_val_score(TextClassifier(**SMALL), texts, labels, cv=3,
                             params={"progress": False})
    assert scores.shape == (3,) and all(0 <= s <= 1 for s in scores)
    search = GridSearchCV(TextClassifier(**SMALL), {"hidden_dim": [8, 12]}, cv=2).fit(texts, labels,
                                                                                       progress=False)
    assert search.best_params_["hidden_dim"] in (8, 12)
    assert search.best_estimator_.config.model.hidden_dim == search.best_params_["hidden_dim"]
    assert search.score(texts, labels) == pytest.approx(np.mean(search.predict(texts) == np.array(labels)))


def test_a_pipeline_feeds_it_texts(demo_data):
    lower = FunctionTransformer(lambda texts: [text.lower() for text in texts])
    pipeline = Pipeline([("lower", lower), ("classify", TextClassifier(**SMALL))])
    pipeline.fit(*demo_data, classify__progress=False)
    assert pipeline.predict(["I LOVE THIS MOVIE"])[0] in set(demo_data[1])
    pipeline.set_params(classify__hidden_dim=8)
    assert pipeline.named_steps["classify"].get_params()["hidden_dim"] == 8


def test_a_bad_setting_changes_nothing_and_names_the_python_keyword():
    clf = TextClassifier(**SMALL)
    with pytest.raises(ConfigError, match="pooling"):
        clf.set_params(pooling="sum")
    assert clf.get_params()["pooling"] == "last"
    with pytest.raises(ConfigError, match=r"bidirectional=False"):
        TextClassifier(encoder="bag", bidirectional=True)


def test_settings_that_depend_on_each_other_adapt():
    assert TextClassifier(encoder="bag").config.model.bidirectional is False
    assert TextClassifier(encoder="lstm").config.model.bidirectional is True
    assert TextClassifier().set_params(encoder="cnn").get_params()["bidirectional"] is False
    assert clone(TextClassifier(encoder="bag")).config.model.bidirectional is False
