"""Where the seconds of one whole `seqclf train` or `seqclf predict` process go, for the seqclf found on
PYTHONPATH, on the settings of benchmarks/speed.py's whole-process rows.

    python benchmarks/profile_process.py                       # this checkout
    PYTHONPATH=/path/to/other/src python benchmarks/profile_process.py --label before

The command runs as a user runs it, in its own process; inside it, a few functions are wrapped with a
clock (nothing else changes) and each phase gets the time of its functions less the time of any timed
function they call. "start-up and imports" is the process's time until `seqclf.cli` is imported;
"the rest" is what no timed function covers (argument parsing, printing, checks). Prints one markdown
table per command.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()
HERE = Path(__file__).resolve().parent
# phase: (module, attribute path) of the functions it times; those a version lacks are left out
PHASES = {
    "reading files": [("seqclf.data.readers", "read_dataset"), ("seqclf.data.readers", "read_inputs")],
    "vocabulary and ids": [("seqclf.text.tokenizer", "WordTokenizer.train"),
                           ("seqclf.text.tokenizer", "WordTokenizer.encode"),
                           ("seqclf.text.tokenizer", "WordTokenizer.encode")],
    "model and optimizer set-up": [("seqclf.training.optim", "build_optimizer")],
    "training epochs": [("seqclf.training.trainer", "Trainer._epoch")],
    "validation": [],  # the function Trainer.fit is given (see `install`)
    "training curve PNG": [("seqclf.training.history", "History.save_png")],
    "saving the model directory": [("seqclf.artifacts", "save")],
    "loading the model directory": [("seqclf.artifacts", "load")],
    "model (stages 3-5)": [("seqclf.inference", "predict_logits"), ("seqclf.inference", "TorchEngine.probabilities"),
                           ("seqclf.deploy.onnx_runtime", "OnnxRuntimeModel.probabilities"),
                           ("seqclf.deploy.onnx_runtime", "OnnxRuntimeModel.__call__")],
    "writing predictions": [("seqclf.console", "print_predictions")],
}

NESTED_IN_CALLER = {"model (stages 3-5)"}  # inside another timed call, part of that call's phase


class Clock:
    """Self time per phase: a timed call's time less that of the timed calls inside it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {phase: 0.0 for phase in PHASES}
        self.inner: list[float] = []

    def wrap(self, phase: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            if phase in NESTED_IN_CALLER and self.inner:  # e.g. the model called by validation: the caller's time
                return function(*args, **kwargs)
            self.inner.append(0.0)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self.seconds[phase] += elapsed - self.inner.pop()
                if self.inner:
                    self.inner[-1] += elapsed
        return timed


def install(clock: Clock) -> None:
    """Wrap every function of PHASES, wherever a seqclf module holds it (imports by name included)."""
    for phase, targets in PHASES.items():
        for module_name, path in targets:
            try:
                owner = importlib.import_module(module_name)
            except ImportError:
                continue
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent, None)
            original = getattr(owner, name, None) if owner is not None else None
            if original is None:
                continue
            timed = clock.wrap(phase, original)
            setattr(owner, name, timed)
            if not parents:  # a module-level function: also where other modules imported it by name
                for module in list(sys.modules.values()):
                    if getattr(module, "__name__", "").startswith("seqclf") and getattr(module, name, None) is original:
                        setattr(module, name, timed)
    from seqclf.training.trainer import Trainer

    fit = Trainer.fit

    @functools.wraps(fit)
    def fit_with_timed_validation(self, epochs, train_batches, steps_per_epoch, validate=None, *args, **kwargs):
        validate = None if validate is None else clock.wrap("validation", validate)
        return fit(self, epochs, train_batches, steps_per_epoch, validate, *args, **kwargs)

    Trainer.fit = fit_with_timed_validation


def inside(report: str, argv: list[str]) -> None:
    """Run `seqclf ARGV` in this process with the clocks on; write the phases to `report`."""
    import seqclf.cli

    imported = time.perf_counter()
    clock = Clock()
    install(clock)
    code = seqclf.cli.main(argv)
    ended = time.perf_counter()
    Path(report).write_text(json.dumps({"imports": imported - STARTED, "phases": clock.seconds,
                                        "after_imports": ended - imported, "code": code}))


def profile(label: str, command: str, argv: list[str], folder: Path) -> None:
    report = folder / "phases.json"
    with open(folder / f"{command}.out", "w", encoding="utf-8") as output:  # as `seqclf ... > file`
        started = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--inside", str(report), "--", *argv], stdout=output,
                              stderr=subprocess.PIPE, text=True)
        total = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"seqclf {' '.join(argv)} failed:\n{done.stderr}")
    result = json.loads(report.read_text())
    imports = total - result["after_imports"]  # interpreter start-up included
    rows = [("start-up and imports", imports)] + [(p, s) for p, s in result["phases"].items() if s > 0.0005]
    rest = total - sum(seconds for _, seconds in rows)
    print(f"\n`seqclf {command}` ({label}): {total:.2f} s from process start to exit\n")
    print("| phase | seconds | share |")
    print("|---|---|---|")
    for phase, seconds in [*rows, ("the rest", rest)]:
        print(f"| {phase} | {seconds:.2f} | {seconds / total:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="after")
    parser.add_argument("--commands", default="train,predict")
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    parser.add_argument("argv", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args.inside, args.argv)
        return
    sys.path.insert(0, str(HERE))
    import speed

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        train = speed.write_tsv(folder / "big.tsv", *speed.repeated_train(103_800))
        dev = speed.write_tsv(folder / "dev.tsv", *speed.sst2("dev"))
        texts, _ = speed.repeated_train(100_000)
        (folder / "texts.txt").write_text("".join(text + "\n" for text in texts[:100_000]), encoding="utf-8")
        model = folder / "model"
        commands = {"train": ["train", str(train), "--valid", str(dev), "--out", str(model), *speed.SEQCLF_TRAIN_FLAGS],
                    "predict": ["predict", str(model), "--input", str(folder / "texts.txt")]}
        for command in args.commands.split(","):
            profile(args.label, command, commands[command], folder)


if __name__ == "__main__":
    main()
