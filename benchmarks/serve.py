"""Load on `seqclf serve` over real HTTP on 127.0.0.1, against in-process prediction, in one run.

    python benchmarks/serve.py                # 5,000 requests per row (a few minutes on 2 cores)
    python benchmarks/serve.py --requests 500 # a quick check
    python benchmarks/serve.py --soak         # the soak test only: 50,000 mixed requests at concurrency 16

A model is trained on the demo data (defaults) and served by a `seqclf serve` subprocess. Each row
sends the requests over N keep-alive connections from one asyncio event loop (N requests in flight):
single texts and batches of 32 SST-2 sentences. The soak test sends 50,000 requests, valid and invalid
mixed, at concurrency 16, and follows the server's resident memory. Results go to
benchmarks/results/serve.md (each part replaces its own section).
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SEQCLF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
RESULTS = HERE / "results" / "serve.md"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(model_dir: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "seqclf", "serve", str(model_dir), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def load(port: int, bodies: list[bytes], concurrency: int) -> dict:
    """Send every body once over `concurrency` keep-alive connections from one asyncio event loop (a
    client that takes little of the CPU it shares with the server); latencies in ms, errors = non-200
    answers or broken connections."""
    return asyncio.run(_load(port, bodies, concurrency))


async def _load(port: int, bodies: list[bytes], concurrency: int, expected: list[int] | None = None,
                paths: list[bytes] | None = None, on_answer=None) -> dict:
    """`expected[i]`: the status request i must get (default 200); `paths[i]`: its path (default
    /v1/predict); `on_answer(n)` after each answer. Statuses are counted."""
    latencies, errors, statuses = [], 0, {}
    queue = iter(range(len(bodies)))

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in queue:
            body, path = bodies[i], b"/v1/predict" if paths is None else paths[i]
            started = time.perf_counter()
            try:
                writer.write(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (path, len(body), body))
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                status = int(head[9:12])
            except (OSError, asyncio.IncompleteReadError, StopIteration):
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                status = 0  # a broken connection
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            errors += status != (200 if expected is None else expected[i])
            if on_answer is not None:
                on_answer(len(latencies))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {"seconds": seconds, "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], "errors": errors,
            "statuses": statuses}


SOAK_REQUESTS, SOAK_CONCURRENCY, SOAK_WARMUP = 50_000, 16, 5_000
SOAK_MIX = [  # (path, body, status it must get): valid and invalid requests, in turn
    (b"/v1/predict", None, 200),  # one SST-2 sentence
    (b"/v1/predict", "batch", 200),  # eight sentences
    (b"/v1/predict", b'{"texts": ["fine"], "top_k": 1}', 200),
    (b"/v1/predict", b'{"texts": [', 400),  # malformed JSON
    (b"/v1/predict", b'{"texts": []}', 422),
    (b"/v1/predict", b'{"texts": ["ok"], "top_k": "1"}', 422),
    (b"/v1/predict", b'{"texts": ["' + b"x" * 20_000 + b'"]}', 422),  # over --max-chars
    (b"/v1/predict", b"\xff\xfe not utf-8", 400),
    (b"/v1/trace", b'{"text": "I love this movie"}', 200),
    (b"/v1/nothing", b"{}", 404),
]


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def soak(model_dir: Path, sentences: list[str]) -> str:
    """50,000 mixed requests at concurrency 16 against one server; its memory after the first 5,000 and
    at the end. Returns the results section."""
    bodies, paths, expected = [], [], []
    for i in range(SOAK_REQUESTS):
        path, body, status = SOAK_MIX[i % len(SOAK_MIX)]
        if body is None:
            body = json.dumps({"texts": [sentences[i % len(sentences)]]}).encode()
        elif body == "batch":
            body = json.dumps({"texts": sentences[i % 1000: i % 1000 + 8]}).encode()
        bodies.append(body), paths.append(path), expected.append(status)
    port = free_port()
    server = start_server(model_dir, port)
    memory = {}

    def on_answer(n: int) -> None:
        if n == SOAK_WARMUP:
            memory["warm"] = resident_kib(server.pid)

    try:
        result = asyncio.run(_load(port, bodies, SOAK_CONCURRENCY, expected, paths, on_answer))
        memory["end"] = resident_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    server_errors = sum(n for status, n in result["statuses"].items() if status >= 500 or status == 0)
    valid = sum(status == 200 for status in expected)
    failed_valid = result["errors"]  # any request that did not get its expected status
    growth = memory["end"] / memory["warm"]
    print(result, memory, flush=True)
    statuses = ", ".join(f"{status}: {n:,}" for status, n in sorted(result["statuses"].items()))
    return "\n".join([
        "## Soak test",
        "",
        f"`python benchmarks/serve.py --soak`: {SOAK_REQUESTS:,} requests at concurrency {SOAK_CONCURRENCY} over "
        "keep-alive connections to one `seqclf serve` worker (the same model), cycling through "
        f"{len(SOAK_MIX)} kinds: single texts, batches of 8, top_k, a trace, and six invalid ones (malformed JSON, "
        "an empty list, a string top_k, a text over --max-chars, a body that is not UTF-8, an unknown path).",
        "",
        "| requests | valid | seconds | requests/s | answers by status | 5xx or broken | requests without their "
        "expected status | resident memory after 5,000 | at the end | end / after 5,000 |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {SOAK_REQUESTS:,} | {valid:,} | {result['seconds']:.0f} | {SOAK_REQUESTS / result['seconds']:,.0f} | "
        f"{statuses} | {server_errors} | {failed_valid} | {memory['warm'] / 1024:.1f} MiB | "
        f"{memory['end'] / 1024:.1f} MiB | {growth:.3f} |",
        "",
        f"Targets: under 3 minutes ({result['seconds']:.0f} s: {'met' if result['seconds'] < 180 else 'missed'}), "
        f"0 5xx ({server_errors}: {'met' if server_errors == 0 else 'missed'}), 0 failed valid requests "
        f"({failed_valid}: {'met' if failed_valid == 0 else 'missed'}), memory at the end ≤ 1.1x after the first "
        f"5,000 ({growth:.3f}x: {'met' if growth <= 1.1 else 'missed'}).",
    ]) + "\n"


def write_section(section: str) -> None:
    """Replace the section (from its `## ` heading to the next) in serve.md, or add it."""
    heading = section.splitlines()[0]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    parts = text.split("\n## ")
    kept = [parts[0]] + ["## " + part for part in parts[1:] if not ("## " + part).startswith(heading)]
    if heading.startswith("# "):  # the load table is the head of the file
        kept = [section] + kept[1:]
        RESULTS.write_text("\n".join(p.rstrip("\n") + "\n" for p in kept), encoding="utf-8")
        return
    RESULTS.write_text("\n".join([*(p.rstrip("\n") + "\n" for p in kept), section]), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--soak", action="store_true", help="run the soak test only")
    args = parser.parse_args()

    from seqclf import TextClassifier
    from seqclf.data.demo import demo_corpus
    from seqclf.data.readers import read_dataset

    sentences = read_dataset(SHARED / "sst2" / "test.tsv").texts
    texts, labels = demo_corpus()
    with tempfile.TemporaryDirectory() as folder:
        model_dir = Path(folder) / "demo-model"
        clf = TextClassifier(epochs=2).fit(texts, labels)
        clf.save(model_dir)
        if args.soak:
            section = soak(model_dir, sentences)
            print(section)
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            write_section(section)
            return

        batches = [sentences[i % len(sentences): i % len(sentences) + 32] for i in range(0, 32 * 200, 32)]
        batches = [b for b in batches if len(b) == 32]
        started = time.perf_counter()
        for batch in batches:
            clf.predict_proba(batch)
        in_process = 32 * len(batches) / (time.perf_counter() - started)

        port = free_port()
        server = start_server(model_dir, port)
        rows = []
        try:
            for size in (1, 32):
                bodies = [json.dumps({"texts": sentences[i % len(sentences): i % len(sentences) + size]
                                      if size > 1 else [sentences[i % len(sentences)]]}).encode()
                          for i in range(args.requests)]
                bodies = [b for b in bodies if len(json.loads(b)["texts"]) == size]
                for concurrency in (1, 8, 32):
                    result = load(port, bodies, concurrency)
                    rows.append((size, concurrency, len(bodies), result))
                    print(f"batch {size:>2}, concurrency {concurrency:>2}: {len(bodies) / result['seconds']:,.0f} req/s, "
                          f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, errors {result['errors']}",
                          flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)

    best_batched = max(n * 32 / r["seconds"] for size, _, n, r in rows if size == 32)
    single = next(r | {"rate": n / r["seconds"]} for size, concurrency, n, r in rows if size == 1 and concurrency == 32)
    lines = [
        "# Serving: `seqclf serve` under load",
        "",
        f"`python benchmarks/serve.py --requests {args.requests}`: one uvicorn worker on 127.0.0.1, a bi-LSTM model "
        "(defaults) trained on the demo data, SST-2 test sentences as texts, N keep-alive connections from one asyncio "
        f"client on the same {os.cpu_count()}-core machine (client and server share the CPUs).",
        "",
        "| texts per request | concurrency | requests | requests/s | texts/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, concurrency, n, r in rows:
        lines.append(f"| {size} | {concurrency} | {n} | {n / r['seconds']:,.0f} | {n * size / r['seconds']:,.0f} "
                     f"| {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} |")
    ratio = best_batched / in_process
    lines += [
        "",
        f"In-process `predict_proba` on the same batches of 32: {in_process:,.0f} texts/s. Best batched HTTP "
        f"throughput: {best_batched:,.0f} texts/s = {ratio:.2f}x in-process (target ≥ 0.9x: "
        f"{'met' if ratio >= 0.9 else 'missed'}). Errors in total: {sum(r['errors'] for *_, r in rows)} (target 0).",
        "",
        f"Single-text requests at concurrency 32 (the server gathers concurrent requests into one model call): "
        f"{single['rate']:,.0f} requests/s (target ≥ 1,500: {'met' if single['rate'] >= 1500 else 'missed'}), "
        f"p99 {single['p99']:.1f} ms (target ≤ 50: {'met' if single['p99'] <= 50 else 'missed'}).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_section(text)


if __name__ == "__main__":
    main()
