"""Multi-label on real text, and what reading long texts in windows costs.

1. Each TREC question followed by a random SST-2 sentence, labelled {question type, sentiment}; 30% of them
   with a second question of the same type appended and the label `two-questions` (tests/helpers.py builds
   them, as the test does). Train: TREC train x SST-2 train, 90% to train and 10% to choose on (thresholds,
   peers' settings); test: TREC test x SST-2 test. seqclf with default settings (`seqclf train` on the JSONL
   file, label lists detected), seeds 13, 1, 2; peers: TF-IDF 1-2 grams + one-vs-rest logistic regression
   and fastText with `-loss ova`, their C / threshold chosen on the same validation texts.
2. `--long-text chunk` against truncation on texts 10x longer than max_len: the same weights (the seed-13
   model) read both ways, 1,000 texts; seconds inside the process and for the whole `seqclf predict` process.

    python benchmarks/multi_label.py                     # about 5 minutes on 2 cores
    python benchmarks/multi_label.py --write-data DIR    # only write train/dev/test.jsonl into DIR

Writes benchmarks/results/multi_label.md.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from helpers import question_sentence_pairs  # noqa: E402  (the test's pairs, built one way)

from seqclf import TextClassifier, artifacts  # noqa: E402
from seqclf.data.readers import read_dataset  # noqa: E402
from seqclf.metrics import multi_label_report  # noqa: E402
from seqclf.training.thresholds import choose_thresholds  # noqa: E402

SHARED = Path(os.environ.get("SEQCLF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
RESULTS = HERE / "results" / "multi_label.md"
SEEDS = (13, 1, 2)
LONG_TEXTS, LONGER = 1000, 10  # texts, times max_len


def pairs() -> dict[str, tuple[list[str], list[list[str]]]]:
    trec = {split: read_dataset(SHARED / "trec" / f"{split}.tsv") for split in ("train", "test")}
    sst2 = {split: read_dataset(SHARED / "sst2" / f"{split}.tsv") for split in ("train", "test")}
    texts, labels = question_sentence_pairs(trec["train"], sst2["train"], seed=1)
    order = np.random.default_rng(0).permutation(len(texts))
    cut = len(texts) // 10
    pick = lambda indices: ([texts[i] for i in indices], [labels[i] for i in indices])  # noqa: E731
    return {"train": pick(order[cut:]), "dev": pick(order[:cut]),
            "test": question_sentence_pairs(trec["test"], sst2["test"], seed=2)}


def write_jsonl(path: Path, data: tuple[list[str], list[list[str]]]) -> Path:
    path.write_text("".join(json.dumps({"text": t, "label": ls}) + "\n" for t, ls in zip(*data)), encoding="utf-8")
    return path


def seqclf(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "seqclf", *args], capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"seqclf {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def multi_hot(labels: list[list[str]], classes: list[str]) -> np.ndarray:
    return np.array([[c in ls for c in classes] for ls in labels], dtype=float)


def scores(report: dict) -> tuple[float, float]:
    return report["micro_f1"], report["macro_f1"]


def run_seqclf(files: dict[str, Path], work: Path) -> tuple[list[tuple[float, float]], list[float], Path]:
    figures, seconds = [], []
    for seed in SEEDS:
        out = work / f"seqclf-{seed}"
        started = time.perf_counter()
        seqclf("train", str(files["train"]), "--valid", str(files["dev"]), "--out", str(out), "--seed", str(seed))
        seconds.append(time.perf_counter() - started)
        figures.append(scores(json.loads(seqclf("evaluate", str(out), str(files["test"]), "--json"))))
    return figures, seconds, work / f"seqclf-{SEEDS[0]}"


def run_tfidf(data: dict, classes: list[str]) -> tuple[tuple[float, float], str, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    train = vectorizer.fit_transform(data["train"][0])
    y_train, y_dev = multi_hot(data["train"][1], classes), multi_hot(data["dev"][1], classes)
    best = None
    for c in (0.3, 1, 3, 10, 30):
        model = OneVsRestClassifier(LogisticRegression(C=c, max_iter=2000)).fit(train, y_train)
        dev = model.predict_proba(vectorizer.transform(data["dev"][0]))
        thresholds = np.array(choose_thresholds(dev, y_dev, "per-label"))
        f1 = multi_label_report(y_dev, dev >= thresholds, classes)["micro_f1"]
        if best is None or f1 > best[0]:
            best = (f1, c, model, thresholds)
    _, c, model, thresholds = best
    test = model.predict_proba(vectorizer.transform(data["test"][0]))
    report = multi_label_report(multi_hot(data["test"][1], classes), test >= thresholds, classes)
    return scores(report), f"C={c}, per-label thresholds (dev micro-F1 {best[0]:.3f})", time.perf_counter() - started


def run_fasttext(data: dict, classes: list[str], work: Path) -> tuple[list[tuple[float, float]], str, float]:
    import fasttext

    path = work / "fasttext-train.txt"
    path.write_text("".join(" ".join(f"__label__{label}" for label in ls) + " " + text.lower() + "\n"
                            for text, ls in zip(*data["train"])), encoding="utf-8")
    y_dev, y_test = multi_hot(data["dev"][1], classes), multi_hot(data["test"][1], classes)

    def probabilities(model, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(classes)))
        for row, text in enumerate(texts):
            names, values = model.predict(text.lower(), k=-1, threshold=0.0)
            for name, value in zip(names, values):
                out[row, classes.index(name.removeprefix("__label__"))] = value
        return out

    figures, seconds, chosen = [], [], ""
    for seed in SEEDS:
        started = time.perf_counter()
        model = fasttext.train_supervised(str(path), loss="ova", lr=0.5, epoch=25, wordNgrams=2, seed=seed,
                                          thread=1, verbose=0)
        thresholds = np.array(choose_thresholds(probabilities(model, data["dev"][0]), y_dev, "per-label"))
        seconds.append(time.perf_counter() - started)
        test = probabilities(model, data["test"][0])
        figures.append(scores(multi_label_report(y_test, test >= thresholds, classes)))
        chosen = "lr=0.5, epoch=25, wordNgrams=2, loss=ova, per-label thresholds on dev"
    return figures, chosen, statistics.median(seconds)


def long_texts(model_dir: Path, test: tuple[list[str], list[list[str]]], work: Path) -> dict:
    """Texts of LONGER x max_len tokens (test pairs one after another), read truncated and in windows."""
    parts = artifacts.load(model_dir)
    max_len, tokenizer = parts.tokenizer.max_len, parts.tokenizer
    texts, pieces, rng = [], [], np.random.default_rng(0)
    while len(texts) < LONG_TEXTS:
        pieces.append(test[0][int(rng.integers(len(test[0])))])
        if len(tokenizer.encode([" ".join(pieces)]).ids) >= LONGER * max_len:
            texts.append(" ".join(pieces))
            pieces = []
    tokens = np.diff(tokenizer.encode(texts).offsets)
    chunk_dir = work / "chunked"
    artifacts.save(chunk_dir, artifacts.ModelParts(parts.config.updated({"long_text": "chunk"}), parts.fitted,
                                                   parts.tokenizer, parts.classes, parts.model, parts.history))
    inputs = work / "long.txt"
    inputs.write_text("\n".join(texts) + "\n", encoding="utf-8")
    figures = {"max_len": max_len, "tokens": (int(tokens.min()), float(tokens.mean()), int(tokens.max()))}
    for name, directory in (("truncate", model_dir), ("chunk", chunk_dir)):
        predictor = TextClassifier.load(directory)
        predictor.predict_proba(texts[:10])  # warm
        inner = []
        for _ in range(3):
            started = time.perf_counter()
            answers = predictor.predict_top(texts)
            inner.append(time.perf_counter() - started)
        whole = []
        for _ in range(3):
            started = time.perf_counter()
            seqclf("predict", str(directory), "--input", str(inputs))
            whole.append(time.perf_counter() - started)
        windows = [answer.get("windows", 1) for answer in answers]
        figures[name] = {"inner": statistics.median(inner), "whole": statistics.median(whole),
                         "windows": float(np.mean(windows))}
    return figures


def main() -> None:
    data = pairs()
    classes = sorted({label for _, labels in data.values() for ls in labels for label in ls})
    lines = [
        "# Multi-label: TREC questions with SST-2 sentences; long texts in windows", "",
        f"`python benchmarks/multi_label.py` on {platform.machine()}, {len(os.sched_getaffinity(0))} CPU threads, "
        f"Python {platform.python_version()}. Each TREC question followed by a random SST-2 sentence, labels "
        "{question type, sentiment}, and for 30% of them a second question of the same type with the label "
        "`two-questions` (9 labels). "
        f"{len(data['train'][0])} train, {len(data['dev'][0])} validation (thresholds and peers' settings chosen "
        f"on it), {len(data['test'][0])} test texts (TREC test x SST-2 test). seqclf: default settings "
        f"(`seqclf train train.jsonl --valid dev.jsonl --seed S`); seeds {', '.join(map(str, SEEDS))}: mean ± "
        "standard deviation. No choice is made on test.", "",
        "| system | test micro-F1 % | test macro-F1 % | train s | runs | settings |", "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {split: write_jsonl(work / f"{split}.jsonl", data[split]) for split in data}

        def row(system: str, figures: list[tuple[float, float]], seconds: float, settings: str) -> str:
            micro, macro = zip(*figures)
            spread = (lambda v: f" ± {statistics.stdev(v) * 100:.2f}" if len(v) > 1 else "")
            return (f"| {system} | {statistics.fmean(micro) * 100:.2f}{spread(micro)} | "
                    f"{statistics.fmean(macro) * 100:.2f}{spread(macro)} | {seconds:.1f} | {len(figures)} | {settings} |")

        tfidf, tfidf_settings, tfidf_seconds = run_tfidf(data, classes)
        lines.append(row("TF-IDF 1-2 grams + one-vs-rest LogisticRegression", [tfidf], tfidf_seconds, tfidf_settings))
        fasttext_figures, fasttext_settings, fasttext_seconds = run_fasttext(data, classes, work)
        lines.append(row("fastText one-vs-all (bigrams)", fasttext_figures, fasttext_seconds, fasttext_settings))
        figures, seconds, model_dir = run_seqclf(files, work)
        lines.append(row("seqclf (default settings)", figures, statistics.median(seconds),
                         "per-label thresholds chosen on dev"))
        mean_micro = statistics.fmean(f[0] for f in figures)
        lines += ["", f"seqclf test micro-F1 {mean_micro * 100:.2f}% (the test's target ≥ 80%: "
                  f"{'met' if mean_micro >= 0.80 else 'missed'}); best peer "
                  f"{max(tfidf[0], statistics.fmean(f[0] for f in fasttext_figures)) * 100:.2f}%."]
        long = long_texts(model_dir, data["test"], work)
        low, mean, high = long["tokens"]
        truncate, chunk = long["truncate"], long["chunk"]
        lines += [
            "", f"## `--long-text chunk` on texts {LONGER}x longer than max_len", "",
            f"The seed-{SEEDS[0]} model (max_len {long['max_len']}), the same weights read two ways, on {LONG_TEXTS:,} "
            f"texts of {low}-{high} tokens (mean {mean:.0f}) made of test pairs one after another. Chunk: windows of "
            f"max_len every max_len / 2 tokens, mean of their logits. Medians of 3 runs.", "",
            "| reading | windows per text | predict_top, in the process s | `seqclf predict --input`, whole process s |",
            "|---|---|---|---|",
            f"| truncate (first {long['max_len']} tokens) | {truncate['windows']:.1f} | {truncate['inner']:.2f} | "
            f"{truncate['whole']:.2f} |",
            f"| chunk | {chunk['windows']:.1f} | {chunk['inner']:.2f} | {chunk['whole']:.2f} |",
            "", f"chunk / truncate: {chunk['inner'] / truncate['inner']:.1f}x in the process, "
                f"{chunk['whole'] / truncate['whole']:.1f}x for the whole process "
                f"({chunk['windows'] / truncate['windows']:.1f}x the windows).",
        ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-data"] and len(sys.argv) == 3:
        target = Path(sys.argv[2])
        target.mkdir(parents=True, exist_ok=True)
        for split, split_data in pairs().items():
            print(write_jsonl(target / f"{split}.jsonl", split_data))
    else:
        main()
