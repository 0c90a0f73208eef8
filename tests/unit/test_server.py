"""The HTTP API in-process: every endpoint, every kind of bad request, concurrency."""
import json
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from seqclf import ModelDirError
from seqclf.server import ServeLimits, create_app

LIMITS = ServeLimits(max_texts=8, max_chars=200, max_body_bytes=20_000)


@pytest.fixture(scope="module")
def client(model_dir):
    with TestClient(create_app(model_dir, LIMITS)) as test_client:
        yield test_client


def test_health(client, model_dir):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["model"] == model_dir.name and body["format_version"] == 4


def test_model_describes_labels_config_flow_and_history(client, fitted):
    body = client.get("/v1/model").json()
    assert body["labels"] == fitted.classes_
    assert body["config"]["model"]["embed_dim"] == fitted.config.model.embed_dim
    shapes = [row["shape"] for row in body["data_flow"]["rows"]]
    assert shapes[0] == ["N", "variable"] and shapes[-1] == ["N", len(fitted.classes_)]
    assert body["data_flow"]["summary"].startswith("N x variable -> N x")
    assert [r["epoch"] for r in body["history"]] == [r.epoch for r in fitted.history.records]
    assert all(r["valid_loss"] is not None for r in body["history"])
    assert [r["epoch"] for r in body["history"] if r["best"]] == [fitted.history.best_epoch]


def test_predict_matches_the_python_api_in_order(client, fitted, demo_data):
    texts = demo_data[0][:8]
    body = client.post("/v1/predict", json={"texts": texts}).json()
    expected = fitted.predict_proba(texts)
    assert [p["label"] for p in body["predictions"]] == fitted.predict(texts)
    for prediction, row in zip(body["predictions"], expected):
        assert np.allclose([prediction["probabilities"][c] for c in fitted.classes_], row, atol=1e-6)
    top = client.post("/v1/predict", json={"texts": texts[:1], "top_k": 1}).json()["predictions"][0]
    assert list(top["probabilities"]) == [top["label"]]


def test_trace_is_the_cli_trace_object(client, fitted):
    body = client.post("/v1/trace", json={"text": "I love this movie"}).json()
    assert body == json.loads(json.dumps(fitted.trace("I love this movie").to_dict()))


def test_explain_is_the_cli_explanation(client, fitted):
    body = client.post("/v1/explain", json={"text": "I love this movie", "steps": 20}).json()
    expected = fitted.explain(["I love this movie"], steps=20)[0].to_dict()
    assert body["label"] == body["predicted"] == expected["label"] == fitted.predict(["I love this movie"])[0]
    assert [t["text"] for t in body["tokens"]] == [t["text"] for t in expected["tokens"]]
    np.testing.assert_allclose([t["attribution"] for t in body["tokens"]],
                               [t["attribution"] for t in expected["tokens"]], atol=1e-5)
    other = next(name for name in fitted.classes_ if name != body["label"])
    assert client.post("/v1/explain", json={"text": "I love this movie", "label": other}).json()["label"] == other


@pytest.mark.parametrize("path, payload, status, field", [
    ("/v1/predict", {"texts": []}, 422, "texts"),
    ("/v1/predict", {"texts": ["ok"] * 9}, 422, "texts"),
    ("/v1/predict", {"texts": ["x" * 201]}, 422, "texts.0"),
    ("/v1/predict", {"texts": [""]}, 422, "texts.0"),
    ("/v1/predict", {"texts": ["fine", "   "]}, 422, "texts"),
    ("/v1/predict", {"texts": "a string, not a list"}, 422, "texts"),
    ("/v1/predict", {"texts": [1, 2]}, 422, "texts.0"),
    ("/v1/predict", {"texts": ["ok"], "top_k": 0}, 422, "top_k"),
    ("/v1/predict", {"texts": ["ok"], "top_k": True}, 422, "top_k"),
    ("/v1/predict", {"texts": ["ok"], "top_k": 1.0}, 422, "top_k"),
    ("/v1/predict", {"texts": ["ok"], "top_k": "1"}, 422, "top_k"),
    ("/v1/predict", {"texts": ["ok"], "extra": 1}, 422, "extra"),
    ("/v1/predict", {}, 422, "texts"),
    ("/v1/predict", [], 422, "body"),
    ("/v1/trace", {"text": None}, 422, "text"),
    ("/v1/trace", {"text": "x" * 201}, 422, "text"),
    ("/v1/trace", {"text": " \t "}, 422, "text"),
    ("/v1/explain", {"text": "fine", "label": "nope"}, 422, "label"),
    ("/v1/explain", {"text": "fine", "steps": 0}, 422, "steps"),
    ("/v1/explain", {"text": "fine", "steps": 501}, 422, "steps"),
    ("/v1/explain", {"text": "fine", "steps": 2.0}, 422, "steps"),
    ("/v1/explain", {"text": " "}, 422, "text"),
])
def test_bad_requests_are_4xx_naming_the_field(client, path, payload, status, field):
    response = client.post(path, json=payload)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["field"] == field and error["message"]


@pytest.mark.parametrize("path", ["/v1/trace", "/v1/explain"])
def test_a_blank_text_is_named_the_text_not_item_0(client, path):
    error = client.post(path, json={"text": " \t "}).json()["error"]
    assert error["message"] == "the text is empty: type a few words" and error["field"] == "text"


def test_malformed_json_and_oversized_bodies(client):
    response = client.post("/v1/predict", content=b'{"texts": ["unclosed"', headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"
    response = client.post("/v1/predict", content=b"x" * 30_000, headers={"content-type": "application/json"})
    assert response.status_code == 413

    def chunks():
        for _ in range(30):
            yield b"x" * 1000

    response = client.post("/v1/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413  # no content-length: counted as it streams
    assert client.get("/health").status_code == 200  # the server lives on


def test_concurrent_requests_get_their_own_answers(client, fitted, demo_data):
    texts = demo_data[0][:64]
    expected = fitted.predict(texts)

    def ask(i):
        batch = texts[i % 8 * 8 : i % 8 * 8 + 8]
        return i, [p["label"] for p in client.post("/v1/predict", json={"texts": batch}).json()["predictions"]]

    with ThreadPoolExecutor(8) as pool:
        for i, labels in pool.map(ask, range(48)):
            assert labels == expected[i % 8 * 8 : i % 8 * 8 + 8]


def test_web_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    scripts = ["elements.js", "stages.js", "explanation.js", "chart.js", "app.js"]  # app.js uses the others: last
    assert re.findall(r'<script src="/static/([\w.]+)"', page.text) == scripts
    assert "http" not in page.text.replace("http-equiv", "")
    for name in (*scripts, "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/v1/model", "/v1/predict", "/v1/trace", "/v1/explain"} <= set(paths)


def test_a_bad_model_directory_fails_before_serving(tmp_path):
    with pytest.raises(ModelDirError):
        create_app(tmp_path)


def test_no_request_from_the_openapi_document_gets_a_5xx(model_dir):
    """Requests generated from the app's own OpenAPI document: any answer but a server error."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(model_dir, LIMITS))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/health", "/v1/model", "/v1/predict", "/v1/trace", "/v1/explain"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call()
            assert response.status_code < 500, (case.path, case.body, response.text)
            if response.status_code >= 400:
                assert response.json()["error"]["message"]

        check()
