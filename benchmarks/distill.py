"""Distillation: a `fast` student of an `accurate` teacher, against the teacher and against `fast` trained on
the labels; which copies help (chosen on validation data); how much faster the student predicts.

    python benchmarks/distill.py                          # SST-2 and TREC, seeds 13, 1, 2 (~35 min on 2 cores)
    python benchmarks/distill.py --datasets trec --seeds 13 --variants 4,0.1,3

Per data set and seed: the teacher is `--preset accurate` fitted on the training split with the dev
split for validation; each student variant (copies, drop, shuffle) is `seqclf.distill` with `fast`'s
settings and the same seed; `fast` itself is fitted on the labels. The variant reported is the one
with the best mean dev accuracy over the seeds; test files are scored, never chosen on. Predict speed:
in-process batched sentences/s over the test texts, and the whole `seqclf predict DIR --input FILE`
process (start to output written, default flags) over the test texts repeated to --lines lines, the
median of 3 runs of each, teacher and student one after the other. Written to
benchmarks/results/distill.md.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from accuracy import HERE, Corpus, load_corpus, predicted, score, timed
from seqclf import TextClassifier
from seqclf.config import Config, load_preset
from seqclf.data.readers import dataset_from_lists
from seqclf.distill import DistillConfig, distill, student_config

RESULTS = HERE / "results" / "distill.md"


def whole_process_seconds(directory: Path, inputs: Path, runs: int = 3) -> float:
    """Median wall seconds of `seqclf predict DIRECTORY --input INPUTS > /dev/null`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "seqclf", "predict", str(directory), "--input", str(inputs)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_seed(corpus: Corpus, seed: int, variants: list[DistillConfig], folder: Path, inputs: Path) -> dict:
    """Dev and test accuracy of the teacher, fast and each student variant; fit seconds; predict speeds."""
    train = dataset_from_lists(corpus.train.texts, corpus.train.labels, "train")
    dev = dataset_from_lists(corpus.dev.texts, corpus.dev.labels, "dev")
    found: dict[str, dict] = {}

    def scored(name: str, model: TextClassifier, seconds: float) -> None:
        labels, rate = predicted(model.predict, corpus.test.texts)
        dev_accuracy = statistics.fmean(a == b for a, b in zip(model.predict(corpus.dev.texts), corpus.dev.labels))
        found[name] = {"dev": dev_accuracy, "test": score(model.classes_, corpus.test.labels, labels)["accuracy"],
                       "seconds": seconds, "rate": rate, "model": model}
        print(f"  {corpus.name} seed {seed} {name}: dev {dev_accuracy:.4f}, test {found[name]['test']:.4f}, "
              f"{seconds:.0f} s, {rate:,.0f} sentences/s", flush=True)

    teacher = TextClassifier(Config.from_dict(load_preset("accurate")), seed=seed)
    _, seconds = timed(lambda: teacher.fit(corpus.train.texts, corpus.train.labels,
                                           valid=(corpus.dev.texts, corpus.dev.labels), progress=False))
    scored("teacher (accurate)", teacher, seconds)
    fast = TextClassifier(Config.from_dict(load_preset("fast")), seed=seed)
    _, seconds = timed(lambda: fast.fit(corpus.train.texts, corpus.train.labels,
                                        valid=(corpus.dev.texts, corpus.dev.labels), progress=False))
    scored("fast (labels)", fast, seconds)
    config = student_config(teacher.config).updated({"seed": seed})
    for variant in variants:
        distilled, seconds = timed(lambda: distill(teacher, train, dev, config, variant))
        scored(name_of(variant), distilled.student, seconds)
    teacher_dir = teacher.save(folder / f"teacher-{seed}")
    best_student = max((name_of(v) for v in variants), key=lambda name: found[name]["dev"])
    student_dir = folder / f"student-{seed}"
    found[best_student]["model"].save(student_dir)
    found["whole process"] = {"teacher": whole_process_seconds(teacher_dir, inputs),
                              "student": whole_process_seconds(student_dir, inputs), "student_name": best_student}
    return found


def name_of(variant: DistillConfig) -> str:
    return f"student: copies {variant.copies}, drop {variant.drop}, shuffle {variant.shuffle}"


def run(name: str, seeds: list[int], variants: list[DistillConfig], lines: int) -> list[str]:
    corpus = load_corpus(name)
    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "inputs.txt"
        repeated = (corpus.test.texts * (lines // len(corpus.test.texts) + 1))[:lines]
        inputs.write_text("\n".join(" ".join(text.split()) for text in repeated) + "\n", encoding="utf-8")
        results = [one_seed(corpus, seed, variants, Path(folder), inputs) for seed in seeds]
    systems = [key for key in results[0] if key != "whole process"]
    mean = lambda system, figure: statistics.fmean(r[system][figure] for r in results)  # noqa: E731
    spread = lambda system: statistics.stdev([r[system]["test"] for r in results]) if len(results) > 1 else 0.0  # noqa: E731
    lines_out = [f"## {name}: {len(corpus.train.texts)} train, dev {len(corpus.dev.texts)} ({corpus.dev_source}), "
                 f"{len(corpus.test.texts)} test", "",
                 "| system | dev accuracy % | test accuracy % | train s | predict sentences/s (in process) |",
                 "|---|---|---|---|---|"]
    lines_out += [f"| {system} | {mean(system, 'dev') * 100:.2f} | {mean(system, 'test') * 100:.2f} ± "
                  f"{spread(system) * 100:.2f} | {statistics.median(r[system]['seconds'] for r in results):.1f} | "
                  f"{statistics.median(r[system]['rate'] for r in results):,.0f} |" for system in systems]
    chosen = max((s for s in systems if s.startswith("student")), key=lambda s: mean(s, "dev"))
    teacher, fast, student = (mean(s, "test") * 100 for s in ("teacher (accurate)", "fast (labels)", chosen))
    process = [r["whole process"] for r in results]
    ratio = statistics.median(p["teacher"] / p["student"] for p in process)
    lines_out += ["", f"Chosen on dev: {chosen}.",
                  f"Student − teacher: {student - teacher:+.2f} points (target ≥ −0.50: "
                  f"{'met' if student - teacher >= -0.5 else 'missed'}).",
                  f"Student − fast: {student - fast:+.2f} points (target ≥ +0.50: "
                  f"{'met' if student - fast >= 0.5 else 'missed'}).",
                  f"Whole `seqclf predict` process over {lines:,} lines (median of 3, per seed): teacher "
                  + ", ".join(f"{p['teacher']:.1f} s" for p in process) + "; student (each seed's best on dev) "
                  + ", ".join(f"{p['student']:.1f} s" for p in process)
                  + f"; teacher / student {ratio:.2f}x (target ≥ 3x: {'met' if ratio >= 3 else 'missed'}).", ""]
    print("\n".join(lines_out), flush=True)
    return lines_out


def variant(text: str) -> DistillConfig:
    copies, drop, shuffle = text.split(",")
    return DistillConfig(int(copies), float(drop), int(shuffle))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="sst2,trec")
    parser.add_argument("--seeds", default="13,1,2")
    parser.add_argument("--variants", default="0,0,0;4,0.1,0;4,0,3;4,0.1,3",
                        help="student variants, ';'-separated copies,drop,shuffle")
    parser.add_argument("--lines", type=int, default=100_000, help="lines of the whole-process predict input")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    variants = [variant(text) for text in args.variants.split(";")]
    lines = ["# Distillation: a `fast` student of an `accurate` teacher", "",
             f"`python benchmarks/distill.py --datasets {args.datasets} --seeds {args.seeds} --variants "
             f"'{args.variants}' --lines {args.lines}`. Means over the seeds (± the standard deviation of test "
             "accuracy); train seconds are medians (a student's include the teacher's answers for its copies, not "
             "the teacher's training). Every choice is made on dev.", ""]
    for name in args.datasets.split(","):
        lines += run(name, seeds, variants, args.lines)
    if not args.no_write:
        Path(RESULTS).write_text("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
