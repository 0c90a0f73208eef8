"""The model directory: saving and loading it (its files: `seqclf.model_files`). Writes are atomic; loading
never unpickles.

Other files a user keeps in a model directory (a README, notes) are carried over when it is replaced.

Loading checks every file but reads the weights into a PyTorch model only when the model is first
used (`ModelParts.model`): predicting with ONNX Runtime needs only their fingerprint, which fitted.json
records, so such a process never imports PyTorch. Directories of format 1-3 kept the fitted state in
config.json; `seqclf.older_formats` reads them.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from seqclf.config import Config
from seqclf.data.formats import BadRow
from seqclf.errors import ConfigError, ModelDirError, SeqclfWarning
from seqclf.fileio import Writer, locked, replace_directory, resolved, sha256_of
from seqclf.fitted_state import FittedState
from seqclf.model_dir_safety import refuse_unsafe_files
from seqclf.model_files import (CHECKSUMMED, CHECKSUMMED_BEFORE_4, CONFIG, CURVE, FITTED, FORMAT_VERSION,
                                KNOWN_FILES, LABELS, LABEL_MAPS, METRICS, ONNX, READABLE_VERSIONS, REQUIRED,
                                SKIPPED_ROWS, TOKENIZER, WEIGHTS, check_label_maps, is_checkpoint_file,
                                is_seqclf_file, label_maps)
from seqclf.older_formats import split_fitted
from seqclf.text.tokenizer import WordTokenizer
from seqclf.weights_file import WeightsFile
from seqclf.training.history import History

if TYPE_CHECKING:
    from seqclf.nn.classifier import Classifier
    from seqclf.text.vectors import VectorCoverage
    from seqclf.training.calibration import Calibration
    from seqclf.training.distributed import Cluster


@dataclass
class ModelParts:
    """A fitted model, as training gives it and a model directory holds it (`TextClassifier` runs it)."""

    config: Config  # the settings, as given
    fitted: FittedState  # what training learned besides the weights
    tokenizer: WordTokenizer
    classes: list[str]
    weights: Classifier | WeightsFile  # a loaded directory's weights stay in their file until `model` is used
    history: History
    skipped_rows: Sequence[BadRow] = field(default_factory=list)
    format_version: int = FORMAT_VERSION  # of the directory it was loaded from
    # how the training run went, fresh from it (a loaded model has none of it):
    validation: dict | None = None  # the final model's accuracy and loss on the validation data (before calibration)
    calibration: Calibration | None = None  # the temperature fitted on the validation data, if calibrate
    coverage: VectorCoverage | None = None  # of the pretrained vectors, when there were any
    cluster: Cluster | None = None  # where it ran (under torchrun: this process's rank)
    fingerprints: list[str] = field(default_factory=list)  # under torchrun: every rank's weights fingerprint

    @property
    def model(self) -> Classifier:
        if isinstance(self.weights, WeightsFile):
            self.weights = self.weights.load()
        return self.weights

    def weights_fingerprint(self) -> str:
        """Ties an exported graph to these weights (see `Classifier.weights_fingerprint`): fitted.json's, when
        the weights are still in their file (a directory of format 1-3 has none: its weights are read)."""
        if isinstance(self.weights, WeightsFile) and self.fitted.weights_fingerprint is not None:
            return self.fitted.weights_fingerprint
        return self.model.weights_fingerprint()


def save(directory: str | Path, parts: ModelParts) -> Path:
    """Write the model directory next to its final place, then swap it in: never half-written.
    Returns the directory written (a symbolic link given as `directory` is followed)."""
    directory = check_output(directory)
    with locked(directory):
        check_replaceable(directory)  # again, now that no other seqclf process can write it
        replace_directory(directory, _writers(parts), carry=lambda name: not is_seqclf_file(name))
    return directory


def _writers(parts: ModelParts) -> dict[str, Writer]:
    """Each file of the model directory and how to write it; config.json, written after the files it
    holds the checksums of, reads them from beside it."""
    from safetensors.torch import save_file

    weights = {name: t.detach().cpu().contiguous() for name, t in parts.model.state_dict().items()}
    fitted = parts.fitted.with_values(weights_fingerprint=parts.weights_fingerprint())
    writers: dict[str, Writer] = {
        TOKENIZER: parts.tokenizer.save,
        LABELS: lambda path: _write_json(path, parts.classes),
        WEIGHTS: lambda path: save_file(weights, str(path), metadata={"format": "pt"}),
        FITTED: lambda path: _write_json(path, fitted.to_dict()),
        CONFIG: lambda path: _write_json(path, {
            "format_version": FORMAT_VERSION,
            "checksums": {name: checksum(path.parent / name) for name in CHECKSUMMED},
            **label_maps(parts.classes),
            **parts.config.to_dict(),
        }),
        METRICS: lambda path: path.write_text(parts.history.to_jsonl(), encoding="utf-8"),
    }
    if len(parts.history):
        writers[CURVE] = parts.history.save_png
    if parts.skipped_rows:
        writers[SKIPPED_ROWS] = lambda path: path.write_text("".join(
            json.dumps(row.to_dict(), ensure_ascii=False) + "\n" for row in parts.skipped_rows), encoding="utf-8")
    return writers


def is_model_dir(directory: Path) -> bool:
    return all((directory / name).is_file() for name in REQUIRED)


def check_output(directory: str | Path) -> Path:
    """Where a model directory may be written, checked before any work: the real path (symbolic links
    followed), not under a regular file, not inside another model directory, and either new or
    replaceable (`check_replaceable`)."""
    given = Path(directory)
    target = resolved(given)
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise ModelDirError(f"cannot be created: {parent} is a file, not a directory", path=given,
                                hint="choose another --out")
        if is_model_dir(parent):
            raise ModelDirError(f"is inside the model directory {parent}", path=given,
                                hint="choose a --out outside it: a model directory holds one model")
    check_replaceable(target)
    return target


def check_replaceable(directory: Path) -> None:
    """Only a model directory, an empty one, or one holding just a resume checkpoint may be replaced."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise ModelDirError("exists and is not a directory", path=directory, hint="choose another --out")
    if not is_model_dir(directory) and not all(is_checkpoint_file(p.name) for p in directory.iterdir()):
        raise ModelDirError("exists, is not empty and is not a seqclf model directory", path=directory,
                            hint="choose another --out; seqclf only replaces its own model directories")


def checksum(path: Path) -> str:
    return "sha256:" + sha256_of(path)


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load(directory: str | Path) -> ModelParts:
    """Read and cross-check a model directory; any problem is a ModelDirError naming file and field."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelDirError("model directory not found", path=directory, hint="give the --out of `seqclf train`")
    for name in REQUIRED:
        if not (directory / name).is_file():
            raise ModelDirError(f"missing {name}: not a complete seqclf model directory", path=directory)
    refuse_unsafe_files(directory, KNOWN_FILES)
    raw = _read_json(directory / CONFIG, dict)
    version = _checked_version(directory, raw)
    maps = {key: raw.pop(key) for key in LABEL_MAPS if key in raw}
    config, fitted, fitted_file = _settings_and_fitted(directory, raw, version)

    classes = _read_json(directory / LABELS, list)
    if len(classes) < 2 or not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
        raise ModelDirError("must list two or more distinct class names", path=directory / LABELS)
    if fitted.num_classes != len(classes):
        raise ModelDirError(f"{LABELS} has {len(classes)} classes, {fitted_file.name} says {fitted.num_classes}",
                            path=fitted_file, field="num_classes")
    check_label_maps(directory, maps, classes)
    try:
        tokenizer = WordTokenizer.load(directory / TOKENIZER, fitted.max_len)
    except Exception as exc:  # the tokenizers library raises plain Exception on a bad file
        raise ModelDirError(f"cannot read the tokenizer: {exc}", path=directory / TOKENIZER) from None
    if fitted.vocab_size != tokenizer.vocab_size:
        raise ModelDirError(f"{TOKENIZER} has {tokenizer.vocab_size} entries, {fitted_file.name} says "
                            f"{fitted.vocab_size}", path=fitted_file, field="vocab_size")
    metrics = directory / METRICS
    try:
        history = History.from_jsonl(metrics.read_text("utf-8")) if metrics.is_file() else History()
    except (ValueError, TypeError) as exc:
        raise ModelDirError(f"cannot read the training history: {exc}", path=metrics) from None
    weights = WeightsFile(directory / WEIGHTS, tuple(member.model for member in config.member_configs()),
                          config.model.ngram_evidence, fitted, directory / CONFIG)
    return ModelParts(config, fitted, tokenizer, classes, weights, history, format_version=version)


def _settings_and_fitted(directory: Path, raw: dict, version: int) -> tuple[Config, FittedState, Path]:
    """The settings of config.json and the fitted state (fitted.json; before format 4, inside config.json),
    and the file the fitted state came from."""
    fitted_file = directory / (FITTED if version >= 4 else CONFIG)
    if version >= 4:
        fitted_values = _read_json(fitted_file, dict)
    else:
        raw, fitted_values = split_fitted(raw)
    try:
        config = Config.from_dict(raw, source=str(directory / CONFIG))
    except ConfigError as exc:
        raise ModelDirError(exc.problem, path=directory / CONFIG, field=exc.field) from None
    try:
        fitted = FittedState.from_dict(fitted_values)
    except ConfigError as exc:
        raise ModelDirError(exc.problem, path=fitted_file, field=exc.field) from None
    if version < 4 and fitted.task != config.data.task:  # the settings held the task twice
        raise ModelDirError(f"task {fitted.task.name!r} does not match the data settings' "
                            f"{config.data.task.name!r}", path=fitted_file, field="task")
    return config, fitted, fitted_file


def _checked_version(directory: Path, raw: dict) -> int:
    """config.json's format_version, and its files checked against the checksums it lists (both popped from
    `raw`); a version-1 directory has none, which is said."""
    version = raw.pop("format_version", None)
    if type(version) is not int or version not in READABLE_VERSIONS:  # `true` == 1 in Python: not a version
        raise ModelDirError(f"unsupported format_version {version!r} (this seqclf reads "
                            f"{', '.join(map(str, READABLE_VERSIONS))})", path=directory / CONFIG,
                            field="format_version")
    checksums = raw.pop("checksums", None)
    checksummed = CHECKSUMMED if version >= 4 else CHECKSUMMED_BEFORE_4
    if version >= 4 and not (directory / FITTED).is_file():
        raise ModelDirError(f"missing {FITTED}: not a complete seqclf model directory", path=directory)
    if version >= 2 or checksums is not None:
        _verify_checksums(directory, checksums, checksummed)
    else:
        warnings.warn(SeqclfWarning(f"{directory / CONFIG}: format_version 1 has no checksums, so damage to or edits "
                                    f"of {', '.join(checksummed)} (reordered labels, say) cannot be detected; save "
                                    "the model again to add them"), stacklevel=3)
    return version


def _verify_checksums(directory: Path, checksums: object, checksummed: tuple[str, ...]) -> None:
    if not isinstance(checksums, dict) or set(checksums) != set(checksummed):
        raise ModelDirError(f"must list the SHA-256 of {', '.join(checksummed)}", path=directory / CONFIG,
                            field="checksums")
    for name in checksummed:
        if checksum(directory / name) != checksums[name]:
            raise ModelDirError("checksum mismatch: the file was changed or damaged after it was saved",
                                path=directory / name, field="checksums",
                                hint="re-save the model, or copy the directory again from its source")


def _read_json(path: Path, kind: type) -> object:
    try:
        value = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelDirError(f"cannot read JSON: {exc}", path=path) from None
    if not isinstance(value, kind):
        raise ModelDirError(f"expected a JSON {kind.__name__}", path=path)
    return value
