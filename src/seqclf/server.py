"""`seqclf serve`: a JSON API and a web page, formatters over the one model object (`TextClassifier`).

    GET  /health       liveness, the model's name, format version and backend
    GET  /v1/model     labels, config, fitted state, data-flow shapes, training history
    POST /v1/predict   {"texts": [...], "top_k": k} -> one {"label", "probabilities"} per text (multi-label
                       models: {"labels", "probabilities", "note"}: each label's own probability)
    POST /v1/trace     {"text": "..."} -> the prediction trace (what `seqclf trace --json` prints)
    POST /v1/explain   {"text": "...", "label": optional, "steps": optional} -> token attributions
                       (what `seqclf explain --json` prints; needs the `explain` extra, Captum)
    GET  /             the web page (static files in seqclf/web, no build step, no CDN)

(No `from __future__ import annotations` here: FastAPI reads the request models from the annotations.)
Every answer of 400 or more, whatever made it (validation, a body that does not parse, an unknown path,
a missing key, Starlette's static files and CORS, an unhandled exception), has the body
{"error": {"message", "field"}} (`serving_guards.DocumentedErrors`, around the whole app). Before the app,
the HTTP layer (`serving_http.HeadLimits`, uvicorn's httptools protocol) answers in the same shape and
closes the connection: 400 for bytes that do not parse as HTTP/1.1 (a malformed request line or header, a
URL over 64 KB), 431 for a request line and headers still incomplete after 64 KB; a connection whose
request head is not complete within `--header-timeout` seconds (default 10), or that sends nothing for
5 s between requests (keep-alive), is closed without an answer. Inference runs in a worker thread, never
on the event loop, and concurrent /v1/predict requests share model calls (`MicroBatcher`). With an API
key (`ServeAccess`), /v1/* needs `Authorization: Bearer KEY` (compared in constant time); /health, the
page and the API docs stay open. Cross-origin requests are refused unless their origin is named.
Needs the `serve` extra (FastAPI, uvicorn).
"""

import gc
import json
import os
import signal
import sys
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from seqclf.errors import SeqclfError
from seqclf.microbatch import MicroBatcher
from seqclf.api import EXPLAIN_STEPS, BackendConfig, TextClassifier
from seqclf.serving_guards import BodyLimit, DocumentedErrors, KeyRequired, api_key_problem, error
from seqclf.serving_http import protocol
from seqclf.version import __version__

WEB = resources.files("seqclf") / "web"


@dataclass(frozen=True)
class ServeLimits:
    max_texts: int = 256  # per /v1/predict request
    max_chars: int = 10_000  # per text
    max_body_bytes: int = 4_000_000  # per request body
    batch_texts: int = 256  # most texts of concurrent requests in one model call
    batch_wait_ms: float = 2.0  # how long an idle model waits for concurrent requests to join
    max_steps: int = 500  # per /v1/explain request: the cost grows with it
    header_timeout: float = 10.0  # seconds for a connection's request head (`serving_http.HeadLimits`)
    max_head_bytes: int = 65_536  # request line and headers
    keep_alive_timeout: float = 5.0  # seconds an idle connection stays open between requests


@dataclass(frozen=True)
class ServeAccess:
    """Who may call the API: an API key (None: anyone who reaches the port) and the origins allowed to
    call it from a browser (none: same origin only)."""

    api_key: str | None = None
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = None if self.api_key is None else api_key_problem(self.api_key)
        if problem:
            raise SeqclfError(f"the API key {problem}", field="api_key",
                              hint="one token, e.g. from `openssl rand -hex 32`; None serves without a key")

    def to_dict(self) -> dict:
        return {"api_key": self.api_key, "cors_origins": list(self.cors_origins)}


@dataclass(frozen=True)
class RequestModels:
    """The JSON bodies of the API, with the limits of one server."""

    predict: type[BaseModel]
    trace: type[BaseModel]
    explain: type[BaseModel]
    predict_response: type[BaseModel]


def request_models(limits: ServeLimits) -> RequestModels:
    Text = Annotated[str, StringConstraints(min_length=1, max_length=limits.max_chars)]

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        texts: list[Text] = Field(min_length=1, max_length=limits.max_texts,
                                  description=f"1 to {limits.max_texts} texts of 1 to {limits.max_chars} characters")
        top_k: int | None = Field(default=None, ge=1, strict=True,
                                  description="the k most probable classes (default: all)")

    class TraceRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        text: Text

    class ExplainRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        text: Text
        label: str | None = Field(default=None, description="the class whose score is explained (default: the "
                                                             "predicted class)")
        steps: int = Field(default=EXPLAIN_STEPS, ge=1, le=limits.max_steps, strict=True,
                           description=f"points of the path integral, 1 to {limits.max_steps}")

    class Prediction(BaseModel):
        model_config = ConfigDict(extra="allow")  # "truncated": true or "windows": n, a text longer than max_len
        label: str | None = Field(default=None, description="the class (single-label models)")
        labels: list[str] | None = Field(default=None, description="the labels over their thresholds, most "
                                                                    "probable first (multi-label models)")
        probabilities: dict[str, float]
        note: str | None = Field(default=None, description="multi-label: what the probabilities mean")

    class PredictResponse(BaseModel):
        predictions: list[Prediction]

    return RequestModels(PredictRequest, TraceRequest, ExplainRequest, PredictResponse)


def _add_guards(app: FastAPI, limits: ServeLimits, access: ServeAccess) -> None:
    """The body limit, the API key and CORS, outermost last."""
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes)
    if access.api_key is not None:
        app.add_middleware(KeyRequired, key=access.api_key)
    if access.cors_origins:  # outermost: a preflight is answered before the key is asked for
        app.add_middleware(CORSMiddleware, allow_origins=list(access.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])


def _add_error_handlers(app: FastAPI) -> None:
    """FastAPI's own errors and seqclf's in the documented shape."""

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own 4xx (a body that does not parse, an unknown path, a wrong method) in the documented shape
        field = "body" if exc.status_code == 400 else "path" if exc.status_code in (404, 405) else None
        message = {400: "the request body could not be parsed: send uncompressed UTF-8 JSON, nested less than "
                        "a few hundred levels, with integers of fewer than 4300 digits"}.get(exc.status_code,
                                                                                            str(exc.detail))
        return error(exc.status_code, message, field, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        location = [str(part) for part in first.get("loc", ()) if part != "body"]
        field = ".".join(location) or "body"
        if first.get("type") == "json_invalid":
            return error(400, f"malformed JSON: {first.get('msg')}", "body")
        return error(422, first.get("msg", "invalid request"), field)

    @app.exception_handler(SeqclfError)
    async def unusable_input(request: Request, exc: SeqclfError) -> JSONResponse:
        return error(422, exc.problem, exc.field)


def create_app(model_dir: str | Path, limits: ServeLimits = ServeLimits(),
               backend: BackendConfig = BackendConfig(), access: ServeAccess = ServeAccess()) -> ASGIApp:
    """The app for one saved model (a FastAPI app inside `DocumentedErrors`); loading errors surface here,
    before any request."""
    model_dir = Path(model_dir)
    classifier = TextClassifier.load(model_dir, backend)
    description = classifier.describe()
    batcher = MicroBatcher(classifier.scores, max_texts=max(limits.max_texts, limits.batch_texts),
                           max_wait=limits.batch_wait_ms / 1000)
    bodies = request_models(limits)
    app = FastAPI(title="seqclf", version=__version__,
                  description=f"Sequence classifier `{model_dir.name}`: predictions and the pipeline trace.")
    _add_guards(app, limits, access)
    _add_error_handlers(app)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model": description["name"], "format_version": description["format_version"],
                "seqclf": __version__, "backend": description["backend"]}

    @app.get("/v1/model")
    def model() -> dict:
        return description

    @app.post("/v1/predict", response_model=bodies.predict_response, response_model_exclude_none=True)
    async def predict(request: bodies.predict) -> dict:
        probabilities, tokens = await batcher(request.texts)  # with concurrent requests' texts, in one model call
        return {"predictions": classifier.answers(probabilities, tokens, request.top_k)}

    @app.post("/v1/trace")
    async def trace(request: bodies.trace) -> dict:
        try:
            result = await run_in_threadpool(classifier.trace, request.text)
        except SeqclfError as exc:
            return error(422, exc.problem, "text")
        return result.to_dict()

    @app.post("/v1/explain")
    async def explain(request: bodies.explain) -> dict:
        if request.label is not None and request.label not in classifier.classes_:
            return error(422, f"unknown class {request.label!r} (one of: {', '.join(classifier.classes_)})", "label")
        try:
            result, = await run_in_threadpool(classifier.explain, request.text, request.label,
                                              request.steps)
        except SeqclfError as exc:
            return error(422, exc.problem, "text")
        except ImportError as exc:
            return error(501, f"explanations need Captum ({exc.name} is missing): pip install 'seqclf[explain]'")
        return result.to_dict()

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(WEB / "index.html"))

    app.mount("/static", StaticFiles(directory=str(WEB)), name="static")
    return DocumentedErrors(app)  # outermost: whatever answers inside, an error has the documented shape


# -- several worker processes: uvicorn imports the app by name, settings come by environment -------

ENV_DIR, ENV_LIMITS, ENV_BACKEND = "SEQCLF_SERVE_DIR", "SEQCLF_SERVE_LIMITS", "SEQCLF_SERVE_BACKEND"
ENV_ACCESS = "SEQCLF_SERVE_ACCESS"


def app_from_environment() -> ASGIApp:
    access = json.loads(os.environ.get(ENV_ACCESS, "{}"))
    app = create_app(os.environ[ENV_DIR], ServeLimits(**json.loads(os.environ.get(ENV_LIMITS, "{}"))),
                     BackendConfig(**json.loads(os.environ.get(ENV_BACKEND, "{}"))),
                     ServeAccess(access.get("api_key"), tuple(access.get("cors_origins", ()))))
    freeze_long_lived()
    return app


def freeze_long_lived() -> None:
    """The model, PyTorch and the app live as long as the process: out of the collector's sight, a full
    collection no longer walks them (it stalled every request in flight for tens of milliseconds: the
    p99 under load)."""
    gc.collect()
    gc.freeze()


def serve(app: ASGIApp, model_dir: str | Path, host: str, port: int, workers: int, limits: ServeLimits,
          backend: BackendConfig = BackendConfig(), access: ServeAccess = ServeAccess(),
          shutdown_timeout: float = 30.0) -> None:
    """Run uvicorn: in this process with `app`, or with `workers` processes that each build their own. On
    SIGTERM or Ctrl-C it stops accepting, lets the requests in flight finish (at most `shutdown_timeout`
    seconds) and returns. Connections are made by `serving_http.HeadLimits` with `limits`' bounds on the
    request head; one that sends nothing for `limits.keep_alive_timeout` seconds between requests is
    closed."""
    import uvicorn

    # uvicorn drains on SIGTERM, then raises the signal again for the handler it found: a clean stop should
    # exit 0, as a service manager expects, not die by the signal
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(0))
    settings = dict(host=host, port=port, log_level="info", timeout_graceful_shutdown=shutdown_timeout,
                    http=protocol(limits.header_timeout, limits.max_head_bytes),
                    timeout_keep_alive=limits.keep_alive_timeout)
    if workers == 1:
        freeze_long_lived()
        uvicorn.run(app, **settings)
        return
    os.environ[ENV_DIR], os.environ[ENV_LIMITS] = str(model_dir), json.dumps(asdict(limits))
    os.environ[ENV_BACKEND] = json.dumps(backend.to_dict())
    os.environ[ENV_ACCESS] = json.dumps(access.to_dict())
    uvicorn.run("seqclf.server:app_from_environment", factory=True, workers=workers, **settings)
