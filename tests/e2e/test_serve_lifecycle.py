"""`seqclf serve` as a process: start-up problems, the API key in a real server, SIGTERM while requests
stream, several workers with one killed."""
import http.client
import os
import signal
import socket
import threading
import time
from pathlib import Path


from helpers import CHROMIUM, browser_required, seqclf
from serving import call, output, start, stop

KEY = "k3y-for-the-test"


def test_startup_problems_are_one_line_and_exit_2_before_serving(model_dir, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = seqclf("serve", model_dir, "--port", taken.getsockname()[1], timeout=60)
    unresolvable = seqclf("serve", model_dir, "--host", "no-such-host.invalid", timeout=60)
    (tmp_path / "empty.key").write_text("\n")
    no_key = seqclf("serve", model_dir, "--api-key-file", tmp_path / "empty.key", timeout=60)
    missing = seqclf("serve", model_dir, "--api-key-file", tmp_path / "missing.key", timeout=60)
    for result, text in ((busy, "cannot listen on 127.0.0.1"), (unresolvable, "cannot resolve the address"),
                         (no_key, "is empty"), (missing, "cannot read the API key")):
        assert result.returncode == 2, result.stderr
        assert result.stdout == "" and "serving" not in result.stderr and "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0]


def test_a_key_from_the_environment_and_a_warning_on_a_network_address(model_dir):
    process, port = start(model_dir, env={"SEQCLF_API_KEY": KEY})
    try:
        assert call(port, "POST", "/v1/predict", {"texts": ["fine"]})[0] == 401
        assert call(port, "POST", "/v1/predict", {"texts": ["fine"]}, {"Authorization": f"Bearer {KEY}"})[0] == 200
    finally:
        output = stop(process)
    assert "API key required on /v1/*" in output
    process, _ = start(model_dir, "--host", "0.0.0.0")
    output = stop(process)
    assert "warning: serving on 0.0.0.0 without an API key" in output


def test_sigterm_finishes_every_request_the_server_accepted(model_dir):
    process, port = start(model_dir, "--shutdown-timeout", "20")
    results, signalled = [], threading.Event()

    def client():
        while True:
            sent_after = signalled.is_set()
            try:
                status, body = call(port, "POST", "/v1/explain", {"text": "I love this movie", "steps": 400})
            except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected) as exc:
                results.append(("refused", sent_after, repr(exc)))  # not accepted: no byte of an answer came
                return
            except Exception as exc:  # an answer cut short, a timeout: a broken promise
                results.append(("broken", sent_after, repr(exc)))
                return
            results.append(("answered", sent_after, time.monotonic()) if status == 200 and body["tokens"]
                           else ("broken", sent_after, (status, body)))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    signalled_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    signalled.set()
    for thread in threads:
        thread.join(timeout=60)
    code = process.wait(timeout=30)
    printed = output(process)
    broken = [r for r in results if r[0] == "broken"]
    answered_after = [r for r in results if r[0] == "answered" and r[2] > signalled_at]
    assert not broken, (broken, printed)
    assert code == 0, printed
    assert sum(r[0] == "answered" for r in results) >= 8
    assert answered_after, "no request was in flight at SIGTERM: the test proved nothing"
    assert "Shutting down" in printed


def children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_two_workers_answer_and_keep_answering_when_one_is_killed(model_dir):
    process, port = start(model_dir, "--workers", "2")
    try:
        deadline = time.monotonic() + 60
        while len(workers := [p for p in children(process.pid) if _is_worker(p)]) < 2:
            assert time.monotonic() < deadline, "two workers did not start"
            time.sleep(0.2)
        answered = {call(port, "POST", "/v1/predict", {"texts": ["fine"]})[0] for _ in range(20)}
        assert answered == {200}
        os.kill(workers[0], signal.SIGKILL)
        time.sleep(0.5)
        answered = [call(port, "POST", "/v1/predict", {"texts": ["fine", "bad"]})[0] for _ in range(40)]
        assert answered == [200] * 40
        deadline = time.monotonic() + 60  # the supervisor replaces the dead worker
        while len([p for p in children(process.pid) if _is_worker(p) and p != workers[0]]) < 2:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0, output(process)


def _is_worker(pid):
    try:
        return "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text() or "spawn" in Path(
            f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


def test_the_page_asks_for_the_key_and_keeps_it_for_the_tab(model_dir, fitted):
    browser_required()
    from playwright.sync_api import expect, sync_playwright

    process, port = start(model_dir, env={"SEQCLF_API_KEY": KEY})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            expect(page.locator("#key-form")).to_be_visible()  # /v1/model answered 401
            page.locator("#key").fill("wrong")
            page.locator("#key").press("Enter")
            expect(page.locator("#key-form")).to_be_visible()
            page.locator("#key").fill(KEY)
            page.locator("#key").press("Enter")
            expect(page.locator("#key-form")).to_be_hidden()
            expect(page.locator("#flow tbody tr")).to_have_count(len(fitted.data_flow(["x"]).rows))
            page.locator("#text").fill("I love this movie")
            page.locator("#text").press("Enter")
            expect(page.locator("#answer .answer-label")).to_have_text([fitted.predict(['I love this movie'])[0]])
            assert page.evaluate("sessionStorage.getItem('seqclf-api-key')") == KEY
            assert page.evaluate("localStorage.length") == 0  # the tab only
            other = browser.new_page()  # another tab: asked again
            other.goto(f"http://127.0.0.1:{port}/")
            expect(other.locator("#key-form")).to_be_visible()
            browser.close()
    finally:
        stop(process)
