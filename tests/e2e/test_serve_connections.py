"""`seqclf serve`'s connections, on raw sockets against the real process: a connection that does not send a
request head in time is closed (silent sockets, a slowloris, an idle kept-alive connection), and what the
HTTP layer refuses before the app is answered in the documented error shape."""
import json
import select
import socket
import threading
import time

import pytest

from serving import call, start, stop

HEADER_TIMEOUT = 1.0
MARGIN = 4.0  # a loaded machine's scheduling, never the timeout itself


@pytest.fixture(scope="module")
def port(model_dir):
    process, port = start(model_dir, "--header-timeout", str(HEADER_TIMEOUT))
    yield port
    stop(process)


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT + MARGIN + 5)


def closed_after(connection, since):
    """Seconds from `since` until the server closed `connection` (reading whatever it sent first)."""
    try:
        while connection.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - since


def test_silent_connections_are_closed_after_the_header_timeout_and_requests_still_answer(port):
    opened = time.monotonic()
    silent = [connect(port) for _ in range(300)]
    try:
        assert call(port, "GET", "/health")[0] == 200  # 300 silent sockets do not hold the server
        assert call(port, "POST", "/v1/predict", {"texts": ["fine"]})[0] == 200
        waiting, deadline = set(silent), opened + HEADER_TIMEOUT + MARGIN
        while waiting and time.monotonic() < deadline:
            readable, _, _ = select.select(list(waiting), [], [], max(0.0, deadline - time.monotonic()))
            for connection in readable:
                assert connection.recv(1) == b""  # closed, with nothing sent
                waiting.discard(connection)
        assert not waiting, f"{len(waiting)} of 300 still open"
        assert time.monotonic() - opened >= HEADER_TIMEOUT * 0.9
    finally:
        for connection in silent:
            connection.close()


def test_a_slowloris_is_closed_after_the_header_timeout(port):
    connection, stop_sending = connect(port), threading.Event()

    def drip():  # a valid request head, one byte every 0.1 s, never finished in time
        for byte in b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 1000:
            if stop_sending.wait(0.1):
                return
            try:
                connection.send(bytes([byte]))
            except OSError:
                return

    sender = threading.Thread(target=drip)
    opened = time.monotonic()
    sender.start()
    try:
        assert HEADER_TIMEOUT * 0.9 <= closed_after(connection, opened) <= HEADER_TIMEOUT + MARGIN
    finally:
        stop_sending.set()
        sender.join()
        connection.close()


def test_a_kept_alive_connection_answers_again_then_is_closed_when_idle(port):
    connection = connect(port)
    with connection, connection.makefile("rb") as replies:
        for _ in range(2):  # the same connection answers again
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert replies.readline().startswith(b"HTTP/1.1 200")
            headers = dict(line.rstrip().lower().split(b": ", 1) for line in iter(replies.readline, b"\r\n"))
            length = int(headers[b"content-length"])
            assert json.loads(replies.read(length))["status"] == "ok"
        answered = time.monotonic()
        assert replies.read() == b""  # closed: the head of a next request is awaited no longer than the timeout
        assert time.monotonic() - answered <= HEADER_TIMEOUT + MARGIN


@pytest.mark.parametrize("what, sent, status, field", [
    ("a 100 KB URL", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 400, None),
    ("not HTTP", b"HELLO THERE\r\n\r\n", 400, None),
    ("a NUL in a header", b"GET /v1/model HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer a\x00b\r\n\r\n", 400,
     None),
    ("a raw non-ASCII path", "GET /caf\u00e9 HTTP/1.1\r\nHost: localhost\r\n\r\n".encode("utf-8"), 400, None),
    # one byte over the limit, never finished: all of it is read before the answer, which so cannot be lost
    ("a head over 64 KB", b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: ".ljust(65_537, b"a"), 431,
     "headers"),
])
def test_what_the_http_layer_refuses_is_answered_in_the_documented_shape(port, what, sent, status, field):
    connection = connect(port)
    with connection:
        connection.sendall(sent)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), (what, answer[:300])
    assert b"content-type: application/json" in head.lower() and b"connection: close" in head.lower()
    error = json.loads(body)["error"]
    assert set(error) == {"message", "field"} and error["message"] and error["field"] == field
    assert call(port, "GET", "/health")[0] == 200  # the server lives on
