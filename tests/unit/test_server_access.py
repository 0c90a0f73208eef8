"""Who may call the API (key, CORS) and the shape of every 4xx, in-process."""
import gzip
import json

import pytest
from fastapi.testclient import TestClient

from seqclf.server import ServeAccess, ServeLimits, create_app

KEY = "s3cret-key-0123456789"
LIMITS = ServeLimits(max_texts=8, max_chars=200, max_body_bytes=2_000_000)


@pytest.fixture(scope="module")
def locked(model_dir):
    with TestClient(create_app(model_dir, LIMITS, access=ServeAccess(KEY, ("https://app.example.com",)))) as client:
        yield client


@pytest.fixture(scope="module")
def open_client(model_dir):
    with TestClient(create_app(model_dir, LIMITS)) as client:
        yield client


def documented(response, status, field=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "field"} and body["error"]["message"]
    if field is not None:
        assert body["error"]["field"] == field
    return body["error"]["message"]


BEARER = b"Bearer " + KEY.encode()
ODD_AUTHORIZATIONS = {  # raw header values, as a client may send them: every one gets 401, none a 5xx
    "none": [], "empty": [b""], "scheme only": [b"Bearer"], "scheme and a space": [b"Bearer "],
    "wrong key": [b"Bearer wrong"], "no scheme": [KEY.encode()], "Basic": [b"Basic " + KEY.encode()],
    "longer key": [BEARER + b"x"], "key and more": [BEARER + b" more"],
    "tab after the scheme": [b"Bearer\t" + KEY.encode()],
    "UTF-8": ["Bearer cl\u00e9".encode("utf-8")], "Latin-1": ["Bearer cl\u00e9".encode("latin-1")],
    "not text": [b"Bearer \xff\xfe\x80"], "NUL": [BEARER + b"\x00"], "100 KB": [b"Bearer " + b"k" * 100_000],
    "two headers, the right one last": [b"Bearer wrong", BEARER], "the right one twice": [BEARER, BEARER],
}


@pytest.mark.parametrize("values", ODD_AUTHORIZATIONS.values(), ids=ODD_AUTHORIZATIONS.keys())
def test_the_api_needs_one_right_key(locked, values):
    headers = [(b"authorization", value) for value in values]
    for method, path, body in (("POST", "/v1/predict", {"texts": ["fine"]}), ("POST", "/v1/trace", {"text": "fine"}),
                               ("POST", "/v1/explain", {"text": "fine"}), ("GET", "/v1/model", None)):
        response = locked.request(method, path, json=body, headers=headers)
        assert "Authorization: Bearer KEY" in documented(response, 401, "authorization")
        assert response.headers["www-authenticate"] == "Bearer"


def test_with_the_key_everything_answers_and_health_and_the_page_need_none(locked):
    auth = {"Authorization": f"Bearer {KEY}"}
    assert locked.post("/v1/predict", json={"texts": ["fine"]}, headers=auth).status_code == 200
    assert locked.get("/v1/model", headers={"authorization": f"bearer {KEY}"}).status_code == 200
    for path in ("/health", "/", "/static/app.js", "/openapi.json"):
        assert locked.get(path).status_code == 200


def test_cors_is_closed_unless_the_origin_is_named(locked, open_client):
    asked = {"Origin": "https://app.example.com", "Authorization": f"Bearer {KEY}"}
    response = locked.post("/v1/predict", json={"texts": ["fine"]}, headers=asked)
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    other = locked.post("/v1/predict", json={"texts": ["fine"]}, headers={**asked, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = locked.options("/v1/predict", headers={"Origin": "https://app.example.com",
                                                      "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200 and "authorization" in preflight.headers["access-control-allow-headers"].lower()
    closed = open_client.post("/v1/predict", json={"texts": ["fine"]}, headers={"Origin": "https://app.example.com"})
    assert closed.status_code == 200 and "access-control-allow-origin" not in closed.headers
    refused = open_client.options("/v1/predict", headers={"Origin": "https://app.example.com",
                                                         "Access-Control-Request-Method": "POST"})
    assert refused.status_code >= 400 and "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("name, body, headers", [
    ("gzip", gzip.compress(json.dumps({"texts": ["fine"]}).encode()), {"Content-Encoding": "gzip"}),
    ("not UTF-8", '{"texts": ["caf\u00e9"]}'.encode("latin-1"), {}),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, {}),
    ("a 5,000-digit integer", b'{"texts": ["fine"], "top_k": ' + b"9" * 5000 + b"}", {}),
])
def test_bodies_that_do_not_parse_get_the_documented_400(open_client, name, body, headers):
    response = open_client.post("/v1/predict", content=body, headers={"Content-Type": "application/json", **headers})
    documented(response, 400, "body")
    assert "detail" not in response.text, name


def test_unknown_paths_and_methods_get_the_documented_body(open_client):
    documented(open_client.get("/v1/nothing"), 404, "path")
    documented(open_client.get("/v1/predict"), 405, "path")
