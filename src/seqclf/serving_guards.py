"""What stands between a request and `seqclf serve`'s endpoints, as ASGI middlewares, and the one shape of
every error answer, {"error": {"message", "field"}}.

    KeyRequired       /v1/* needs `Authorization: Bearer KEY` (401 otherwise)
    BodyLimit         a body over the limit gets 413 before it is parsed
"""
from __future__ import annotations

import hmac

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPEN_PATHS = ("/health", "/", "/docs", "/openapi.json", "/docs/oauth2-redirect")  # and /static/*: the page asks for the key


def error(status: int, message: str, field: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "field": field}}, status_code=status, headers=headers)


class KeyRequired:
    """ASGI middleware: /v1/* answers 401 without `Authorization: Bearer <key>` (constant-time compare)."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app, self.key = app, key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or _is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = given.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.key):
            problem = "a valid API key is needed" if given else "this server needs an API key"
            await error(401, f"{problem}: send the header 'Authorization: Bearer KEY'", "authorization",
                        {"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        await self.app(scope, receive, send)


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
