"""Distillation: one small model (the student) learns an ensemble's (the teacher's) class probabilities
over the training texts and perturbed copies of them, to give nearly the teacher's answers at a
fraction of its cost (Hinton et al. 2015; the copies as in Tang et al. 2019's augmentation).

The student reads text with the teacher's tokenizer (its vocabulary and max_len: ids mean the same to
both) and the teacher's data settings; its model and training settings are a preset's (`fast` by
default). Its sequence model learns the teacher's probabilities; its n-gram evidence, its class
weights, its kept epoch, its combination and its temperature use the labels, and validation texts are
never copied or shown to it with the teacher's answers. A held-out fraction is taken before any text
is copied, so no copy of a validation text is trained on. The student is an ordinary model directory,
with `distillation.json` saying where it came from.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqclf import model_files
from seqclf.api import TextClassifier
from seqclf.config import Config, load_preset
from seqclf.data.readers import Dataset, dataset_from_lists
from seqclf.errors import ConfigError
from seqclf.fields import finite_number
from seqclf.fileio import write_file_atomically
from seqclf.runs import writing
from seqclf.text.encoded import encode_data
from seqclf.training.examples import SoftTargets, holdout
from seqclf.training.trainer import Callback


@dataclass(frozen=True)
class DistillConfig:
    """How the texts the teacher answers for the student are made."""

    copies: int = 4  # perturbed copies of each training text, besides the text itself
    drop: float = 0.1  # each word of a copy is left out with this probability (one word is always kept)
    shuffle: int = 3  # each word of a copy moves at most this many places (0: the order is kept)

    def validate(self) -> DistillConfig:
        if not (isinstance(self.copies, int) and self.copies >= 0):
            raise ConfigError(f"must be a whole number of at least 0, got {self.copies!r}", field="copies")
        if not (finite_number(self.drop) and 0 <= self.drop < 1):
            raise ConfigError(f"must be in [0, 1), got {self.drop!r}", field="drop")
        if not (isinstance(self.shuffle, int) and self.shuffle >= 0):
            raise ConfigError(f"must be a whole number of at least 0, got {self.shuffle!r}", field="shuffle")
        return self


@dataclass
class Distilled:
    """The student, and how it compares with its teacher on the validation texts (None without any)."""

    student: TextClassifier
    teacher: dict  # its directory and weights fingerprint
    settings: DistillConfig
    texts: int  # training texts
    examples: int  # the texts and their copies, each answered by the teacher
    teacher_accuracy: float | None
    student_accuracy: float | None
    agreement: float | None  # the student's answer is the teacher's

    def to_dict(self) -> dict:
        """What distillation.json holds."""
        return {"teacher": self.teacher, "settings": dataclasses.asdict(self.settings), "texts": self.texts,
                "examples": self.examples, "validation": {"teacher_accuracy": self.teacher_accuracy,
                                                          "student_accuracy": self.student_accuracy,
                                                          "agreement": self.agreement}}


def student_config(teacher: Config, preset: str | None = "fast") -> Config:
    """The teacher's data and tokenizer settings, with the preset's model and training ones (none: the defaults)."""
    base = Config.from_dict(load_preset(preset), source=f"preset {preset}") if preset and preset != "none" else Config()
    return dataclasses.replace(base, data=teacher.data, tokenizer=teacher.tokenizer).validate()


def perturbed(text: str, rng: np.random.Generator, settings: DistillConfig) -> str:
    """A copy of `text` with words left out (`drop`) and moved a few places (`shuffle`): each word's new
    place is its old one plus a uniform draw in [0, shuffle + 1), sorted (a local shuffle)."""
    words = text.split()
    kept = [word for word in words if rng.random() >= settings.drop] or [words[rng.integers(len(words))]]
    if settings.shuffle:
        keys = np.arange(len(kept)) + rng.uniform(0, settings.shuffle + 1, len(kept))
        kept = [kept[i] for i in np.argsort(keys, kind="stable")]
    return " ".join(kept)


def with_copies(data: Dataset, settings: DistillConfig, seed: int) -> Dataset:
    """The texts, then `copies` perturbed copies of each (in rounds), each copy labeled as its text."""
    rng = np.random.default_rng(seed)
    texts, labels = list(data.texts), list(data.labels or [])
    for _ in range(settings.copies):
        texts += [perturbed(text, rng, settings) for text in data.texts]
        labels += data.labels or []
    return dataset_from_lists(texts, labels, data.source, data.task)


def distill(teacher: TextClassifier, data: Dataset, valid: Dataset | None, config: Config, settings: DistillConfig,
            callbacks: Sequence[Callback] = ()) -> Distilled:
    """Train the student of `teacher` on `data` (and its copies); `valid`: validation data, or None to hold
    out the student's `valid_fraction` of `data` (before copying)."""
    settings.validate()
    teacher.task.check_single_label(data.source, "a student learns a teacher's probabilities over classes",
                                    "distill a single-label model")
    if valid is None:
        train_rows, valid_rows = holdout(len(data), None, config.train)
        train, valid = data.select(train_rows), None if valid_rows is None else data.select(valid_rows)
    else:
        train = data
    examples = with_copies(train, settings, config.train.seed)
    soft = SoftTargets(list(teacher.classes_), teacher.predict_proba(examples.texts))  # (N, C)
    tokenizer = teacher.tokenizer
    encoded_valid = None if valid is None else encode_data(valid, tokenizer)
    student = TextClassifier(config).fit_encoded(tokenizer, encode_data(examples, tokenizer), encoded_valid,
                                                 callbacks=callbacks, soft=soft)
    compared = _compared(teacher, student, valid)
    origin = {"directory": None if teacher.directory is None else str(teacher.directory),
              "weights_fingerprint": teacher.fitted.weights_fingerprint()}
    return Distilled(student, origin, settings, len(train), len(examples), *compared)


def _compared(teacher: TextClassifier, student: TextClassifier, valid: Dataset | None
              ) -> tuple[float | None, float | None, float | None]:
    """Teacher's accuracy, student's accuracy and their agreement on the validation texts."""
    if valid is None:
        return None, None, None
    truth = np.array(valid.labels)
    ours, theirs = np.array(student.predict(valid.texts)), np.array(teacher.predict(valid.texts))
    return float((theirs == truth).mean()), float((ours == truth).mean()), float((ours == theirs).mean())


def save_student(distilled: Distilled, out: str | Path) -> Path:
    """The student's model directory, with distillation.json beside its files."""
    with writing(out) as directory:
        distilled.student.save(directory)
        text = json.dumps(distilled.to_dict(), indent=2) + "\n"
        write_file_atomically(directory / model_files.DISTILLATION, lambda path: path.write_text(text, "utf-8"))
    return directory
