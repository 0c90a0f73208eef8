"""Data-parallel scaling on this machine: training tokens/s with 1 and 2 processes under torchrun.

    python benchmarks/torchrun_scaling.py            # SST-2 train, default model, 2 epochs per run (a few minutes)

Runs, one after another, in one sitting (ratios compare runs of this sitting only):
  1 process, 1 thread        the per-core reference
  1 process, all cores       what `seqclf train` does alone
  N processes, 1 thread each torchrun --nproc_per_node=N (gloo), the same total batch

Scaling efficiency = tokens/s of N processes / (N x tokens/s of 1 process with 1 thread).
Writes benchmarks/results/torchrun_scaling.md.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SEQCLF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
RESULTS = HERE / "results" / "torchrun_scaling.md"
EPOCHS = 2
SETTINGS = ["--epochs", str(EPOCHS), "--device", "cpu", "--no-cache"]


def run(out: Path, processes: int, threads: int) -> dict:
    data = SHARED / "sst2"
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
                if processes > 1 else [sys.executable])
    command = [*launcher, "-m", "seqclf", "train", str(data / "train.tsv"), "--valid", str(data / "dev.tsv"),
               "--out", str(out), "--threads", str(threads), *SETTINGS]
    print("running", " ".join(command[1:]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    result = {"processes": processes, "threads": threads, "wall_seconds": time.perf_counter() - started,
              "tokens_per_second": sum(r["tokens_per_second"] for r in records) / len(records),
              "valid_accuracy": max(r["valid_accuracy"] for r in records)}
    print("  ", result, flush=True)
    return result


def main() -> None:
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as folder:
        rows = [run(Path(folder) / "a", 1, 1), run(Path(folder) / "b", 1, cores),
                run(Path(folder) / "c", cores, 1)]
    reference = rows[0]["tokens_per_second"]
    lines = [
        "# Data-parallel scaling",
        "",
        f"Measured by `python benchmarks/torchrun_scaling.py` on {platform.machine()}, {cores} CPU cores, Python "
        f"{platform.python_version()}: `seqclf train` on SST-2 train (6,920 sentences, validation on dev), "
        f"default model, {EPOCHS} epochs, batch 32 in total, CPU (gloo). tokens/s: mean over the epochs, "
        "summed over the processes.",
        "",
        "| run | tokens/s | speed-up vs 1 process x 1 thread | scaling efficiency | best dev accuracy | wall s |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        workers = row["processes"] * row["threads"]
        speedup = row["tokens_per_second"] / reference
        lines.append(f"| {row['processes']} process(es) x {row['threads']} thread(s) | {row['tokens_per_second']:,.0f} "
                     f"| {speedup:.2f}x | {speedup / workers:.0%} | {row['valid_accuracy']:.4f} | "
                     f"{row['wall_seconds']:.0f} |")
    lines += [
        "",
        f"{cores} processes against 1 process using all {cores} cores: "
        f"**{rows[2]['tokens_per_second'] / rows[1]['tokens_per_second']:.2f}x**.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
