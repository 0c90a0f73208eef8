"""The arguments of the sub-commands that train: demo, train, tune, audit and distill. Their settings' flags are
grouped by pipeline stage (`flag_builders.add_setting_groups`); the command's own flags join the group
of their stage."""
from __future__ import annotations

import argparse

from seqclf.config import SECTIONS, preset_names
from seqclf.flag_builders import add_old_spelling, add_setting_groups, duration


def demo_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="the classic pipeline on built-in data, end to end", usage="%(prog)s [--out DIR]")
    demo.add_argument("--out", default="runs/demo", metavar="DIR", help="where to save the demo model (default: runs/demo)")


def train_command(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", help="train a model on a data file",
                                usage="%(prog)s DATA --out DIR [--valid FILE] [--preset NAME] [flags]")
    files = _files(train, "training data (.csv, .tsv, .jsonl, or fastText .txt)", "model directory to write")
    files.add_argument("--valid", metavar="FILE",
                       help="validation data; default: hold out --valid-fraction of the training data")
    files.add_argument("--test", metavar="FILE", help="test data to evaluate the saved model on")
    _add_settings_files(files, preset_names(), None, "named settings to start from")
    files.add_argument("--resume", action="store_true",
                       help="continue the interrupted run whose checkpoint is in --out, where it stopped")
    groups = add_setting_groups(train, SECTIONS)
    _add_cache_flags(groups["tokenizer"])
    groups["train"].add_argument("--nproc", type=int, metavar="N", help="train with N processes on this machine "
                                 "(launches torchrun; see docs/distributed.md)")


def tune_command(commands: argparse._SubParsersAction) -> None:
    tune = commands.add_parser("tune", help="search the settings on validation data (Optuna), then train the "
                                            "final model (needs seqclf[tune])",
                               usage="%(prog)s DATA --out DIR --valid FILE [--budget TIME] [--trials N] [flags]")
    files = _files(tune, "training data", "directory for the study (study.db), best.yaml and the model")
    files.add_argument("--valid", required=True, metavar="FILE", help="validation data: every choice is made on it")
    search = tune.add_argument_group("the search")
    search.add_argument("--budget", type=duration, metavar="TIME", help="time limit of this run's search, e.g. 600, "
                        "600s, 10m, 1h (default: 10m, or no time limit with --trials); the final training follows")
    search.add_argument("--trials", type=int, metavar="N", help="search until the study holds N finished trials "
                        "(complete or pruned), those of earlier runs included: run again, it goes on up to N; with "
                        "--budget, whichever comes first (default: no limit)")
    search.add_argument("--metric", choices=["accuracy", "loss"], default="accuracy",
                        help="validation figure to optimize (default: accuracy)")
    search.add_argument("--search-seed", type=int, default=0, metavar="SEED",
                        help="seed of the search's sampler (default: 0; the models' own is --seed of train)")
    add_old_spelling(search, "--seed", "--search-seed", "search_seed", type=int)
    search.add_argument("--ensemble", dest="final_ensemble", type=int, default=3, metavar="N",
                        help="sequence models in the final model, with the best settings (default: 3)")
    groups = add_setting_groups(tune, ("data", "tokenizer"))
    _add_cache_flags(groups["tokenizer"])


def audit_command(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="rank training examples by how likely their label is wrong, from "
                                              "k-fold out-of-fold probabilities (needs seqclf[audit])",
                                usage="%(prog)s DATA --out DIR [--folds K] [--preset NAME] [flags]")
    files = _files(audit, "labeled data file", "directory for label_issues.csv, label_issues.jsonl and audit.json")
    _add_settings_files(files, [*preset_names(), "none"], "fast", "named settings to start from (default: fast, "
                        "the quickest and here the better ranking than the default settings; none: train's defaults)")
    files.add_argument("--folds", type=int, default=5, metavar="K",
                       help="k: models trained, each without one fold (default: 5)")
    files.add_argument("--show", type=int, default=10, metavar="N", help="examples shown here (default: 10)")
    add_setting_groups(audit, SECTIONS)


def distill_command(commands: argparse._SubParsersAction) -> None:
    distill = commands.add_parser("distill", help="train one small model on an ensemble's answers (its probabilities "
                                                  "over the training texts and perturbed copies of them)",
                                  usage="%(prog)s TEACHER DATA --out DIR [--valid FILE] [--preset NAME] [flags]")
    distill.add_argument("teacher", metavar="TEACHER", help="the model directory to learn from (an ensemble, say)")
    files = _files(distill, "training data, read with the teacher's data settings", "model directory to write "
                   "(the student)")
    files.add_argument("--valid", metavar="FILE", help="validation data (kept labeled, never copied); default: hold "
                       "out --valid-fraction of the training data before copying")
    _add_settings_files(files, [*preset_names(), "none"], "fast", "the student's model and training settings "
                        "(default: fast; none: train's defaults); the tokenizer is the teacher's")
    copies = distill.add_argument_group("the copies the teacher answers")
    copies.add_argument("--copies", type=int, default=4, metavar="N",
                        help="perturbed copies of each training text, besides the text (default: 4)")
    copies.add_argument("--drop", type=float, default=0.1, metavar="P",
                        help="each word of a copy is left out with this probability (default: 0.1)")
    copies.add_argument("--shuffle", type=int, default=3, metavar="K",
                        help="each word of a copy moves at most K places (default: 3; 0 keeps the order)")
    add_setting_groups(distill, ("model", "train"))


def _files(parser: argparse.ArgumentParser, data: str, out: str) -> argparse._ArgumentGroup:
    """The group of what the command reads and writes: DATA and --out DIR, to which the command adds its own."""
    files = parser.add_argument_group("what to read and write")
    files.add_argument("data", metavar="DATA", help=data)
    files.add_argument("--out", required=True, metavar="DIR", help=out)
    return files


def _add_settings_files(group: argparse._ArgumentGroup, presets: list[str], default: str | None, help: str) -> None:
    group.add_argument("--config", metavar="FILE", help="YAML or JSON file of settings (flags win over it)")
    group.add_argument("--preset", choices=presets, default=default, metavar="NAME",
                       help=f"{help}; one of: {', '.join(presets)}")


def _add_cache_flags(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--cache-dir", metavar="DIR", help="where encoded data files are cached "
                                                          "(default: $SEQCLF_CACHE_DIR or ~/.cache/seqclf)")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the encoded-data cache")
