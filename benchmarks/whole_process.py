"""seqclf against fastText as whole processes, as a user runs them with default flags on an idle machine:
`seqclf train --preset fast` on SST-2 (time and test accuracy, 3 seeds), `seqclf predict --input` on
100,000 sentences (the first run, which writes the ONNX graph, and the runs after it), the cost of the
progress report, and the longest silence of a log file during training, tuning, auditing and a long
prediction.

    python benchmarks/whole_process.py            # about 10 minutes on 2 cores
    python benchmarks/whole_process.py --quick    # one round, a check that it runs

Runs of one row alternate (seqclf, fastText, ...) so that drift falls on all alike; figures are medians.
fastText runs as the Python package does it: `train_supervised` with word bigrams and the lr and epochs
that benchmarks/accuracy.py chose for SST-2 on dev (0.5, 25), then `save_model`; `load_model`, `predict` on every line, labels and probabilities written.
Results: benchmarks/results/whole_process.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SEQCLF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
RESULTS = HERE / "results" / "whole_process.md"
SEQCLF = [sys.executable, "-m", "seqclf"]
PREDICT_TEXTS = 100_000
# fastText's settings for SST-2 as benchmarks/accuracy.py chose them on dev (benchmarks/results/accuracy.md)
FASTTEXT_TRAIN = """import sys, fasttext
model = fasttext.train_supervised(input=sys.argv[1], lr=0.5, epoch=25, wordNgrams=2, seed=int(sys.argv[3]),
                                  verbose=0)
model.save_model(sys.argv[2])"""
FASTTEXT_PREDICT = """import sys, fasttext
model = fasttext.load_model(sys.argv[1])
lines = [" ".join(line.lower().split()) for line in open(sys.argv[2], encoding="utf-8")]
labels, probabilities = model.predict(lines)
with open(sys.argv[3], "w", encoding="utf-8") as out:
    out.writelines(f"{found[0].removeprefix('__label__')}\\t{p[0]:.6f}\\n" for found, p in zip(labels, probabilities))"""
FASTTEXT_ACCURACY = """import sys, fasttext
model = fasttext.load_model(sys.argv[1])
rows = [line.rstrip("\\n").split("\\t", 1) for line in open(sys.argv[2], encoding="utf-8")][1:]
labels, _ = model.predict([" ".join(text.lower().split()) for _, text in rows])
print(sum(found[0] == "__label__" + label for found, (label, _) in zip(labels, rows)) / len(rows))"""


def timed(command: list[str], stdout: Path | None = None) -> float:
    """Seconds the whole process took, output to `stdout` (a file) or discarded."""
    started = time.perf_counter()
    with open(stdout or os.devnull, "w") as out:
        subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - started


def write_inputs(folder: Path) -> dict[str, Path]:
    rows = [line.rstrip("\n").split("\t", 1) for line in (SHARED / "sst2" / "train.tsv").open(encoding="utf-8")][1:]
    fasttext_train = folder / "train.ft"
    fasttext_train.write_text("".join(f"__label__{label} {' '.join(text.lower().split())}\n" for label, text in rows),
                              encoding="utf-8")
    texts = [text for _, text in rows]
    many = folder / "texts.txt"
    many.write_text("\n".join((texts * (PREDICT_TEXTS // len(texts) + 1))[:PREDICT_TEXTS]) + "\n", encoding="utf-8")
    return {"fasttext_train": fasttext_train, "texts": many}


def train_rows(folder: Path, inputs: dict[str, Path], seeds: list[int]) -> dict:
    """Whole-process training times, alternating, and each model's test accuracy (not timed)."""
    times: dict[str, list[float]] = {"seqclf": [], "fasttext": []}
    accuracy: dict[str, list[float]] = {"seqclf": [], "fasttext": []}
    test = SHARED / "sst2" / "test.tsv"
    for seed in seeds:
        model = folder / f"fast{seed}"
        times["seqclf"].append(timed([*SEQCLF, "train", str(SHARED / "sst2" / "train.tsv"), "--preset", "fast",
                                      "--seed", str(seed), "--out", str(model)], folder / "train.log"))
        bin_file = folder / f"fasttext{seed}.bin"
        times["fasttext"].append(timed([sys.executable, "-c", FASTTEXT_TRAIN, str(inputs["fasttext_train"]),
                                        str(bin_file), str(seed)]))
        report = subprocess.run([*SEQCLF, "evaluate", str(model), str(test), "--json", "--backend", "torch"],
                                capture_output=True, text=True, check=True).stdout
        accuracy["seqclf"].append(json.loads(report)["accuracy"])
        accuracy["fasttext"].append(float(subprocess.run([sys.executable, "-c", FASTTEXT_ACCURACY, str(bin_file),
                                                          str(test)], capture_output=True, text=True,
                                                         check=True).stdout))
    return {"times": times, "accuracy": accuracy}


def predict_rows(folder: Path, inputs: dict[str, Path], rounds: int) -> dict:
    """Whole-process prediction of 100,000 texts: the first default run (it writes the graph), then rounds
    of the default, `--backend torch` and fastText, each writing its output file."""
    subprocess.run([*SEQCLF, "train", str(SHARED / "sst2" / "train.tsv"), "--preset", "classic", "--out",
                    str(folder / "classic")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    texts, out = str(inputs["texts"]), folder / "predictions.out"
    rows: dict = {}
    for name in ("fast1", "classic"):
        model = str(folder / name)
        first = timed([*SEQCLF, "predict", model, "--input", texts], out)
        runs: dict[str, list[float]] = {"default": [], "torch": [], "fasttext": []}
        for _ in range(rounds):
            runs["default"].append(timed([*SEQCLF, "predict", model, "--input", texts], out))
            runs["torch"].append(timed([*SEQCLF, "predict", model, "--input", texts, "--backend", "torch"], out))
            runs["fasttext"].append(timed([sys.executable, "-c", FASTTEXT_PREDICT, str(folder / "fasttext1.bin"),
                                           texts, str(out)]))
        rows[name] = {"first": first, **runs}
    return rows


def progress_cost(rounds: int) -> dict:
    """Training tokens/s of `TextClassifier.fit` (classic model, SST-2, 3 epochs) with the report off, on to a
    file (plain lines), and on as a terminal would show it (the live line, FORCE_COLOR): medians of rounds."""
    script = f"""import json, sys
from seqclf import TextClassifier
from seqclf.data.readers import read_dataset
data = read_dataset({str(SHARED / "sst2" / "train.tsv")!r})
model = TextClassifier(max_len=10, embed_dim=50, hidden_dim=64, bidirectional=False, pooling="last", epochs=3,
                       seed=1, threads=1).fit(data.texts, data.labels, progress=sys.argv[1] == "on")
print(json.dumps([record.tokens_per_second for record in model.fitted.history.records]), file=sys.stderr)"""
    rates: dict[str, list[float]] = {"off": [], "file": [], "terminal": []}
    for _ in range(rounds):
        for name in rates:
            env = {**os.environ, **({"FORCE_COLOR": "1"} if name == "terminal" else {})}
            done = subprocess.run([sys.executable, "-c", script, "off" if name == "off" else "on"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
            rates[name].append(statistics.mean(json.loads(done.stderr.strip().splitlines()[-1])))
    return rates


def longest_silence(command: list[str]) -> tuple[float, int, float]:
    """(longest gap in seconds between two lines of output, or before the first or after the last; lines;
    whole seconds) of a command whose output goes to a pipe."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stamps = [started]
    for _ in process.stdout:
        stamps.append(time.perf_counter())
    if process.wait():
        raise SystemExit(f"failed (exit {process.returncode}): {' '.join(command)}")
    stamps.append(time.perf_counter())
    return max(b - a for a, b in zip(stamps, stamps[1:])), len(stamps) - 2, stamps[-1] - started


def silence_rows(folder: Path, inputs: dict[str, Path], quick: bool) -> dict:
    trec = SHARED / "trec" / "train.tsv"
    commands = {
        "seqclf train trec/train.tsv (default settings)": [*SEQCLF, "train", str(trec), "--out", str(folder / "t1")],
        "seqclf tune sst2/train.tsv --valid sst2/dev.tsv --trials 3": [
            *SEQCLF, "tune", str(SHARED / "sst2" / "train.tsv"), "--valid", str(SHARED / "sst2" / "dev.tsv"),
            "--trials", "1" if quick else "3", "--out", str(folder / "tune")],
        "seqclf audit trec/train.tsv --folds 5": [*SEQCLF, "audit", str(trec), "--out", str(folder / "audit")],
        "seqclf predict (classic model) --input 100,000 texts --backend torch": [
            *SEQCLF, "predict", str(folder / "classic"), "--input", str(inputs["texts"]), "--backend", "torch"],
    }
    return {name: longest_silence(command) for name, command in commands.items()}


def median(values: list[float]) -> float:
    return statistics.median(values)


def write(results: dict, seconds: float, rounds: int) -> str:
    train, predict, progress, silence = (results[k] for k in ("train", "predict", "progress", "silence"))
    t = train["times"]
    ratio = median(t["seqclf"]) / median(t["fasttext"])
    acc = {k: (statistics.mean(v) * 100, (max(v) - min(v)) * 50) for k, v in train["accuracy"].items()}
    lines = [
        "# Whole processes against fastText", "",
        f"Measured by `python benchmarks/whole_process.py` on {platform.machine()}, {os.cpu_count()} CPUs, idle "
        f"(nothing else running), Python {platform.python_version()}, in one run of {seconds / 60:.1f} min; "
        f"medians of {rounds} alternating rounds. Every figure is a whole process, start to output written.", "",
        "## `seqclf train --preset fast` on SST-2 train (6,920 sentences)", "",
        "| system | seconds (median) | runs | test accuracy (mean ± half-range, seeds " +
        ", ".join(map(str, results["seeds"])) + ") |", "|---|---|---|---|",
        f"| `seqclf train sst2/train.tsv --preset fast --out DIR` | {median(t['seqclf']):.1f} | "
        f"{', '.join(f'{x:.1f}' for x in t['seqclf'])} | {acc['seqclf'][0]:.2f} ± {acc['seqclf'][1]:.2f} |",
        f"| fastText `train_supervised(lr=0.5, epoch=25, wordNgrams=2)` + `save_model` | {median(t['fasttext']):.1f} | "
        f"{', '.join(f'{x:.1f}' for x in t['fasttext'])} | {acc['fasttext'][0]:.2f} ± {acc['fasttext'][1]:.2f} |",
        "", f"Ratio seqclf / fastText: **{ratio:.1f}x** (target ≤ 3x).", "",
        f"## `seqclf predict MODEL --input texts.txt` on {PREDICT_TEXTS:,} SST-2 sentences (default flags)", "",
        "Output: seqclf's default JSON lines (label and every probability); fastText's label and probability "
        "per line. The first default run exports the ONNX graph into the model directory; later runs read it.", "",
        "| model | first default run | default (ONNX Runtime) | `--backend torch` | fastText | default / fastText |",
        "|---|---|---|---|---|---|"]
    targets = {"fast1": 0.5, "classic": 2.0}
    for name, row in predict.items():
        share = median(row["default"]) / median(row["fasttext"])
        lines.append(f"| {'fast' if name == 'fast1' else name} | {row['first']:.2f} s | {median(row['default']):.2f} s"
                     f" | {median(row['torch']):.2f} s | {median(row['fasttext']):.2f} s | **{share:.2f}x** "
                     f"(target ≤ {targets[name]}x) |")
    off, on_file, on_terminal = (median(progress[k]) for k in ("off", "file", "terminal"))
    lines += ["", "## What the progress report costs", "",
              "`TextClassifier.fit` on SST-2, classic model, 3 epochs, one thread; training tokens/s (mean of the "
              "epochs, median of rounds):", "",
              "| progress | tokens/s | cost |", "|---|---|---|",
              f"| off (`progress=False`) | {off:,.0f} | - |",
              f"| on, to a file (plain lines) | {on_file:,.0f} | {(1 - on_file / off) * 100:+.1f}% |",
              f"| on, as a terminal (live line; FORCE_COLOR) | {on_terminal:,.0f} | {(1 - on_terminal / off) * 100:+.1f}% |",
              "", "Target: ≤ 1% (a negative cost is noise: the run with the report was the faster).", "",
              "## The longest silence of a log", "",
              "Output to a pipe; the longest time without a line (before the first, between two, after the last):", "",
              "| command | longest silence | lines | whole run |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {gap:.1f} s | {count} | {whole:.0f} s |" for name, (gap, count, whole) in silence.items()]
    lines += ["", "Target: no silence over 10 s."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, a check that it runs")
    args = parser.parse_args()
    rounds = 1 if args.quick else 3
    seeds = [1] if args.quick else [1, 2, 3]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        inputs = write_inputs(folder)
        results = {"seeds": seeds, "train": train_rows(folder, inputs, seeds)}
        results["predict"] = predict_rows(folder, inputs, rounds)
        results["progress"] = progress_cost(rounds)
        results["silence"] = silence_rows(folder, inputs, args.quick)
    text = write(results, time.perf_counter() - started, rounds)
    print(text)
    if not args.quick:
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
