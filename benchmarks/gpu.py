"""Training and prediction on a CUDA GPU against the same machine's CPU, in one run: epoch throughput
(tokens/s) and validation accuracy for each precision, and batched prediction (sentences/s).

    python benchmarks/gpu.py                 # needs a CUDA GPU; writes benchmarks/results/gpu.md
    SEQCLF_SHARED_DATA=path python benchmarks/gpu.py --out file.md

Settings as a user would type them: the classic model (`--preset classic`-like: 50 / 64, last state,
max_len 64, batch 32) and the default model, each at the default batch size and at batch 512 (where a GPU
earns its keep). Each row runs in its own subprocess, one after another.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from speed import CLASSIC, MAX_LEN, repeated_train, sst2  # noqa: E402

RESULTS = HERE / "results" / "gpu.md"
MODELS = {"classic": dict(CLASSIC, max_len=MAX_LEN), "default": {}}


def worker(model: str, device: str, precision: str, batch_size: int, sentences: int) -> dict:
    import torch
    from seqclf import TextClassifier

    texts, labels = repeated_train(sentences)
    texts, labels = texts[:sentences], labels[:sentences]
    clf = TextClassifier(**MODELS[model], batch_size=batch_size, epochs=1, device=device, precision=precision)
    started = time.perf_counter()
    clf.fit(texts, labels, valid=sst2("dev"))
    fit_seconds = time.perf_counter() - started
    record = clf.history.records[-1]
    clf.predict_proba(texts[:2000])  # warm up
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    clf.predict_proba(texts)
    predict_seconds = time.perf_counter() - started
    return {"tokens_per_second": record.tokens_per_second, "valid_accuracy": record.valid_accuracy,
            "fit_seconds": fit_seconds, "predict_per_second": len(texts) / predict_seconds,
            "device_name": torch.cuda.get_device_name() if device == "cuda" else "cpu"}


def torch_version() -> str:
    import torch

    return torch.__version__


def run_worker(*args: object) -> dict:
    done = subprocess.run([sys.executable, __file__, "--worker", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--sentences", type=int, default=103_800, help="SST-2 train repeated to this many")
    parser.add_argument("--worker", nargs=4, metavar=("MODEL", "DEVICE", "PRECISION", "BATCH"))
    args = parser.parse_args()
    if args.worker:
        model, device, precision, batch = args.worker
        print(json.dumps(worker(model, device, precision, int(batch), args.sentences)))
        return
    rows = []
    for model in MODELS:
        for batch in (32, 512):
            for device, precision in (("cpu", "fp32"), ("cuda", "fp32"), ("cuda", "bf16"), ("cuda", "fp16")):
                result = run_worker(model, device, precision, batch, "--sentences", args.sentences)
                rows.append((model, batch, device, precision, result))
                print(model, batch, device, precision, result, flush=True)
    lines = ["# GPU: training and prediction on CUDA against the same machine's CPU", "",
             f"`python benchmarks/gpu.py {' '.join(sys.argv[1:])}`, PyTorch {torch_version()}, "
             f"{len(os.sched_getaffinity(0))} CPU threads, "
             f"GPU: {next((r['device_name'] for *_, r in rows if r.get('device_name', 'cpu') != 'cpu'), 'none')}. "
             f"One epoch over SST-2 train repeated to {args.sentences:,} sentences, validation on SST-2 dev; prediction: "
             "`predict_proba` over the same sentences. ratio: to the CPU row of the same model and batch.", "",
             "| model | batch | device | precision | epoch tokens/s | ratio | dev accuracy | fit s (1 epoch) | "
             "predict sentences/s | ratio |", "|---|---|---|---|---|---|---|---|---|---|"]
    baseline = {}
    for model, batch, device, precision, result in rows:
        if "error" in result:
            lines.append(f"| {model} | {batch} | {device} | {precision} | failed: {result['error']} |||||||")
            continue
        if device == "cpu":
            baseline[model, batch] = result
        cpu = baseline.get((model, batch), result)
        lines.append(f"| {model} | {batch} | {device} | {precision} | {result['tokens_per_second']:,.0f} | "
                     f"{result['tokens_per_second'] / cpu['tokens_per_second']:.1f}x | "
                     f"{result['valid_accuracy']:.4f} | {result['fit_seconds']:.1f} | "
                     f"{result['predict_per_second']:,.0f} | "
                     f"{result['predict_per_second'] / cpu['predict_per_second']:.1f}x |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
