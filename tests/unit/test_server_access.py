"""Who may call the API (key, CORS) and the shape of every error answer, in-process."""
import gzip
import json

import pytest
from fastapi.testclient import TestClient

from seqclf.api import TextClassifier
from seqclf.server import ServeAccess, ServeLimits, create_app
from seqclf.serving_guards import documented as in_documented_shape

KEY = "s3cret-key-0123456789"
ORIGIN = "https://app.example.com"
LIMITS = ServeLimits(max_texts=8, max_chars=200, max_body_bytes=2_000_000)


@pytest.fixture(scope="module")
def locked(model_dir):
    with TestClient(create_app(model_dir, LIMITS, access=ServeAccess(KEY, (ORIGIN,)))) as client:
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


TOO_BIG = b"x" * (LIMITS.max_body_bytes + 1)
PREFLIGHT = {"Access-Control-Request-Method": "POST"}
ERRORS = [  # what, client, method, path, what is sent, status, field, a header the answer keeps
    *[("unknown path", "open_client", "GET", path, {}, 404, "path", None)
      for path in ("/v1/nothing", "/nothing", "/static/nothing.js", "/static/../pyproject.toml")],
    *[("wrong method", "open_client", method, path, {}, 405, "path", None) for method, path in
      (("GET", "/v1/predict"), ("GET", "/v1/trace"), ("GET", "/v1/explain"), ("POST", "/v1/model"),
       ("POST", "/health"), ("DELETE", "/"))],
    ("wrong method", "open_client", "POST", "/static/app.js", {}, 405, "path", "allow"),
    *[("bad JSON", "open_client", "POST", path, {"content": b'{"text', "headers": {"Content-Type": "application/json"}},
       400, "body", None) for path in ("/v1/predict", "/v1/trace", "/v1/explain")],
    *[("validation error", "open_client", "POST", path, {"json": {}}, 422, field, None)
      for path, field in (("/v1/predict", "texts"), ("/v1/trace", "text"), ("/v1/explain", "text"))],
    *[("body too large", "open_client", "POST", path, {"content": TOO_BIG}, 413, "body", None)
      for path in ("/v1/predict", "/v1/trace", "/v1/explain")],
    *[("missing key", "locked", method, path, {}, 401, "authorization", "www-authenticate") for method, path in
      (("GET", "/v1/model"), ("POST", "/v1/predict"), ("POST", "/v1/trace"), ("POST", "/v1/explain"))],
    *[("bad Range", "open_client", "GET", "/static/app.js", {"headers": {"Range": value}}, 400, "range", None)
      for value in ("chars=0-9", "bytes=9-2", "bytes=", "bytes")],
    ("unsatisfiable range", "open_client", "GET", "/static/app.js", {"headers": {"Range": "bytes=99999999-"}}, 416,
     "range", "content-range"),
    ("disallowed CORS preflight", "locked", "OPTIONS", "/v1/predict",
     {"headers": {"Origin": "https://evil.example", **PREFLIGHT}}, 400, "origin", "vary"),
    ("disallowed CORS preflight", "locked", "OPTIONS", "/v1/predict",
     {"headers": {"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"}}, 400, "origin", "vary"),
    ("CORS preflight without CORS", "open_client", "OPTIONS", "/v1/predict",
     {"headers": {"Origin": ORIGIN, **PREFLIGHT}}, 405, "path", None),
    *[("HEAD of an error", client, "HEAD", path, sent, status, None, None) for client, path, sent, status in
      (("open_client", "/v1/nothing", {}, 404), ("locked", "/v1/model", {}, 401),
       ("open_client", "/static/app.js", {"headers": {"Range": "chars=0-9"}}, 400),
       ("open_client", "/static/app.js", {"headers": {"Range": "bytes=99999999-"}}, 416))],
]


@pytest.mark.parametrize("what, client, method, path, sent, status, field, kept", ERRORS,
                         ids=[f"{row[0]}: {row[2]} {row[3]}" for row in ERRORS])
def test_every_error_answer_has_the_documented_shape(request, what, client, method, path, sent, status, field,
                                                     kept):
    response = request.getfixturevalue(client).request(method, path, **sent)
    assert response.headers["content-type"] == "application/json", (what, response.headers)
    if kept:
        assert response.headers[kept], what
    if method == "HEAD":
        assert response.status_code == status and response.content == b""
        assert int(response.headers["content-length"]) > 0  # the length of the body a GET would get
    else:
        documented(response, status, field)
        assert int(response.headers["content-length"]) == len(response.content)


def test_an_unhandled_exception_is_a_documented_500(model_dir, monkeypatch):
    def broken(self, text):
        raise RuntimeError("a bug")

    monkeypatch.setattr(TextClassifier, "trace", broken)
    with TestClient(create_app(model_dir, LIMITS), raise_server_exceptions=False) as client:
        response = client.post("/v1/trace", json={"text": "fine"})
    assert documented(response, 500) == "Internal Server Error" and "a bug" not in response.text


@pytest.mark.parametrize("status, content_type, body, message", [
    (599, b"text/plain", b"", "error 599"),  # no words, a status of no standard
    (418, b"text/plain", b"", "I'm a Teapot"),
    (503, b"text/plain", b"busy\x07" * 10, "Service Unavailable"),  # control characters: not shown
    (400, b"application/json", b'{"detail": "no"}', "no"),  # FastAPI's own shape
])
def test_an_answer_without_usable_words_gets_its_status_as_message(status, content_type, body, message):
    start = {"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]}
    scope = {"type": "http", "method": "GET", "headers": []}
    _, rewritten = in_documented_shape(scope, [start, {"type": "http.response.body", "body": body}])
    assert json.loads(rewritten["body"]) == {"error": {"message": message, "field": None}}
