"""Training and prediction on an idle machine and on a busy one (one other CPU-bound process), with the
default thread policy against `--threads 1`, and against an earlier version of seqclf (`--baseline`).

    python benchmarks/threads.py --baseline /path/to/old/src     # about 25 minutes on 2 cores (--repeats 2: 15)
    python benchmarks/threads.py --quick                         # one repeat, a check that it runs

Every figure is a whole `seqclf` process as a user types it (output to a file, not a terminal): the
epoch's seconds as metrics.jsonl records them, and the whole process's wall time. The competitor is
`python -c "while True: pass"`, started before and stopped after each busy measurement. Runs of one
row alternate (default, --threads 1, baseline) so that drift falls on all of them alike; the figure is
the median. Results: benchmarks/results/threads.md.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SEQCLF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
RESULTS = HERE / "results" / "threads.md"
MODELS = {"classic": ["--preset", "classic"], "default": [], "fast": ["--preset", "fast"]}
PREDICT_TEXTS = 100_000


@contextlib.contextmanager
def condition(busy: bool) -> Iterator[None]:
    """Idle, or one other CPU-bound process for the duration."""
    competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        time.sleep(0.5 if busy else 0)
        yield
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()


def seqclf(args: list[str], source: Path | None) -> tuple[float, subprocess.CompletedProcess]:
    """A `seqclf` process with its output to a pipe; `source`: the src directory of another version."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "seqclf", *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"seqclf {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return seconds, done


def train_epoch(folder: Path, model: str, extra: list[str], source: Path | None) -> tuple[float, float]:
    """One epoch on SST-2: (the epoch's seconds, the whole process's seconds)."""
    out = folder / "model"
    data = SHARED / "sst2"
    seconds, _ = seqclf(["train", str(data / "train.tsv"), "--valid", str(data / "dev.tsv"), "--out", str(out),
                         "--epochs", "1", "--no-cache", *MODELS[model], *extra], source)
    record = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    return record["seconds"], seconds


def variants(baseline: Path | None) -> dict[str, tuple[list[str], Path | None]]:
    rows = {"default": ([], None), "--threads 1": (["--threads", "1"], None)}
    if baseline is not None:
        rows["baseline default"] = ([], baseline)
    return rows


def measure_training(folder: Path, repeats: int, baseline: Path | None) -> dict:
    results = {}
    for busy in (False, True):
        for model in MODELS:
            runs = {name: [] for name in variants(baseline)}
            with condition(busy):
                for _ in range(repeats):
                    for name, (extra, source) in variants(baseline).items():
                        runs[name].append(train_epoch(folder, model, extra, source))
            results[("busy" if busy else "idle", model)] = {
                name: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
                for name, rows in runs.items()}
            print(("busy" if busy else "idle"), model, results[("busy" if busy else "idle", model)], flush=True)
    return results


PREDICT_BACKENDS = {"torch": ["--backend", "torch"], "default (ONNX Runtime)": []}


def measure_prediction(folder: Path, repeats: int, baseline: Path | None) -> dict:
    """`seqclf predict --input` of 100,000 SST-2 sentences with a `fast` model, on PyTorch and on the default
    engine (ONNX Runtime, its graph written by an untimed first run); the baseline as its default ran."""
    data = SHARED / "sst2"
    model = folder / "predict-model"
    # trained by the earlier version when there is one: both versions read its directory
    seqclf(["train", str(data / "train.tsv"), "--valid", str(data / "dev.tsv"), "--out", str(model), "--preset",
            "fast", "--epochs", "1", "--no-cache"], baseline)
    seqclf(["predict", str(model), "a first text"], None)  # the default engine writes the model's graph
    sentences = [line.split("\t", 1)[1] for line in (data / "train.tsv").read_text("utf-8").splitlines()[1:]]
    texts = folder / "texts.txt"
    texts.write_text("".join(sentences[i % len(sentences)] + "\n" for i in range(PREDICT_TEXTS)), "utf-8")
    results = {}
    for busy in (False, True):
        load = "busy" if busy else "idle"
        with condition(busy):
            for backend, flags in PREDICT_BACKENDS.items():
                runs = {name: [] for name in variants(baseline)}
                for _ in range(repeats):
                    for name, (extra, source) in variants(baseline).items():
                        # the earlier version has neither --threads for predict nor --backend: its default ran
                        args = (["predict", str(model), "--input", str(texts)] if source is not None else
                                ["predict", str(model), "--input", str(texts), *flags, *extra])
                        runs[name].append(seqclf(args, source)[0])
                results[(load, backend)] = {name: statistics.median(r) for name, r in runs.items()}
                print("predict", load, backend, results[(load, backend)], flush=True)
    return results


def report(training: dict, prediction: dict, repeats: int, command: str) -> str:
    lines = [
        "# Threads on an idle and a busy machine",
        "",
        f"`{command}` on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"medians of {repeats} alternating runs. Busy: one other CPU-bound process (`python -c \"while True: "
        "pass\"`) for the whole row. Output to a pipe. Epoch: the seconds metrics.jsonl records for the one "
        "epoch on SST-2 (6,920 texts, validation on dev); process: the whole `seqclf train` wall time.",
        "",
        "| machine | model | default epoch s | --threads 1 epoch s | default / 1 thread | baseline epoch s | "
        "default / baseline | default process s | baseline process s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (load, model), row in training.items():
        default, one = row["default"], row["--threads 1"]
        base = row.get("baseline default")
        lines.append(f"| {load} | {model} | {default[0]:.2f} | {one[0]:.2f} | {default[0] / one[0]:.2f}x | "
                     + (f"{base[0]:.2f} | {default[0] / base[0]:.2f}x | " if base else "- | - | ")
                     + f"{default[1]:.1f} | " + (f"{base[1]:.1f} |" if base else "- |"))
    lines += ["", f"`seqclf predict --input` of {PREDICT_TEXTS:,} sentences (a `fast` model), whole process; "
              "baseline: the earlier version's default (PyTorch):", "",
              "| machine | engine | default threads s | --threads 1 s | default / 1 thread | baseline s | "
              "default / baseline |", "|---|---|---|---|---|---|---|"]
    for (load, backend), row in prediction.items():
        base = row.get("baseline default")
        lines.append(f"| {load} | {backend} | {row['default']:.2f} | {row['--threads 1']:.2f} | "
                     f"{row['default'] / row['--threads 1']:.2f}x | "
                     + (f"{base:.2f} | {row['default'] / base:.2f}x |" if base else "- | - |"))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="the src directory of an earlier seqclf to compare with")
    parser.add_argument("--quick", action="store_true", help="one repeat: a check, not a measurement")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each row (default 3)")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as folder:
        training = measure_training(Path(folder), repeats, args.baseline)
        prediction = measure_prediction(Path(folder), repeats, args.baseline)
    text = report(training, prediction, repeats, "python benchmarks/threads.py " + " ".join(sys.argv[1:]))
    print(text)
    if not args.quick:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
