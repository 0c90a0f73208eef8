"""Data larger than memory, measured as whole processes as a user runs them (peak RSS from the kernel's
own count, through GNU time): on generated corpora with SST-2's sentence lengths and a long tail of
rare words (about 5M distinct tokens in 30M sentences),

  - `seqclf train FILE --preset classic --epochs 1 --max-size 100000`: peak RSS and epoch time per sentence
    at 2M, 10M and 30M sentences (the vocabulary is capped: 5M words of 50 features would be a 1 GB model);
  - the vocabulary alone (the streamed first pass and the bounded count), its peak RSS and distinct words;
  - `seqclf predict MODEL --input FILE > out.jsonl` at 1M, 10M and 30M lines, and at 1M lines the version
    before predict streamed (`--baseline SRC`: its src/ folder) for the sentences/s it gave;
  - Ray Data on a local cluster of 2 CPUs (2 actors, `seqclf.ray_data.SeqclfPredictor`) on 1M lines beside
    `seqclf predict`, and whether every label is the same.

    python benchmarks/scale.py --baseline /tmp/before/src      # hours (30M: ~40 min an epoch); ~10 GB of disk
    python benchmarks/scale.py --sizes 20000 --predict-sizes 20000 --ray-lines 5000   # a check that it runs

Writes benchmarks/results/scale.md. Files are generated in a temporary folder and removed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SEQCLF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
RESULTS = HERE / "results" / "scale.md"
SEQCLF = [sys.executable, "-m", "seqclf"]
TIME = "/usr/bin/time"  # GNU time (Debian's `time` package): each command's own peak RSS
COMMON, RARE = 50_000, 5_000_000  # word pools: Zipf-distributed common words, uniform rare ones
RARE_SHARE = 0.2  # of the tokens
TRAIN = ["--preset", "classic", "--epochs", "1", "--max-size", "100000"]
VOCABULARY = """import json, resource, sys, tempfile, time
from pathlib import Path
from seqclf.config import Config, load_preset
from seqclf.text.streamed_corpus import count_pass, vocabulary_of
from seqclf.text.word_counts import WordCounts
config = Config.from_dict(load_preset("classic")).updated({"max_size": 100000})
started = time.perf_counter()
with tempfile.TemporaryDirectory() as work:
    counts = WordCounts(Path(work))
    count_pass(Path(sys.argv[1]), config.data, config.tokenizer, counts)
    vocabulary = vocabulary_of(counts, config.tokenizer)
    distinct = sum(1 for _ in counts.totals())
print(json.dumps({"seconds": time.perf_counter() - started, "distinct": distinct, "vocabulary": len(vocabulary),
                  "spills": counts.spills}))"""
RAY = """import json, sys, time
started = time.perf_counter()
import ray
from seqclf.ray_data import SeqclfPredictor
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
ray.data.DataContext.get_current().execution_options.preserve_order = True
rows = ray.data.read_text(sys.argv[2], drop_empty_lines=False).map_batches(
    SeqclfPredictor, fn_constructor_kwargs={"model": sys.argv[1]}, compute=ray.data.ActorPoolStrategy(size=2),
    num_cpus=0.5, batch_size=4096)
with open(sys.argv[3], "w") as out:
    for row in rows.iter_rows():
        out.write(f"{row['label']}\\n")
print(json.dumps({"seconds": time.perf_counter() - started}))"""


def measured(command: list[str], stdout: Path | None = None, env: dict | None = None) -> dict:
    """Whole-process seconds and peak RSS (MB) of `command`, its stdout to `stdout` (else discarded).

    The peak comes from GNU time (`/usr/bin/time -f %M`), which starts the command itself: a process's
    ru_maxrss counts the memory of the process it was forked from until it runs its program, so a command
    started from this script (hundreds of MB after generating a large file) reported at least that."""
    with open(stdout or os.devnull, "wb") as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as peak:
        started = time.perf_counter()
        done = subprocess.run([TIME, "-f", "%M", "-o", peak.name, *command], stdout=out, stderr=err, env=env)
        seconds = time.perf_counter() - started
        err.seek(0)
        errors = err.read().decode(errors="replace")
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, command))} failed:\n{errors[-3000:]}")
        peak_kb = int(peak.read().split()[-1])
    # the line seqclf writes when it found cores kept busy by other processes (fewer threads, passive waiting)
    busy = [line for line in errors.splitlines() if line.startswith("threads: ")]
    return {"seconds": seconds, "rss_mb": peak_kb / 1024, "busy_cores_note": busy[0] if busy else None}


def generate(path: Path, sentences: int, labeled: bool, seed: int = 0) -> None:
    """`sentences` lines of SST-2-like lengths, words from a Zipf common pool and a uniform rare one."""
    rng = np.random.default_rng(seed)
    lengths = np.array([len(line.split("\t", 1)[1].split()) for line in
                        (SHARED / "sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]])
    common = np.array([f"c{i}" for i in range(COMMON)], dtype=object)
    with open(path, "w", encoding="utf-8") as out:
        out.write("label\ttext\n" if labeled else "")
        for start in range(0, sentences, 200_000):
            count = min(200_000, sentences - start)
            sizes = rng.choice(lengths, count)
            tokens = int(sizes.sum())
            rare = rng.random(tokens) < RARE_SHARE
            ids = np.minimum(rng.zipf(1.3, tokens) - 1, COMMON - 1)
            words = common[ids]
            words[rare] = [f"r{i}" for i in rng.integers(0, RARE, int(rare.sum()))]
            ends = np.cumsum(sizes)
            texts = [" ".join(words[end - size : end]) for end, size in zip(ends, sizes)]
            labels = np.where(ids[ends - 1] % 2 == 0, "pos", "neg")
            out.writelines(f"{label}\t{text}\n" if labeled else f"{text}\n" for label, text in zip(labels, texts))
    os.sync()  # the file on disk before a measured command starts: the kernel's writeback of it is not its load


def train_row(folder: Path, sentences: int, vocabulary_alone: bool) -> dict:
    data = folder / f"train-{sentences}.tsv"
    generate(data, sentences, labeled=True)
    out = folder / f"model-{sentences}"
    run = measured([*SEQCLF, "train", str(data), "--out", str(out), "--cache-dir", str(folder / "cache"), *TRAIN])
    record = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    shutil.rmtree(folder / "cache", ignore_errors=True)
    vocabulary = None
    if vocabulary_alone:
        vocabulary_run = measured([sys.executable, "-c", VOCABULARY, str(data)], folder / "vocabulary.json")
        vocabulary = {**json.loads((folder / "vocabulary.json").read_text()), "rss_mb": vocabulary_run["rss_mb"]}
    size = data.stat().st_size
    data.unlink()
    trained = int(sentences * 0.9)  # classic holds 10% out for validation
    row = {"sentences": sentences, "bytes": size, "process_seconds": run["seconds"], "rss_mb": run["rss_mb"],
           "epoch_seconds": record["seconds"], "us_per_sentence": 1e6 * record["seconds"] / trained,
           "vocabulary": vocabulary, "model": str(out),
           "busy_cores_note": run["busy_cores_note"]}
    print(row, flush=True)
    return row


def predict_row(folder: Path, model: str, lines: int, baseline: str | None) -> dict:
    data = folder / f"predict-{lines}.txt"
    generate(data, lines, labeled=False, seed=1)
    row = {"lines": lines, **measured([*SEQCLF, "predict", model, "--input", str(data)], folder / "out.jsonl")}
    row["per_second"] = lines / row["seconds"]
    if baseline:
        measured([*SEQCLF, "predict", model, "a first text"], env={**os.environ, "PYTHONPATH": baseline})
        before = measured([*SEQCLF, "predict", model, "--input", str(data)], folder / "before.jsonl",
                          env={**os.environ, "PYTHONPATH": baseline})
        row["baseline"] = {**before, "per_second": lines / before["seconds"]}
    (folder / "out.jsonl").unlink()
    (folder / "before.jsonl").unlink(missing_ok=True)
    data.unlink()
    print(row, flush=True)
    return row


def ray_row(folder: Path, model: str, lines: int) -> dict:
    data = folder / "ray.txt"
    generate(data, lines, labeled=False, seed=2)
    alone = measured([*SEQCLF, "predict", model, "--input", str(data)], folder / "alone.jsonl")
    with_ray = measured([sys.executable, "-c", RAY, model, str(data), str(folder / "ray-labels.txt")])
    expected = [json.loads(line)["label"] for line in (folder / "alone.jsonl").read_text().splitlines()]
    found = [None if label == "None" else label for label in (folder / "ray-labels.txt").read_text().splitlines()]
    row = {"lines": lines, "seqclf_predict": alone, "ray": with_ray, "same_labels": found == expected}
    print(row, flush=True)
    return row


def report(train: list[dict], predict: list[dict], ray: dict | None) -> str:
    cores = len(os.sched_getaffinity(0))
    lines = ["# Data larger than memory", "",
             f"Measured by `python benchmarks/scale.py` on {platform.machine()}, {cores} CPU cores, Python "
             f"{platform.python_version()}, an idle machine; {time.strftime('%Y-%m-%d')}. Peak RSS: the kernel's "
             "count for the whole process (GNU time's %M, the command started by `/usr/bin/time`). Corpora "
             "generated with SST-2's sentence lengths, 80% of "
             f"tokens from {COMMON:,} Zipf-distributed common words, 20% from {RARE:,} rare ones.", "",
             "## Training: one epoch of the classic model (`" + " ".join(["seqclf train FILE", *TRAIN]) + "`)", "",
             "| sentences | file | whole process s | peak RSS MB | epoch s | µs per sentence | vs the smallest |",
             "|---|---|---|---|---|---|---|"]
    first = train[0]["us_per_sentence"] if train else 1
    for row in train:
        lines.append(f"| {row['sentences']:,} | {row['bytes'] / 1e9:.2f} GB | {row['process_seconds']:.0f} | "
                     f"{row['rss_mb']:.0f} | {row['epoch_seconds']:.1f} | {row['us_per_sentence']:.2f} | "
                     f"{row['us_per_sentence'] / first:.2f}x |")
    lines += [f"\nAt {row['sentences']:,} sentences seqclf found cores kept busy by other processes and said: "
              f"`{row['busy_cores_note']}`" for row in train if row.get("busy_cores_note")]
    lines += ["", "## Vocabulary: the first pass alone (counts in bounded memory, then the vocabulary)", "",
              "| sentences | distinct words | spills to disk | vocabulary | seconds | peak RSS MB |", "|---|---|---|---|---|---|"]
    for row in (row for row in train if row["vocabulary"]):
        v = row["vocabulary"]
        lines.append(f"| {row['sentences']:,} | {v['distinct']:,} | {v['spills']} | {v['vocabulary']:,} | "
                     f"{v['seconds']:.0f} | {v['rss_mb']:.0f} |")
    lines += ["", "## Prediction: `seqclf predict MODEL --input FILE > out.jsonl` (the model of the first row)", "",
              "| lines | seconds | sentences/s | peak RSS MB | before streaming: sentences/s | before: peak RSS MB |",
              "|---|---|---|---|---|---|"]
    for row in predict:
        before = row.get("baseline")
        lines.append(f"| {row['lines']:,} | {row['seconds']:.0f} | {row['per_second']:,.0f} | {row['rss_mb']:.0f} | "
                     + (f"{before['per_second']:,.0f} | {before['rss_mb']:.0f} |" if before else "| |"))
    if ray:
        alone, on_ray = ray["seqclf_predict"], ray["ray"]
        lines += ["", f"## Ray Data: 2 actors on a local 2-CPU cluster, {ray['lines']:,} lines", "",
                  "| | whole process s | sentences/s | same labels as seqclf predict |", "|---|---|---|---|",
                  f"| seqclf predict | {alone['seconds']:.1f} | {ray['lines'] / alone['seconds']:,.0f} | |",
                  f"| Ray Data (ray.init included) | {on_ray['seconds']:.1f} | {ray['lines'] / on_ray['seconds']:,.0f} | "
                  f"{'yes' if ray['same_labels'] else 'NO'} |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000000,10000000,30000000", help="training corpora, sentences")
    parser.add_argument("--predict-sizes", default="1000000,10000000,30000000", help="prediction inputs, lines")
    parser.add_argument("--ray-lines", type=int, default=1_000_000)
    parser.add_argument("--vocabulary", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the vocabulary's first pass alone, at each training size")
    parser.add_argument("--baseline", help="src/ of the version before predict streamed (PYTHONPATH)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the table goes (rewritten after each row)")
    args = parser.parse_args()
    train: list[dict] = []
    predict: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="seqclf-scale-", dir=HERE.parent.parent) as work:
        folder = Path(work)
        for n in args.sizes.split(","):
            train.append(train_row(folder, int(n), args.vocabulary))
            args.results.write_text(report(train, predict, None))
        model = train[0]["model"]
        measured([*SEQCLF, "predict", model, "a first text"])  # writes the ONNX graph, once: not a row's cost
        for i, n in enumerate(filter(None, args.predict_sizes.split(","))):
            predict.append(predict_row(folder, model, int(n), args.baseline if i == 0 else None))
            args.results.write_text(report(train, predict, None))
        ray = ray_row(folder, model, args.ray_lines) if args.ray_lines else None
        args.results.write_text(report(train, predict, ray))
    print(args.results.read_text())


if __name__ == "__main__":
    main()
