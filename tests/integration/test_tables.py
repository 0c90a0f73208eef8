"""A pandas DataFrame and a Hugging Face datasets.Dataset (built here, nothing downloaded) in, by column."""
import datasets
import pandas as pd
import pytest

from seqclf import DataError, TextClassifier

from helpers import TINY

SMALL = {**TINY, "epochs": 1}


@pytest.fixture(scope="module")
def frame(demo_data):
    texts, labels = demo_data
    return pd.DataFrame({"review": texts, "stars": labels, "id": range(len(texts))})


def test_a_data_frame_by_its_column_names(frame, demo_data):
    clf = TextClassifier(**SMALL).fit(frame, text="review", label="stars", progress=False)
    same = TextClassifier(**SMALL).fit(*demo_data, progress=False)
    assert clf.predict(frame, text="review") == same.predict(demo_data[0])
    assert clf.predict_proba(frame.head(5), text="review").shape == (5, len(clf.classes_))
    report = clf.evaluate(frame, text="review", label="stars")
    assert report["accuracy"] == pytest.approx(clf.score(demo_data[0], demo_data[1]))
    held_out = frame.iloc[:100]
    assert TextClassifier(**SMALL).fit(frame, valid=held_out, text="review", label="stars",
                                       progress=False).validation is not None


def test_a_hugging_face_dataset_with_the_default_columns(demo_data):
    table = datasets.Dataset.from_dict({"text": demo_data[0], "label": demo_data[1]})
    clf = TextClassifier(**SMALL).fit(table, progress=False)
    assert set(clf.classes_) == set(demo_data[1])
    assert clf.predict(table.select(range(3))) == clf.predict(demo_data[0][:3])
    assert 0 <= clf.evaluate(table)["accuracy"] <= 1


def test_a_missing_column_names_the_columns_there_are(frame):
    with pytest.raises(DataError, match=r"no column 'text' \(the columns: review, stars, id\)") as caught:
        TextClassifier(**SMALL).fit(frame, progress=False)
    assert caught.value.field == "text" and 'text="COLUMN"' in caught.value.hint
    with pytest.raises(DataError, match="no labels"):
        TextClassifier(**SMALL).fit(frame, text="review", progress=False)
    with pytest.raises(DataError, match="column names are read from a table"):
        TextClassifier(**SMALL).fit(["a text"], ["x"], text="review", progress=False)
