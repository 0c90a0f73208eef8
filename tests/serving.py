"""`seqclf serve` as a real subprocess for the end-to-end tests: start it on a free port, call it, stop it."""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from helpers import free_port


def start(model_dir, *args, env=None):
    """A running `seqclf serve` and its port; fails the test if it does not answer /health within 60 s. Its
    output goes to a file (`output(process)`): a pipe nobody reads would fill with access-log lines and
    stall the server."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([sys.executable, "-m", "seqclf", "serve", str(model_dir), "--port", str(port), *args],
                               stdout=log, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
    process.log = log
    deadline = time.monotonic() + 60
    while True:
        try:
            if call(port, "GET", "/health")[0] == 200:
                return process, port
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"seqclf serve did not start: {output(process)}")
        time.sleep(0.2)


def call(port, method, path, body=None, headers=None, timeout=30):
    """One request on a fresh connection: (status, parsed JSON body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body)
        connection.request(method, path, data, {"Content-Type": "application/json", "Connection": "close",
                                                **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            raise AssertionError(f"{response.status} {response.reason} {dict(response.getheaders())} {raw!r}") from None
    finally:
        connection.close()


def output(process):
    process.log.seek(0)
    return process.log.read()


def stop(process):
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)
    return output(process)
