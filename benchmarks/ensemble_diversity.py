"""Does diversity beat more seeds? Ensembles of three sequence models (plus the n-gram evidence) drawn
from LSTMs of different seeds (`accurate`'s three) and single CNN, GRU and `fast` (bag) models,
scored on validation data only.

    python benchmarks/ensemble_diversity.py                      # SST-2 and TREC, seeds 13, 1, 2 (~20 min)
    python benchmarks/ensemble_diversity.py --datasets trec --seeds 13

Per data set and seed: one `accurate` fit gives its three LSTMs' and its evidence's validation
log-probabilities; the other recipes are fitted alone with `accurate`'s settings for their encoder
(what `--ensemble accurate,cnn` trains as its second model), with seed + 2000. Every 3-model subset is
combined as seqclf combines (rule and evidence share from `choose_combination`), chosen on one half
of the validation data and scored on the other, both ways round: the mean of the two held-out
accuracies. No test file is read. Written to benchmarks/results/ensemble_diversity.md.
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

from accuracy import HERE, Corpus, load_corpus, timed
from seqclf import TextClassifier
from seqclf.config import Config, load_preset
from seqclf.nn.combination import combine
from seqclf.text.tensors import pad_batch
from seqclf.training.combine import choose_combination, shares

RESULTS = HERE / "results" / "ensemble_diversity.md"
OTHER_RECIPES = ("cnn", "gru", "fast")
OTHER_SEED_STEP = 2000


def validation_log_probs(corpus: Corpus, seed: int) -> tuple[dict[str, torch.Tensor], torch.Tensor, dict[str, float]]:
    """{model name: (N, C) validation log-probabilities}, with "evidence"; the (N,) targets; seconds per fit."""
    accurate = Config.from_dict(load_preset("accurate"))
    clf = TextClassifier(accurate, seed=seed)
    _, seconds = timed(lambda: clf.fit(corpus.train.texts, corpus.train.labels,
                                       valid=(corpus.dev.texts, corpus.dev.labels), progress=False))
    index = {name: i for i, name in enumerate(clf.classes_)}
    targets = torch.tensor([index[label] for label in corpus.dev.labels])
    encoded = clf.tokenizer.encode(corpus.dev.texts)
    with torch.inference_mode():
        stacked = torch.cat([clf.model.forward_stages(*pad_batch(encoded, np.arange(start, min(start + 512, len(encoded)))))
                             ["model_log_probs"] for start in range(0, len(encoded), 512)], dim=1)  # (4, N, C)
    found = {f"lstm{i + 1}": stacked[i] for i in range(3)} | {"evidence": stacked[3]}
    times = {"accurate": seconds}
    for recipe in OTHER_RECIPES:
        single = accurate.updated({"ensemble": recipe}).member_configs()[0].updated({"calibrate": False})
        model = TextClassifier(single, seed=seed + OTHER_SEED_STEP)
        _, times[recipe] = timed(lambda: model.fit(corpus.train.texts, corpus.train.labels,
                                                   valid=(corpus.dev.texts, corpus.dev.labels), progress=False))
        order = [model.classes_.index(name) for name in clf.classes_]
        found[recipe] = torch.from_numpy(model.predict_proba(corpus.dev.texts)[:, order]).clamp_min(1e-12).log()
    return found, targets, times


def held_out_accuracy(log_probs: torch.Tensor, targets: torch.Tensor, seed: int) -> float:
    """(M, N, C) with the evidence last: the combination chosen on one half, scored on the other, both ways."""
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(targets)))
    halves = order[: len(order) // 2], order[len(order) // 2 :]
    members = log_probs.size(0) - 1
    scores = []
    for choose_on, score_on in (halves, halves[::-1]):
        rule, weight = choose_combination(log_probs[:, choose_on], targets[choose_on], members, True)
        combined = combine(log_probs[:, score_on], shares(members, weight, True), rule)
        scores.append((combined.argmax(1) == targets[score_on]).float().mean().item())
    return statistics.fmean(scores)


def candidates(names: list[str]) -> list[tuple[str, ...]]:
    return list(itertools.combinations([name for name in names if name != "evidence"], 3))


def kind(candidate: tuple[str, ...]) -> str:
    lstms = sum(name.startswith("lstm") for name in candidate)
    return "seeds of one recipe" if lstms == 3 else f"{lstms} LSTM + {3 - lstms} other"


def by_composition(scores: dict[tuple[str, ...], float]) -> list[str]:
    """Mean held-out accuracy of each mix of recipes (the LSTMs are exchangeable: `lstm1 + lstm2 + gru` and
    `lstm2 + lstm3 + gru` are one mix), against three LSTMs."""
    mixes: dict[str, list[float]] = {}
    for candidate, score in scores.items():
        mixes.setdefault(" + ".join(sorted(name.rstrip("0123456789") for name in candidate)), []).append(score)
    same = statistics.fmean(mixes["lstm + lstm + lstm"])
    rows = sorted(mixes.items(), key=lambda item: -statistics.fmean(item[1]))
    return ["| mix (+ n-gram evidence) | candidates | mean held-out validation accuracy % | − three LSTMs |",
            "|---|---|---|---|"] + [f"| {mix} | {len(values)} | {statistics.fmean(values) * 100:.2f} | "
                                    f"{(statistics.fmean(values) - same) * 100:+.2f} |" for mix, values in rows]


def run(name: str, seeds: list[int]) -> list[str]:
    corpus = load_corpus(name)
    scores: dict[tuple[str, ...], list[float]] = {}
    times: dict[str, list[float]] = {}
    for seed in seeds:
        found, targets, seconds = validation_log_probs(corpus, seed)
        for recipe, value in seconds.items():
            times.setdefault(recipe, []).append(value)
        for candidate in candidates(list(found)):
            stacked = torch.stack([found[model] for model in (*candidate, "evidence")])
            scores.setdefault(candidate, []).append(held_out_accuracy(stacked, targets, seed))
        singles = {model: (found[model].argmax(1) == targets).float().mean().item() for model in found}
        print(f"{name} seed {seed}: " + ", ".join(f"{m} {a:.4f}" for m, a in singles.items()), flush=True)
    rows = sorted(scores.items(), key=lambda item: -statistics.fmean(item[1]))
    lines = [f"## {name}: {len(corpus.train.texts)} train, validation {len(corpus.dev.texts)} ({corpus.dev_source})", "",
             "| models (+ n-gram evidence) | kind | held-out validation accuracy % | ± |", "|---|---|---|---|"]
    lines += [f"| {' + '.join(candidate)} | {kind(candidate)} | {statistics.fmean(values) * 100:.2f} | "
              f"{statistics.stdev(values) * 100 if len(values) > 1 else 0:.2f} |" for candidate, values in rows]
    lines += ["", *by_composition({candidate: statistics.fmean(values) for candidate, values in scores.items()})]
    same = statistics.fmean(scores[("lstm1", "lstm2", "lstm3")])
    best = rows[0]
    lines += ["", f"Seeds of one recipe (accurate's three LSTMs): {same * 100:.2f}; the best mix, "
              f"{' + '.join(best[0])}: {statistics.fmean(best[1]) * 100:.2f} ({(statistics.fmean(best[1]) - same) * 100:+.2f}).",
              "Median fit seconds: " + ", ".join(f"{recipe} {statistics.median(values):.1f}"
                                                 for recipe, values in times.items()), ""]
    print("\n".join(lines), flush=True)
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="sst2,trec")
    parser.add_argument("--seeds", default="13,1,2")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    lines = ["# Ensembles: diversity against more seeds of one recipe", "",
             f"`python benchmarks/ensemble_diversity.py --datasets {args.datasets} --seeds {args.seeds}`. "
             "Validation data only: each combination's rule and evidence share chosen on one half of the validation "
             "set and scored on the other, both ways round; mean ± standard deviation over the seeds. The LSTMs "
             "are `accurate`'s three (seed, +1000, +2000); cnn and gru are single models with `accurate`'s settings "
             "for that encoder, fast one with `fast`'s settings (each seed + 2000).", ""]
    for name in args.datasets.split(","):
        lines += run(name, seeds)
    if not args.no_write:
        Path(RESULTS).write_text("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
