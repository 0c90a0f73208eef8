"""Resume checkpoints: one safetensors file, written atomically; no pickle anywhere.

Tensors (weights, optimizer moments, the best epoch's weights, torch's RNG state) are the file's
tensors; everything else (epoch, step, sums so far, history, sampler state, settings, a fingerprint
of the training data) is JSON in its metadata. Nested states are flattened: each tensor leaves a
`{"tensor": key}` marker where it was, and dictionaries keep their key types.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from seqclf.model_files import CHECKPOINT, is_checkpoint_file, member_checkpoint
from seqclf.config import SECTIONS, Config
from seqclf.text.batching import BucketSampler
from seqclf.text.encoded import EncodedData
from seqclf.errors import ModelDirError
from seqclf.fileio import write_file_atomically
from seqclf.ids import release_pages
from seqclf.text.tokenizer import WordTokenizer
from seqclf.training.history import EpochRecord, History
from seqclf.training.optim import Optimizers
from seqclf.training.trainer import KeepBest, Progress, ReduceOnPlateau

METADATA_KEY = "seqclf_checkpoint"
CHECKPOINT_VERSION = 1


def flatten(value: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    """JSON-able form of `value`; its tensors go to `tensors` under keys built from `key`."""
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach().to("cpu", copy=True).contiguous()
        return {"tensor": key}
    if isinstance(value, dict):
        return {"dict": [[k, flatten(v, f"{key}.{k}", tensors)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"list": [flatten(v, f"{key}.{i}", tensors) for i, v in enumerate(value)]}
    return value  # json writes and reads NaN and infinities itself


def unflatten(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, dict):
        if "tensor" in value:
            return tensors[value["tensor"]]
        if "dict" in value:
            return {k: unflatten(v, tensors) for k, v in value["dict"]}
        if "list" in value:
            return [unflatten(v, tensors) for v in value["list"]]
    return value


def save_checkpoint(directory: Path, state: dict[str, Any], name: str = CHECKPOINT) -> Path:
    """Write `state` to directory/name (the resume checkpoint by default), atomically (seqclf.fileio)."""
    tensors: dict[str, torch.Tensor] = {}
    flat = flatten(state, "state", tensors)
    metadata = {METADATA_KEY: json.dumps({"version": CHECKPOINT_VERSION, "state": flat})}
    target = directory / name
    write_file_atomically(target, lambda temporary: save_file(tensors, str(temporary), metadata=metadata))
    return target


def load_checkpoint(directory: Path, name: str = CHECKPOINT) -> dict[str, Any]:
    path = directory / name
    if not path.is_file():
        raise ModelDirError("no checkpoint to resume from", path=directory,
                            hint="train without --resume to start afresh")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        raw = json.loads(metadata[METADATA_KEY])
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise ModelDirError(f"cannot read the checkpoint: {exc}", path=path,
                            hint="it is damaged; train without --resume to start afresh") from None
    if raw.get("version") != CHECKPOINT_VERSION:
        raise ModelDirError(f"unsupported checkpoint version {raw.get('version')!r}", path=path)
    try:
        return unflatten(raw["state"], tensors)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelDirError(f"cannot read the checkpoint: {exc}", path=path) from None


def has_checkpoint(directory: Path) -> bool:
    """The directory holds the checkpoint of an unfinished run (or of an ensemble's finished members),
    written whole (a temporary file of an atomic write does not count)."""
    return directory.is_dir() and any(is_checkpoint_file(path.name) and not path.name.startswith(".")
                                      for path in directory.iterdir())


def save_member(directory: Path, member: int, config: Config, data_fingerprint: str, model: nn.Module,
                history: History) -> None:
    """A finished sequence model of an ensemble, kept until the whole ensemble is saved."""
    save_checkpoint(directory, {"config": config.to_dict(), "data": data_fingerprint, "member": member,
                                "model": model.state_dict(),
                                "history": [dataclasses.asdict(r) for r in history.records]}, member_checkpoint(member))


def load_member(directory: Path, member: int, config: Config, data_fingerprint: str) -> tuple[dict, History] | None:
    """The weights and history of a finished member, if this run already trained it."""
    if not (directory / member_checkpoint(member)).is_file():
        return None
    state = load_checkpoint(directory, member_checkpoint(member))
    _check_same_run(state, config, data_fingerprint, directory / member_checkpoint(member))
    return state["model"], History([EpochRecord(**record) for record in state["history"]])


# Settings that may differ between a run and its resumption without changing the result.
FREE_ON_RESUME = ("threads", "checkpoint_every", "checkpoint_seconds", "device", "log_to", "log_dir")


def training_fingerprint(tokenizer: WordTokenizer, train: EncodedData, train_indices: np.ndarray,
                         valid: object, valid_indices: np.ndarray | None) -> str:
    """Changes whenever the training or validation data, their split or the vocabulary change."""
    digest = hashlib.sha256(tokenizer.fingerprint().encode())
    digest.update(json.dumps([train.label_names, getattr(valid, "label_names", None)]).encode())
    # indices as int64, whatever their dtype: the fingerprint of a split does not change with it
    arrays = [(train.corpus.ids, None), (train.corpus.offsets, None), (train.label_ids, None), (train_indices, np.int64)]
    if isinstance(valid, EncodedData):
        arrays += [(valid.corpus.ids, None), (valid.corpus.offsets, None), (valid.label_ids, None)]
    if valid_indices is not None:
        arrays.append((valid_indices, np.int64))
    for array, dtype in arrays:
        _hash_in_pieces(digest, array, dtype)
    return digest.hexdigest()


HASHED_PIECE = 1 << 24  # elements hashed at a time: neither a copy of a large corpus's ids nor all its pages are held


def _hash_in_pieces(digest: Any, array: np.ndarray, dtype: type | None) -> None:
    """The array's bytes as `array.astype(dtype).tobytes()` would give them, added piece by piece."""
    flat = array.reshape(-1)
    for start in range(0, len(flat), HASHED_PIECE):
        piece = flat[start : start + HASHED_PIECE]
        digest.update(np.ascontiguousarray(piece if dtype is None else piece.astype(dtype)))
        release_pages(array)


@dataclass
class Checkpointing:
    """Saves and restores everything a training run needs to continue bit for bit."""

    directory: Path
    config: Config
    data_fingerprint: str
    model: nn.Module
    optimizer: Optimizers
    sampler: BucketSampler
    keep_best: KeepBest
    plateau: ReduceOnPlateau
    member: int = 0  # which sequence model of an ensemble is training

    def save(self, progress: Progress) -> None:
        save_checkpoint(self.directory, {
            "config": self.config.to_dict(),
            "data": self.data_fingerprint,
            "member": self.member,
            "progress": {f.name: getattr(progress, f.name) for f in dataclasses.fields(Progress) if f.name != "history"},
            "history": [dataclasses.asdict(r) for r in progress.history.records],
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "sampler": self.sampler.state(mid_epoch=progress.step > 0),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
            "best": self.keep_best.state,
            "plateau_scale": self.plateau.scale,
        })

    def restore(self) -> Progress | None:
        """Where the interrupted run stood; None when its checkpoint is of an earlier member (which
        finished: this one starts afresh)."""
        state = load_checkpoint(self.directory)
        if state.get("member", 0) != self.member:  # (an ensemble of recipes: that member had its own settings)
            return None
        _check_same_run(state, self.config, self.data_fingerprint, self.directory / CHECKPOINT)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.sampler.restore(state["sampler"])
        torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.keep_best.state = state["best"]
        self.plateau.scale = state["plateau_scale"]
        history = History([EpochRecord(**record) for record in state["history"]])
        return Progress(**state["progress"], history=history)


def _check_same_run(state: dict, config: Config, data_fingerprint: str, path: Path) -> None:
    changed = _changed_settings(state["config"], config.to_dict())
    if state["data"] != data_fingerprint:  # first: other data changes max_len=auto too
        also = [name for name in changed if name != "max_len"]
        raise ModelDirError("the checkpoint was made with other data (or another split or vocabulary)"
                            + (f" and other settings: {', '.join(also)}" if also else ""), path=path,
                            hint="resume with the same files and settings as the interrupted run")
    if changed:
        raise ModelDirError(f"the checkpoint was made with other settings: {', '.join(changed)}", path=path,
                            hint="resume with the settings of the interrupted run, or train without --resume "
                                 "into another --out")


def _changed_settings(saved: dict, current: dict) -> list[str]:
    """The settings that differ (an ensemble of recipes' `members` as one)."""
    changed = [name for section in SECTIONS for name in current[section]
               if name not in FREE_ON_RESUME and saved.get(section, {}).get(name) != current[section][name]]
    return changed + (["members"] if saved.get("members") != current.get("members") else [])
