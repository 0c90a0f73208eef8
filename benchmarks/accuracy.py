"""Test accuracy of seqclf's presets against fastText and TF-IDF + linear models, in one run.

    python benchmarks/accuracy.py                      # the full table (about 2.5 hours on 2 cores: the
                                                       # searches take 10 minutes per seed and data set)
    python benchmarks/accuracy.py --datasets trec --presets fast --peers fasttext --seeds 13 --no-tune

Every system trains on the same training split, chooses its settings or its best epoch on the same
dev split, and is scored once on the test split. SST-2 has a dev file; TREC's dev split is carved
from its training file with a fixed seed. Nothing is tuned on test. Results are printed and written
to benchmarks/results/accuracy.md (unless --no-write or --set is given).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqclf import TextClassifier
from seqclf.config import Config, load_preset
from seqclf.data.readers import read_dataset
from seqclf.metrics import classification_report

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SEQCLF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
RESULTS = HERE / "results" / "accuracy.md"
DEV_SHARE, DEV_SEED = 0.1, 0
PEERS = ("tfidf-logreg", "tfidf-linearsvc", "nbsvm", "fasttext", "fasttext-autotune")
TUNE = "tune"  # the row of `seqclf tune`
THREADS = len(os.sched_getaffinity(0))

Texts = list[str]


@dataclass
class Split:
    texts: Texts
    labels: Texts


@dataclass
class Corpus:
    name: str
    train: Split
    dev: Split
    test: Split
    dev_source: str


@dataclass
class Runs:
    """Every run of one system on one data set."""

    system: str
    settings: str = ""
    accuracy: list[float] = field(default_factory=list)
    dev_accuracy: list[float] = field(default_factory=list)
    macro_f1: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    predict_rates: list[float] = field(default_factory=list)  # test sentences/s

    def add(self, report: dict, seconds: float, dev_accuracy: float, predict_rate: float) -> None:
        self.accuracy.append(report["accuracy"])
        self.dev_accuracy.append(dev_accuracy)
        self.macro_f1.append(report["macro_f1"])
        self.seconds.append(seconds)
        self.predict_rates.append(predict_rate)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracy)

    @property
    def train_seconds(self) -> float:
        return statistics.median(self.seconds)

    def row(self) -> str:
        spread = f" ± {statistics.stdev(self.accuracy) * 100:.2f}" if len(self.accuracy) > 1 else ""
        return (f"| {self.system} | {statistics.fmean(self.dev_accuracy) * 100:.2f} | {self.mean * 100:.2f}{spread} "
                f"| {statistics.fmean(self.macro_f1) * 100:.2f} "
                f"| {self.train_seconds:.1f} | {statistics.median(self.predict_rates):,.0f} | {len(self.accuracy)} "
                f"| {self.settings} |")


# -- data ------------------------------------------------------------------------------------------


def read_split(path: Path) -> Split:
    data = read_dataset(path)
    return Split(data.texts, data.labels)


def load_corpus(name: str) -> Corpus:
    folder = SHARED / name
    train, test = read_split(folder / "train.tsv"), read_split(folder / "test.tsv")
    if (folder / "dev.tsv").exists():
        return Corpus(name, train, read_split(folder / "dev.tsv"), test, "dev.tsv")
    order = np.random.default_rng(DEV_SEED).permutation(len(train.texts))
    n_dev = int(round(DEV_SHARE * len(order)))
    pick = lambda rows: Split([train.texts[i] for i in rows], [train.labels[i] for i in rows])  # noqa: E731
    return Corpus(name, pick(order[n_dev:]), pick(order[:n_dev]), test,
                  f"{n_dev} sentences of train.tsv (seed {DEV_SEED})")


def score(classes: list[str], truth: Texts, predicted: Texts) -> dict:
    index = {name: i for i, name in enumerate(classes)}
    return classification_report(np.array([index[t] for t in truth]), np.array([index[p] for p in predicted]), classes)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def predicted(predict: Callable[[Texts], Texts], texts: Texts) -> tuple[Texts, float]:
    """The labels of `texts` in one batched call, and the sentences per second it gave."""
    labels, seconds = timed(lambda: predict(texts))
    return labels, len(texts) / seconds


# -- seqclf ----------------------------------------------------------------------------------------


def run_seqclf(corpus: Corpus, preset: str, seeds: list[int], overrides: dict) -> Runs:
    config = Config.from_dict(load_preset(preset)).updated(overrides)
    runs = Runs(f"seqclf --preset {preset}", ", ".join(f"{k}={v}" for k, v in overrides.items()))
    for seed in seeds:
        clf = TextClassifier(config, seed=seed)
        _, seconds = timed(lambda: clf.fit(corpus.train.texts, corpus.train.labels,
                                           valid=(corpus.dev.texts, corpus.dev.labels)))
        labels, rate = predicted(clf.predict, corpus.test.texts)
        runs.add(score(clf.classes_, corpus.test.labels, labels), seconds, clf.validation["accuracy"], rate)
        chosen = clf.fitted_state  # what training chose on dev (the settings say `auto`)
        combined = f", combined: {chosen.combine}, n-gram weight {chosen.ngram_weight:.2f}" if chosen.combine else ""
        print(f"  {runs.system} seed {seed}: {runs.accuracy[-1]:.4f} in {seconds:.1f} s{combined}", flush=True)
    return runs


def run_tune(corpus: Corpus, seeds: list[int], budget: float) -> Runs:
    """`seqclf tune` on the training and dev files (the search seeded), then the final model on test.
    Train seconds: the search and the final training."""
    from seqclf.tune import tune

    runs = Runs(f"seqclf tune ({budget / 60:.0f} min search)")
    with tempfile.TemporaryDirectory() as folder:
        train_file, dev_file = write_tsv(Path(folder) / "train.tsv", corpus.train), write_tsv(Path(folder) / "dev.tsv",
                                                                                           corpus.dev)
        for seed in seeds:
            result, seconds = timed(lambda: tune(Config(), train_file, dev_file, Path(folder) / f"tuned-{seed}", budget,
                                                 seed=seed, cache=Path(folder) / "cache"))
            clf = result.run.classifier
            labels, rate = predicted(clf.predict, corpus.test.texts)
            runs.add(score(clf.classes_, corpus.test.labels, labels), seconds, clf.validation["accuracy"], rate)
            runs.settings = f"{result.trials} trials; last best: " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float)
                                                                                else f"{k}={v}"
                                                                                for k, v in result.best.items())
            print(f"  {runs.system} seed {seed}: {runs.accuracy[-1]:.4f} ({result.trials} trials, {seconds:.0f} s)",
                  flush=True)
    return runs


def write_tsv(path: Path, split: Split) -> Path:
    path.write_text("label\ttext\n" + "".join(f"{label}\t{text}\n" for text, label in zip(split.texts, split.labels)),
                    encoding="utf-8")
    return path


# -- peers -----------------------------------------------------------------------------------------


def run_tfidf(corpus: Corpus, model: str) -> Runs:
    """TF-IDF of word 1-2 grams (sublinear tf) + a linear model; C chosen on dev."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    def build(c: float):
        if model == "logreg":
            return LogisticRegression(C=c, max_iter=2000)
        return LinearSVC(C=c)

    def fit(c: float):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
        classifier = build(c).fit(vectorizer.fit_transform(corpus.train.texts), corpus.train.labels)
        return vectorizer, classifier

    def predict(fitted, texts: Texts) -> Texts:
        vectorizer, classifier = fitted
        return list(classifier.predict(vectorizer.transform(texts)))

    grid = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100]
    dev_accuracy = {c: np.mean(np.array(predict(fit(c), corpus.dev.texts)) == np.array(corpus.dev.labels))
                    for c in grid}
    best = max(grid, key=lambda c: (dev_accuracy[c], -c))
    fitted, seconds = timed(lambda: fit(best))
    runs = Runs(f"TF-IDF 1-2 grams + {'LogisticRegression' if model == 'logreg' else 'LinearSVC'}",
                f"C={best} (dev {dev_accuracy[best]:.3f})")
    labels, rate = predicted(lambda texts: predict(fitted, texts), corpus.test.texts)
    runs.add(score(sorted(set(corpus.train.labels)), corpus.test.labels, labels), seconds, dev_accuracy[best], rate)
    print(f"  {runs.system}: {runs.accuracy[-1]:.4f} ({runs.settings})", flush=True)
    return runs


def run_nbsvm(corpus: Corpus) -> Runs:
    """NBSVM (Wang & Manning 2012): binarized word 1-2 grams (whitespace tokens) scaled by the naive-Bayes
    log-count ratio of each class against the rest (alpha 1), then per class either a logistic
    regression or their interpolated linear SVM (w = (1 - beta) mean|w| + beta w); one model for two
    classes, one per class (argmax) otherwise. The classifier, C and beta are chosen on dev."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    classes = sorted(set(corpus.train.labels))
    vectorizer = CountVectorizer(ngram_range=(1, 2), binary=True, lowercase=True, token_pattern=r"[^\s]+")
    features, vectorize_seconds = timed(lambda: vectorizer.fit_transform(corpus.train.texts))
    labels = np.array(corpus.train.labels)

    def fit(setting: tuple[str, float, float]):
        kind, c, beta = setting
        models = []
        for positive in (classes[1:] if len(classes) == 2 else classes):
            mine = labels == positive
            p = 1 + np.asarray(features[mine].sum(axis=0)).ravel()
            q = 1 + np.asarray(features[~mine].sum(axis=0)).ravel()
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            scaled = features.multiply(ratio).tocsr()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = (LogisticRegression(C=c, max_iter=2000) if kind == "lr" else LinearSVC(C=c)).fit(scaled, mine)
            weights = model.coef_.ravel()
            if kind == "svm":
                weights = (1 - beta) * np.abs(weights).mean() + beta * weights
            models.append((ratio * weights, model.intercept_[0]))
        return models

    def predict(models, texts: Texts) -> Texts:
        x = vectorizer.transform(texts)
        scores = np.stack([x @ weights + bias for weights, bias in models], axis=1)
        if len(classes) == 2:
            return [classes[int(s > 0)] for s in scores[:, 0]]
        return [classes[i] for i in scores.argmax(axis=1)]

    grid = ([("lr", c, 1.0) for c in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100)]
            + [("svm", c, beta) for c in (0.01, 0.03, 0.1, 0.3, 1, 3) for beta in (0.25, 0.5, 1.0)])
    dev_accuracy = {s: np.mean(np.array(predict(fit(s), corpus.dev.texts)) == np.array(corpus.dev.labels))
                    for s in grid}
    best = max(grid, key=lambda s: (dev_accuracy[s], s[0] == "lr", -s[1]))
    fitted, seconds = timed(lambda: fit(best))
    kind, c, beta = best
    chosen = f"LogisticRegression, C={c}" if kind == "lr" else f"interpolated SVM, C={c}, beta={beta}"
    runs = Runs("NBSVM (NB-scaled binary 1-2 grams)", f"{chosen} (dev {dev_accuracy[best]:.3f})")
    labels, rate = predicted(lambda texts: predict(fitted, texts), corpus.test.texts)
    runs.add(score(classes, corpus.test.labels, labels), vectorize_seconds + seconds, dev_accuracy[best], rate)
    print(f"  {runs.system}: {runs.accuracy[-1]:.4f} ({runs.settings})", flush=True)
    return runs


def write_fasttext_file(path: Path, split: Split) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for text, label in zip(split.texts, split.labels):
            handle.write(f"__label__{label} {' '.join(text.lower().split())}\n")


def run_fasttext_autotune(corpus: Corpus, seeds: list[int], budget: float) -> Runs:
    """fastText's own search (-autotune-validation on dev, -autotune-duration = the budget)."""
    import fasttext

    runs = Runs(f"fastText autotune ({budget / 60:.0f} min search)")
    with tempfile.TemporaryDirectory() as folder:
        train_file, dev_file = Path(folder) / "train.txt", Path(folder) / "dev.txt"
        write_fasttext_file(train_file, corpus.train)
        write_fasttext_file(dev_file, corpus.dev)
        classes = sorted(set(corpus.train.labels))
        for seed in seeds:
            model, seconds = timed(lambda: fasttext.train_supervised(
                input=str(train_file), autotuneValidationFile=str(dev_file), autotuneDuration=int(budget), seed=seed,
                thread=THREADS, verbose=0))
            predict = lambda texts: [found[0].removeprefix("__label__") for found in  # noqa: E731
                                     model.predict([" ".join(t.lower().split()) for t in texts])[0]]
            dev = np.mean(np.array(predict(corpus.dev.texts)) == np.array(corpus.dev.labels))
            labels, rate = predicted(predict, corpus.test.texts)
            runs.add(score(classes, corpus.test.labels, labels), seconds, dev, rate)
            args = model.f.getArgs()
            runs.settings = f"last run: lr={args.lr:.3g}, epoch={args.epoch}, wordNgrams={args.wordNgrams}, dim={args.dim}"
            print(f"  {runs.system} seed {seed}: {runs.accuracy[-1]:.4f} ({runs.settings})", flush=True)
    return runs


def run_fasttext(corpus: Corpus, seeds: list[int]) -> Runs:
    """fastText supervised with word bigrams, lowercased; lr and epochs chosen on dev (seed 0)."""
    import fasttext

    with tempfile.TemporaryDirectory() as folder:
        train_file = Path(folder) / "train.txt"
        write_fasttext_file(train_file, corpus.train)

        def fit(lr: float, epoch: int, seed: int):
            return fasttext.train_supervised(input=str(train_file), lr=lr, epoch=epoch, wordNgrams=2, dim=100,
                                             seed=seed, thread=THREADS, verbose=0)

        def predict(model, texts: Texts) -> Texts:
            labels, _ = model.predict([" ".join(t.lower().split()) for t in texts])
            return [found[0].removeprefix("__label__") for found in labels]

        grid = [(lr, epoch) for lr in (0.05, 0.1, 0.25, 0.5, 1.0) for epoch in (5, 10, 25, 50)]
        dev_accuracy = {setting: np.mean(np.array(predict(fit(*setting, 0), corpus.dev.texts))
                                         == np.array(corpus.dev.labels)) for setting in grid}
        lr, epoch = max(grid, key=lambda s: (dev_accuracy[s], -s[1], -s[0]))
        runs = Runs("fastText (bigrams)", f"lr={lr}, epoch={epoch} (dev {dev_accuracy[(lr, epoch)]:.3f})")
        classes = sorted(set(corpus.train.labels))
        for seed in seeds:
            model, seconds = timed(lambda: fit(lr, epoch, seed))
            dev = np.mean(np.array(predict(model, corpus.dev.texts)) == np.array(corpus.dev.labels))
            labels, rate = predicted(lambda texts: predict(model, texts), corpus.test.texts)
            runs.add(score(classes, corpus.test.labels, labels), seconds, dev, rate)
    print(f"  {runs.system}: {runs.mean:.4f} ({runs.settings})", flush=True)
    return runs


# -- the report ------------------------------------------------------------------------------------


def targets(runs: dict[str, Runs]) -> list[str]:
    peers = [r for key, r in runs.items() if key in PEERS]
    if not peers:
        return []
    best = max(peers, key=lambda r: r.mean)
    lines = [f"Best peer: {best.system}, {best.mean * 100:.2f}."]
    if "accurate" in runs:
        gap = (runs["accurate"].mean - best.mean) * 100
        lines.append(f"`accurate` − best peer: {gap:+.2f} points (target ≥ +0.50: {'met' if gap >= 0.5 else 'missed'}).")
        seconds = runs["accurate"].train_seconds
        lines.append(f"`accurate` train time: {seconds:.0f} s (target ≤ 300 s: {'met' if seconds <= 300 else 'missed'}).")
    if TUNE in runs and "accurate" in runs:
        gap = (runs[TUNE].mean - runs["accurate"].mean) * 100
        lines.append(f"`seqclf tune` − `accurate`: {gap:+.2f} points (target ≥ 0: {'met' if gap >= 0 else 'missed'}).")
    if TUNE in runs and "fasttext-autotune" in runs:
        gap = (runs[TUNE].mean - runs["fasttext-autotune"].mean) * 100
        lines.append(f"`seqclf tune` − fastText autotune: {gap:+.2f} points (target ≥ 0: "
                     f"{'met' if gap >= 0 else 'missed'}).")
    if "fast" in runs:
        gap = (runs["fast"].mean - best.mean) * 100
        lines.append(f"`fast` − best peer: {gap:+.2f} points (target ≥ −1.00: {'met' if gap >= -1 else 'missed'}).")
        if "fasttext" in runs:
            ratio = runs["fast"].train_seconds / runs["fasttext"].train_seconds
            lines.append(f"`fast` train time / fastText's: {ratio:.2f}x (target < 3x: {'met' if ratio < 3 else 'missed'}).")
    return lines


def report(results: dict[str, dict[str, Runs]], corpora: dict[str, Corpus], seeds: list[int], command: str) -> str:
    lines = [
        "# Accuracy: seqclf presets and search against fastText, NBSVM and TF-IDF + linear models",
        "",
        f"`{command}` on {platform.processor() or platform.machine()}, {THREADS} CPU threads, "
        f"Python {platform.python_version()}. seqclf and fastText: seeds {', '.join(map(str, seeds))} "
        "(means; ± is the standard deviation of test accuracy); the TF-IDF models are deterministic (one run). "
        "Dev accuracy: of the final model (seqclf: its combination of models) or of the chosen settings (peers). "
        "Train seconds: median wall time of one training run, tokenization included; the grid searches of the "
        "TF-IDF, NBSVM and fastText rows excluded, the searches of `seqclf tune` and fastText autotune included "
        "(their budget each). Predict sentences/s: the test texts labelled in one batched call in the process that "
        "trained the model (median over the runs). No pretrained vectors. Every choice is made on dev, never on test.",
    ]
    for name, runs in results.items():
        corpus = corpora[name]
        classes = len(set(corpus.train.labels))
        lines += [
            "",
            f"## {name}: {len(corpus.train.texts)} train, {len(corpus.dev.texts)} dev ({corpus.dev_source}), "
            f"{len(corpus.test.texts)} test, {classes} classes",
            "",
            "| system | dev accuracy % | test accuracy % | test macro-F1 % | train s | predict sentences/s | runs "
            "| settings chosen on dev |",
            "|---|---|---|---|---|---|---|---|",
            *(r.row() for r in runs.values()),
            "",
            *targets(runs),
        ]
    return "\n".join(lines) + "\n"


def parse_overrides(pairs: list[str]) -> dict:
    import yaml

    overrides = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        overrides[key] = yaml.safe_load(value)
    return overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sst2,trec")
    parser.add_argument("--presets", default="fast,accurate,classic")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--seeds", default="13,1,2")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a seqclf setting (for experiments; the table is then not written)")
    parser.add_argument("--budget", type=float, default=600, help="seconds of search for tune and fastText autotune")
    parser.add_argument("--search-seeds", help="seeds of the two searches (seqclf tune, fastText autotune); "
                        "default: --seeds")
    parser.add_argument("--no-tune", action="store_true", help="leave out the seqclf tune row")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    search_seeds = [int(s) for s in (args.search_seeds or args.seeds).split(",")]
    overrides = parse_overrides(args.set)
    presets = [p for p in args.presets.split(",") if p]
    peers = [p for p in args.peers.split(",") if p]

    corpora, results = {}, {}
    for name in args.datasets.split(","):
        corpora[name] = corpus = load_corpus(name)
        print(f"{name}: {len(corpus.train.texts)} train, {len(corpus.dev.texts)} dev, {len(corpus.test.texts)} test",
              flush=True)
        runs: dict[str, Runs] = {}
        for peer in peers:
            runs[peer] = (run_fasttext(corpus, seeds) if peer == "fasttext" else run_nbsvm(corpus) if peer == "nbsvm"
                          else run_fasttext_autotune(corpus, search_seeds, args.budget) if peer == "fasttext-autotune"
                          else run_tfidf(corpus, peer.split("-")[1]))
        for preset in presets:
            runs[preset] = run_seqclf(corpus, preset, seeds, overrides)
        if not args.no_tune:
            runs[TUNE] = run_tune(corpus, search_seeds, args.budget)
        results[name] = runs

    text = report(results, corpora, seeds, "python benchmarks/accuracy.py " + " ".join(sys.argv[1:]))
    print(text)
    if not (args.no_write or overrides):
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
