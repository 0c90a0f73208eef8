"""`seqclf serve` as a real subprocess on a free loopback port, driven by headless Chromium."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SEQCLF_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(model_dir):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "seqclf", "serve", str(model_dir), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                assert json.load(response)["status"] == "ok"
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"seqclf serve did not start: {process.stdout.read()}")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


def browser_required() -> None:
    """On CI a missing browser is a failure; elsewhere it skips, saying how to get one."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"no browser at {CHROMIUM}: .ci/run installs Debian's chromium")
    pytest.skip(f"no browser at {CHROMIUM} (apt-get install -y chromium)")


def test_a_sentence_flows_through_every_stage_in_the_browser(server, tmp_path, fitted):
    browser_required()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone-sized screen
        page.goto(server)
        expect(page.locator("#flow tbody tr")).to_have_count(7)
        text = page.locator("#text")
        text.fill("I love this movie")
        text.press("Enter")  # the keyboard is enough
        for stage in ("tokens", "ids", "embedding", "encoder", "probabilities"):
            expect(page.locator(f'[data-stage="{stage}"]')).to_be_visible()
        label = fitted.predict(["I love this movie"])[0]
        expect(page.locator("#probabilities h2")).to_have_text(f"Predicted: {label}")
        expect(page.locator(f'#probabilities li.predicted[data-label="{label}"]')).to_have_count(1)
        expect(page.locator("#tokens li")).to_have_count(4)
        assert page.locator("#curve svg polyline").count() >= 1
        page.screenshot(path=str(tmp_path / "trace.png"), full_page=True)
        browser.close()
    assert (tmp_path / "trace.png").stat().st_size > 10_000
