"""The model directory: every file name, and saving and loading it. Writes are atomic; loading never
unpickles.

    config.json        every setting (resolved), format_version, vocabulary and class counts, the task
                       (single-label or multi-label; a multi-label model's thresholds are model.thresholds),
                       and the SHA-256 of tokenizer.json, labels.json and model.safetensors (checked on load)
    tokenizer.json     Hugging Face tokenizers format, with truncation/padding to max_len
    labels.json        class names, in the order of the model's outputs
    model.safetensors  weights only
    metrics.jsonl      one JSON object per training epoch (optional for loading)
    training_curve.png loss and accuracy curves (optional)
    model.onnx         the ONNX graph, if `seqclf export` wrote it here (optional; the int8 one:
                       model.int8.onnx); tied to the weights by a fingerprint in its metadata
    skipped_rows.jsonl the data rows training left out with --skip-bad-rows (file, line, problem, raw)
    checkpoint.safetensors  while training runs: the resume checkpoint (training/checkpoint.py), and
                       checkpoint.member<i>.safetensors for an ensemble's finished sequence models

Other files a user keeps in a model directory (a README, notes) are carried over when it is replaced.

Loading checks every file but reads the weights into a PyTorch model only when the model is first
used (`ModelParts.model`): predicting with ONNX Runtime needs only their fingerprint, which is read
from the file itself, so such a process never imports PyTorch.
"""
from __future__ import annotations

import json
import re
import warnings
import stat
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from seqclf.config import Config
from seqclf.data.formats import BadRow
from seqclf.errors import ConfigError, ModelDirError, SeqclfWarning
from seqclf.fileio import Writer, digest_arrays, locked, replace_directory, resolved, sha256_of
from seqclf.nn.settings import ModelConfig
from seqclf.outputs import TASKS, task_name
from seqclf.text.tokenizer import WordTokenizer
from seqclf.training.history import History

if TYPE_CHECKING:
    import torch

    from seqclf.nn.classifier import Classifier

FORMAT_VERSION = 3  # 2: config.json holds checksums of the other files; 3: ensembles and n-gram evidence
READABLE_VERSIONS = (1, 2, 3)
CONFIG, TOKENIZER, LABELS, WEIGHTS, METRICS, CURVE = (
    "config.json", "tokenizer.json", "labels.json", "model.safetensors", "metrics.jsonl", "training_curve.png")
REQUIRED = (CONFIG, TOKENIZER, LABELS, WEIGHTS)
CHECKSUMMED = (TOKENIZER, LABELS, WEIGHTS)
ONNX, ONNX_INT8 = "model.onnx", "model.int8.onnx"
SKIPPED_ROWS = "skipped_rows.jsonl"
CHECKPOINT = "checkpoint.safetensors"
KNOWN_FILES = (*REQUIRED, METRICS, CURVE, ONNX, ONNX_INT8, SKIPPED_ROWS)
# Files that can run code when loaded by other tools (pickle) or by a shell; never part of a model.
UNSAFE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".npy", ".npz",
                   ".py", ".pyc", ".sh", ".so", ".exe", ".dll")
PICKLE_MAGIC = tuple(bytes([0x80, protocol]) for protocol in range(2, 6))
EXECUTABLE_MAGIC = (b"\x7fELF", b"#!", b"MZ")


def member_checkpoint(member: int) -> str:
    """While an ensemble trains: a finished sequence model, kept for --resume."""
    return f"checkpoint.member{member}.safetensors"


def is_checkpoint_file(name: str) -> bool:
    """The resume checkpoint, a finished member's, or a temporary file of their atomic writes."""
    return bool(re.fullmatch(r"\.?checkpoint(\.member\d+)?\.safetensors(\.\w+\.tmp)?", name))


def is_seqclf_file(name: str) -> bool:
    """A file seqclf writes into a model directory; a save replaces these and keeps anything else."""
    return name in KNOWN_FILES or is_checkpoint_file(name)


def onnx_path(directory: Path, quantize: str | None) -> Path:
    """Where `seqclf export` writes the graph by default, and where `--backend onnx` looks for it."""
    return directory / (ONNX_INT8 if quantize else ONNX)


# safetensors' dtype codes, as PyTorch names them in a weights fingerprint
TORCH_DTYPE_NAMES = {"F64": "torch.float64", "F32": "torch.float32", "F16": "torch.float16", "BF16": "torch.bfloat16",
                     "I64": "torch.int64", "I32": "torch.int32", "I16": "torch.int16", "I8": "torch.int8",
                     "U8": "torch.uint8", "BOOL": "torch.bool"}


@dataclass(frozen=True)
class WeightsFile:
    """A checked directory's model.safetensors, read into a model only when one is needed."""

    path: Path
    config: ModelConfig
    vocab_size: int
    num_classes: int
    multi_label: bool = False

    def load(self) -> Classifier:
        """The model with these weights (PyTorch is imported here); a mismatch with the config is an error."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from seqclf.nn.ensemble import build_classifier

        try:
            model = build_classifier(self.config, self.vocab_size, self.num_classes, self.multi_label)
        except ConfigError as exc:
            raise ModelDirError(exc.problem, path=self.path.parent / CONFIG, field=exc.field) from None
        try:
            weights = load_file(str(self.path))
        except (SafetensorError, OSError) as exc:
            raise ModelDirError(f"cannot read the weights: {exc}", path=self.path) from None
        _check_weights(weights, model, self.path)
        model.load_state_dict(weights)
        return model.eval()

    def fingerprint(self) -> str:
        """`Classifier.weights_fingerprint()` of these weights, read from the file without PyTorch."""
        data = self.path.read_bytes()
        try:
            (size,) = struct.unpack("<Q", data[:8])
            header = json.loads(data[8 : 8 + size])
            arrays = [(name, TORCH_DTYPE_NAMES[entry["dtype"]], tuple(entry["shape"]),
                       data[8 + size + entry["data_offsets"][0] : 8 + size + entry["data_offsets"][1]])
                      for name, entry in header.items() if name != "__metadata__"]
        except (struct.error, ValueError, KeyError, TypeError, IndexError) as exc:
            raise ModelDirError(f"cannot read the weights: not a safetensors file ({exc!r})", path=self.path) from None
        return digest_arrays(arrays)


@dataclass
class ModelParts:
    config: Config  # resolved: max_len is an integer
    tokenizer: WordTokenizer
    classes: list[str]
    weights: Classifier | WeightsFile  # a loaded directory's weights stay in their file until `model` is used
    history: History
    skipped_rows: Sequence[BadRow] = field(default_factory=list)
    format_version: int = FORMAT_VERSION  # of the directory it was loaded from

    @property
    def model(self) -> Classifier:
        if isinstance(self.weights, WeightsFile):
            self.weights = self.weights.load()
        return self.weights

    def weights_fingerprint(self) -> str:
        """Ties an exported graph to these weights (see `Classifier.weights_fingerprint`)."""
        weights = self.weights
        return weights.fingerprint() if isinstance(weights, WeightsFile) else weights.weights_fingerprint()


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
    writers: dict[str, Writer] = {
        TOKENIZER: parts.tokenizer.save,
        LABELS: lambda path: _write_json(path, parts.classes),
        WEIGHTS: lambda path: save_file(weights, str(path), metadata={"format": "pt"}),
        CONFIG: lambda path: _write_json(path, {
            "format_version": FORMAT_VERSION,
            "vocab_size": parts.tokenizer.vocab_size,
            "num_classes": len(parts.classes),
            "task": task_name(parts.config.data.multi_label),
            "checksums": {name: checksum(path.parent / name) for name in CHECKSUMMED},
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
    refuse_unsafe_files(directory)
    raw = _read_json(directory / CONFIG, dict)
    version = _checked_version(directory, raw)
    vocab_size, num_classes = raw.pop("vocab_size", None), raw.pop("num_classes", None)
    task = raw.pop("task", TASKS[0])
    try:
        config = Config.from_dict(raw, source=str(directory / CONFIG))
    except ConfigError as exc:
        raise ModelDirError(exc.problem, path=directory / CONFIG, field=exc.field) from None
    if task != task_name(config.data.multi_label):
        raise ModelDirError(f"task {task!r} does not match multi_label {config.data.multi_label}",
                            path=directory / CONFIG, field="task", hint=f"task is one of: {', '.join(TASKS)}")
    thresholds = config.model.thresholds
    if config.data.multi_label and (thresholds is None or len(thresholds) != num_classes):
        raise ModelDirError(f"a multi-label model needs one threshold per label ({num_classes}), got {thresholds}",
                            path=directory / CONFIG, field="thresholds")
    if not isinstance(config.tokenizer.max_len, int):
        raise ModelDirError("max_len must be a resolved integer", path=directory / CONFIG, field="max_len")

    classes = _read_json(directory / LABELS, list)
    if len(classes) < 2 or not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
        raise ModelDirError("must list two or more distinct class names", path=directory / LABELS)
    if num_classes != len(classes):
        raise ModelDirError(f"{LABELS} has {len(classes)} classes, config says {num_classes}",
                            path=directory / CONFIG, field="num_classes")

    try:
        tokenizer = WordTokenizer.load(directory / TOKENIZER, config.tokenizer.max_len)
    except Exception as exc:  # the tokenizers library raises plain Exception on a bad file
        raise ModelDirError(f"cannot read the tokenizer: {exc}", path=directory / TOKENIZER) from None
    if vocab_size != tokenizer.vocab_size:
        raise ModelDirError(f"{TOKENIZER} has {tokenizer.vocab_size} entries, config says {vocab_size}",
                            path=directory / CONFIG, field="vocab_size")

    weights = WeightsFile(directory / WEIGHTS, config.model, tokenizer.vocab_size, len(classes), config.data.multi_label)

    metrics = directory / METRICS
    try:
        history = History.from_jsonl(metrics.read_text("utf-8")) if metrics.is_file() else History()
    except (ValueError, TypeError) as exc:
        raise ModelDirError(f"cannot read the training history: {exc}", path=metrics) from None
    return ModelParts(config, tokenizer, classes, weights, history, format_version=version)


def _checked_version(directory: Path, raw: dict) -> int:
    """config.json's format_version, and its files checked against the checksums it lists (both popped from
    `raw`); a version-1 directory has none, which is said."""
    version = raw.pop("format_version", None)
    if type(version) is not int or version not in READABLE_VERSIONS:  # `true` == 1 in Python: not a version
        raise ModelDirError(f"unsupported format_version {version!r} (this seqclf reads "
                            f"{', '.join(map(str, READABLE_VERSIONS))})", path=directory / CONFIG,
                            field="format_version")
    checksums = raw.pop("checksums", None)
    if version >= 2 or checksums is not None:
        _verify_checksums(directory, checksums)
    else:
        warnings.warn(SeqclfWarning(f"{directory / CONFIG}: format_version 1 has no checksums, so damage to or edits "
                                    f"of {', '.join(CHECKSUMMED)} (reordered labels, say) cannot be detected; save "
                                    "the model again to add them"), stacklevel=3)
    return version


def refuse_unsafe_files(directory: Path) -> None:
    """A model directory holds data only: no pickles, nothing executable, whatever its name.

    `.safetensors` files are exempt from the magic-byte checks: their first bytes are a length, and
    only the safetensors parser (which cannot run code) ever reads them.
    """
    for path in sorted(directory.rglob("*")):
        if path.is_symlink():
            raise ModelDirError("contains a symbolic link; refusing to follow it", path=path,
                                hint="copy the real file into the model directory")
        if not path.is_file():
            continue
        with open(path, "rb") as handle:
            head = handle.read(4)
        data_only = path.suffix == ".safetensors"
        if path.suffix.lower() in UNSAFE_SUFFIXES or (not data_only and head.startswith(PICKLE_MAGIC)):
            raise ModelDirError("a pickle or code file in a model directory; refusing to load it", path=path,
                                hint="seqclf never writes such files: remove it if you trust its origin, "
                                     "or do not use this directory")
        known = path.parent == directory and path.name in KNOWN_FILES
        executable = path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH) and not known
        if executable or (not data_only and head.startswith(EXECUTABLE_MAGIC)):
            raise ModelDirError("an executable file in a model directory; refusing to load it", path=path,
                                hint="seqclf never writes executables: remove it or do not use this directory")


def _verify_checksums(directory: Path, checksums: object) -> None:
    if not isinstance(checksums, dict) or set(checksums) != set(CHECKSUMMED):
        raise ModelDirError(f"must list the SHA-256 of {', '.join(CHECKSUMMED)}", path=directory / CONFIG,
                            field="checksums")
    for name in CHECKSUMMED:
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


def _check_weights(weights: dict[str, torch.Tensor], model: Classifier, path: Path) -> None:
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ModelDirError(f"weights do not match the config: missing {missing[:3]}, unexpected {unexpected[:3]}",
                            path=path, hint="config.json and model.safetensors come from different models")
    for name, tensor in expected.items():
        if weights[name].shape != tensor.shape:
            raise ModelDirError(f"shape {tuple(weights[name].shape)} but the config implies {tuple(tensor.shape)}",
                                path=path, field=name, hint="config.json and model.safetensors do not match")
        if weights[name].dtype != tensor.dtype:
            raise ModelDirError(f"dtype {weights[name].dtype}, expected {tensor.dtype}", path=path, field=name)
