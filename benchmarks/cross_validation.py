"""Cross-validation folds of the shared training files: candidate settings compared where no test file is read.

    python benchmarks/cross_validation.py --candidate accurate --candidate 'accurate:ensemble=lstm,gru,fast'

Each training split (TREC's without its carved dev part) is cut into --folds folds (seeded); each fold is
held out in turn and scored by a model trained on the others, with early stopping and the combination
chosen on the usual dev split. A candidate is a preset with optional settings after a colon
(`preset:field=value;field=value`). Written to benchmarks/results/cross_validation.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

from accuracy import HERE, Corpus, Split, load_corpus, parse_overrides, timed
from seqclf import TextClassifier
from seqclf.config import Config, load_preset

RESULTS = HERE / "results" / "cross_validation.md"


def candidate_config(text: str) -> Config:
    preset, _, settings = text.partition(":")
    return Config.from_dict(load_preset(preset)).updated(parse_overrides([p for p in settings.split(";") if p]))


def subset(split: Split, rows: np.ndarray) -> Split:
    return Split([split.texts[i] for i in rows], [split.labels[i] for i in rows])


def fold_accuracies(corpus: Corpus, config: Config, folds: int, seed: int) -> list[float]:
    order = np.random.default_rng(seed).permutation(len(corpus.train.texts))
    scores = []
    for held in np.array_split(order, folds):
        train, fold = subset(corpus.train, np.setdiff1d(order, held)), subset(corpus.train, held)
        model = TextClassifier(config, seed=seed)
        _, seconds = timed(lambda: model.fit(train.texts, train.labels, valid=(corpus.dev.texts, corpus.dev.labels),
                                             progress=False))
        scores.append(statistics.fmean(a == b for a, b in zip(model.predict(fold.texts), fold.labels)))
        print(f"  {corpus.name} fold {len(scores)}: {scores[-1]:.4f} ({seconds:.0f} s)", flush=True)
    return scores


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="sst2,trec")
    parser.add_argument("--candidate", action="append", required=True)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    lines = ["# Cross-validation folds of the training files", "",
             f"`python benchmarks/cross_validation.py --datasets {args.datasets} --folds {args.folds} --seed {args.seed} "
             + " ".join(f"--candidate '{c}'" for c in args.candidate) + "`. Accuracy % on each held-out fold of the "
             "training split; early stopping and the combination on the dev split; no test file is read.", "",
             "| data set | candidate | folds | mean |", "|---|---|---|---|"]
    for name in args.datasets.split(","):
        corpus = load_corpus(name)
        for candidate in args.candidate:
            print(f"{name}: {candidate}", flush=True)
            scores = fold_accuracies(corpus, candidate_config(candidate), args.folds, args.seed)
            lines.append(f"| {name} | {candidate} | {' '.join(f'{s * 100:.2f}' for s in scores)} | "
                         f"{statistics.fmean(scores) * 100:.2f} |")
            print(lines[-1], flush=True)
    if not args.no_write:
        Path(RESULTS).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
