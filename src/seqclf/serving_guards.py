"""What stands between a request and `seqclf serve`'s endpoints, as ASGI middlewares, and the one shape of
every error answer, {"error": {"message", "field"}}.

    DocumentedErrors  around the whole app: any answer of 400 or more not in that shape is rewritten into it
    KeyRequired       /v1/* needs `Authorization: Bearer KEY` (401 otherwise)
    BodyLimit         a body over the limit gets 413 before it is parsed

`api_key_problem` is the one rule of what an API key may be, whatever its source: `read_api_key` applies it
to `--api-key-file` and SEQCLF_API_KEY, `server.ServeAccess` to a key given in Python.
"""
from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seqclf.errors import SeqclfError

OPEN_PATHS = ("/health", "/", "/docs", "/openapi.json", "/docs/oauth2-redirect")  # and /static/*: the page asks for the key


def error(status: int, message: str, field: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "field": field}}, status_code=status, headers=headers)


def api_key_problem(key: str) -> str | None:
    """Why `key` cannot be an API key (None: it can). A usable key is one token a client can send in a header:
    not empty, no whitespace, printable ASCII only (HTTP header values are Latin-1 bytes, and
    `hmac.compare_digest` refuses non-ASCII text)."""
    if not key:
        return "is empty"
    for position, character in enumerate(key, 1):
        if character.isspace():
            return f"holds whitespace: {character!r} at character {position}"
        if not (character.isascii() and character.isprintable()):
            return f"holds {character!r} at character {position}: a header carries printable ASCII characters only"
    return None


def read_api_key(key_file: str | None, environment: Mapping[str, str]) -> str | None:
    """The API key: the content of `key_file` less one line ending (LF or CRLF), or SEQCLF_API_KEY as it is
    (None: neither is given). A key that is set must be usable, even when set to "": it is never read as "no
    key"."""
    from_environment = environment.get("SEQCLF_API_KEY")
    if key_file and from_environment is not None:
        raise SeqclfError("the API key is given twice, by --api-key-file and by SEQCLF_API_KEY",
                          hint="give it one way: unset SEQCLF_API_KEY or leave out --api-key-file")
    if key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
        except (OSError, UnicodeDecodeError) as exc:
            raise SeqclfError(f"cannot read the API key: {getattr(exc, 'strerror', None) or exc}",
                              path=key_file, field="api-key-file") from None
        if problem := api_key_problem(key):
            raise SeqclfError(f"the API key {problem}", path=key_file, field="api-key-file",
                              hint="put one token in the file, e.g. `openssl rand -hex 32 > FILE`")
        return key
    if from_environment is not None and (problem := api_key_problem(from_environment)):
        raise SeqclfError(f"SEQCLF_API_KEY is set, but the key {problem}",
                          hint="set it to one token, e.g. `export SEQCLF_API_KEY=$(openssl rand -hex 32)`, or "
                               "unset it to serve without a key")
    return from_environment


class KeyRequired:
    """ASGI middleware: /v1/* answers 401 without one `Authorization: Bearer <key>` header (constant-time
    compare); whatever bytes a client sends there, the answer is 401, never an error of the server."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app, self.key = app, key.encode("ascii")  # `api_key_problem` let only printable ASCII through

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or _is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = [value for name, value in scope["headers"] if name == b"authorization"]
        if not self.accepts(given):
            problem = "a valid API key is needed" if given else "this server needs an API key"
            await error(401, f"{problem}: send one header 'Authorization: Bearer KEY'", "authorization",
                        {"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def accepts(self, given: list[bytes]) -> bool:
        if len(given) != 1:  # none, or several: which one would count?
            return False
        scheme, _, token = given[0].partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.key)  # bytes: never raises


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith("/static/")


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes gets 413 before it is parsed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.too_large(scope, receive, send)
            return
        chunks, size = [], 0
        while True:  # read it all (chunked bodies included), counting
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self.too_large(scope, receive, send)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break
        replay = iter(chunks)

        async def replayed() -> Message:
            # the body once, then the real channel (which waits for the client to disconnect)
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        # made only when needed: a JSONResponse per request was 6% of a busy server's time
        await error(413, f"request body over {self.limit} bytes", "body")(scope, receive, send)


class DocumentedErrors:
    """ASGI middleware around the whole app (outside even Starlette's handler of unhandled exceptions): every
    answer of 400 or more has the body {"error": {"message", "field"}}. One already in that shape passes as
    it is; any other (Starlette's plain-text answers to a bad Range header, an empty 416, a refused CORS
    preflight, the 500 of an unhandled exception, whatever a later component sends) is rewritten: its words
    kept or explained, its other headers kept (Content-Range, WWW-Authenticate, Allow, Vary, CORS), its
    Content-Type and Content-Length made right, and no body for HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []  # an error answer, until its body is complete

        async def send_documented(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                held.append(message)
                return
            if not held:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                for part in documented(scope, held):
                    await send(part)

        await self.app(scope, receive, send_documented)


def documented(scope: Scope, answer: list[Message]) -> list[Message]:
    """An error answer's messages (start, then its body) in the documented shape."""
    start, body = answer[0], b"".join(message.get("body", b"") for message in answer[1:])
    if _in_shape(body):
        return answer
    message, field = _explained(scope, start["status"], Headers(raw=start["headers"]), body)
    content = json.dumps({"error": {"message": message, "field": field}}).encode("utf-8")
    dropped = (b"content-type", b"content-length", b"content-encoding", b"transfer-encoding")
    headers = [(name, value) for name, value in start["headers"] if name.lower() not in dropped]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode("ascii"))]
    return [{"type": "http.response.start", "status": start["status"], "headers": headers},
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content}]


def _in_shape(body: bytes) -> bool:
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    problem = parsed.get("error") if isinstance(parsed, dict) and set(parsed) == {"error"} else None
    return isinstance(problem, dict) and set(problem) == {"message", "field"} and isinstance(problem["message"], str)


def _explained(scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[str, str | None]:
    """The message and field of an answer that came without them: what the request got wrong, when the
    answer says it (a Range header, a cross-origin preflight), else the answer's own words or its status."""
    words = _words(body, headers.get("content-type", ""))
    request = Headers(scope=scope)
    if status == 416:
        return ("the Range header asks for bytes past the end of the file (its size is in the Content-Range "
                "header)", "range")
    if status == 400 and "range" in request:
        return f"the Range header cannot be served ({words or 'malformed'}): send e.g. 'Range: bytes=0-99'", "range"
    if scope["method"] == "OPTIONS" and "origin" in request and "access-control-request-method" in request:
        return (f"cross-origin request refused ({words or 'not allowed'}): this server answers only the origins, "
                "methods and headers it was started with", "origin")
    return words or _phrase(status), None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status of no standard (499, 599)
        return f"error {status}"


def _words(body: bytes, content_type: str) -> str:
    """A short plain-text body, or a JSON body's "detail", as one line ('' if there is none)."""
    text = body.decode("utf-8", "replace").strip()
    if content_type.startswith("application/json"):
        try:
            detail = json.loads(text).get("detail")
        except (ValueError, AttributeError):
            detail = None
        text = detail if isinstance(detail, str) else ""
    return text if text.isprintable() and len(text) <= 200 else ""


def check_address(host: str, port: int) -> None:
    """That `host` resolves and `port` is free there, as one line each (uvicorn would log and exit 3)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise SeqclfError(f"cannot resolve the address {host!r}: {exc.strerror}", field="host",
                          hint="give an IP address (127.0.0.1, 0.0.0.0) or a name this machine resolves") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise SeqclfError(f"cannot listen on {host}:{port}: {exc.strerror}", field="port",
                              hint="another program holds that port: stop it or pass another --port") from None


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
