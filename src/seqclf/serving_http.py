"""The HTTP/1.1 connections of `seqclf serve`: uvicorn's httptools protocol with limits on the request head
(request line and headers), and its own answers, before the app, in the documented error shape.

    time  a connection must send a complete request head within `header_timeout` seconds of opening, and
          of the end of its previous answer; otherwise it is closed, sending nothing: a silent socket or a
          slowloris (a header byte now and then) holds the server that long at most. (uvicorn's keep-alive
          timeout closes a connection that sends no byte at all between requests sooner.) The timer stops
          when the head is complete: a slow body or a long inference is not cut short by it.
    size  a head still incomplete after `max_head_bytes` bytes gets 431 and the connection is closed
          (httptools sets no bound: a client could send headers until the memory runs out).
    form  bytes the parser refuses (a malformed request line or header, a URL over 64 KB, which httptools
          cannot parse) get 400, where uvicorn would answer in plain text.

uvicorn makes a protocol per connection by calling `http(config=..., server_state=..., app_state=...)`;
`protocol(...)` is that callable with the limits bound, picklable, so it travels to `--workers` processes
with uvicorn's other settings.
"""
from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

UNPARSABLE = ("the request is not HTTP/1.1 that this server can read: a malformed request line or header, or a "
              "URL over 64 KB (send long data in a POST body)")


class HeadLimits(HttpToolsProtocol):
    def __init__(self, *args: Any, header_timeout: float, max_head_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout, self.max_head_bytes = header_timeout, max_head_bytes
        self.head_timer: asyncio.TimerHandle | None = None  # armed while a request head is awaited
        self.head_bytes = 0  # received since then

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.await_head()

    def data_received(self, data: bytes) -> None:
        awaiting = self.head_timer is not None
        super().data_received(data)
        if awaiting and self.head_timer is not None and not self.transport.is_closing():  # still no whole head
            self.head_bytes += len(data)
            if self.head_bytes > self.max_head_bytes:
                self.logger.warning("Request head over %d bytes.", self.max_head_bytes)
                self.refuse(431, f"the request line and headers are over {self.max_head_bytes} bytes", "headers")

    def on_headers_complete(self) -> None:
        self.stop_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle.response_complete:  # no pipelined request is waiting
            self.await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_head_timer()
        super().connection_lost(exc)

    def await_head(self) -> None:
        self.stop_head_timer()
        self.head_timer, self.head_bytes = self.loop.call_later(self.header_timeout, self.head_too_late), 0

    def stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_too_late(self) -> None:
        self.head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes the parser refuses (its `msg` is always "Invalid HTTP request received.")."""
        self.refuse(400, UNPARSABLE)

    def refuse(self, status: int, message: str, field: str | None = None) -> None:
        """Answer `status` in the documented shape and close the connection."""
        self.stop_head_timer()
        body = json.dumps({"error": {"message": message, "field": field}}).encode("utf-8")
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body),
                        b"connection: close\r\n", b"\r\n", body])
        self.transport.write(b"".join(content))
        self.transport.close()


def protocol(header_timeout: float, max_head_bytes: int) -> Callable[..., HeadLimits]:
    """What uvicorn's `http=` setting takes: the protocol with its limits bound."""
    return functools.partial(HeadLimits, header_timeout=header_timeout, max_head_bytes=max_head_bytes)
