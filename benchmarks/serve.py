"""Load on `seqclf serve` over real HTTP on 127.0.0.1, against in-process prediction, in one run.

    python benchmarks/serve.py                # 5,000 requests per row (a few minutes on 2 cores)
    python benchmarks/serve.py --requests 500 # a quick check

A model is trained on the demo data (defaults) and served by a `seqclf serve` subprocess. Each row
sends the requests over N keep-alive connections from one asyncio event loop (N requests in flight):
single texts and batches of 32 SST-2 sentences. Results go to benchmarks/results/serve.md.
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


async def _load(port: int, bodies: list[bytes], concurrency: int) -> dict:
    latencies, errors, queue = [], 0, iter(bodies)

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for body in queue:
            started = time.perf_counter()
            try:
                writer.write(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                ok = head.startswith(b"HTTP/1.1 200")
            except (OSError, asyncio.IncompleteReadError, StopIteration):
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not ok
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {"seconds": seconds, "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
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
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
