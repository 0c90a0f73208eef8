"""What a training run and a search tell as they go, as data, and the one protocol that hears them.

The recipe, `runs` and `tune` emit these events to every `RunReport` (`on_event`); the faces render them
(`seqclf.report` for the terminal and a log file; a tracker or the web page would take the same events).
Nothing below the faces composes a sentence. The epochs themselves come through the trainer's callbacks
(`Callback.on_epoch_end` with its `EpochRecord`, `on_checkpoint`), which a `RunReport` also is. The
threads a run computes with are told as the `ThreadChoice` itself (`seqclf.threads`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from seqclf.threads import ThreadChoice
from seqclf.training.trainer import Callback

if TYPE_CHECKING:
    from seqclf.data.streams import ReadProgress
    from seqclf.text.encoded import EncodedData
    from seqclf.training.calibration import Calibration
    from seqclf.training.distributed import Cluster


@dataclass(frozen=True)
class ClusterJoined:
    """Where the run trains: a cluster of one, or the processes of `torchrun`."""

    cluster: Cluster
    batch_size: int


@dataclass(frozen=True)
class DataEncoded:
    """A data file (or list) read and encoded (stage 1 and 2)."""

    data: EncodedData


@dataclass(frozen=True)
class LabelSetsFound:
    """The data holds label sets: a multi-label model is trained. `detected`: where the label lists were
    seen (`EncodedData.detected`), or None when the settings said multi-label."""

    detected: str | None


@dataclass(frozen=True)
class LongTexts:
    """Texts longer than max_len, and how they are read: truncated, or in windows (`stride`, `pooling`)."""

    longer: int
    total: int
    max_len: int
    stride: int | None  # None: truncated
    pooling: str | None
    every_window: bool  # training reads every window (else a random one per epoch)


@dataclass(frozen=True)
class MemberStarted:
    """Sequence model `member` (from 0) of `members` starts training with `seed`: `epochs` epochs (at most)
    over `examples` training examples; `recipe`: its recipe in an ensemble of recipes (a preset or an encoder)."""

    member: int
    members: int
    seed: int
    epochs: int
    examples: int
    recipe: str | None = None


@dataclass(frozen=True)
class PhaseStarted:
    """A step of the run outside the epochs begins (the one before it has ended): one of `PHASES`;
    "finished": the run's last step has ended. `progress`: how far a pass over a file has got, while it runs."""

    phase: str
    progress: ReadProgress | None = None


PHASES = ("reading", "ngram_evidence", "combination", "calibration", "thresholds", "saving", "data_flow", "test", "trial", "fold",
          "finished")


@dataclass(frozen=True)
class Combined:
    """Several models combined into one: each source's share, the rule, the validation accuracy."""

    sources: tuple[str, ...]
    weights: tuple[float, ...]
    rule: str
    validation_accuracy: float | None


@dataclass(frozen=True)
class Calibrated:
    """A temperature fitted on the validation data (kept or not)."""

    calibration: Calibration


@dataclass(frozen=True)
class ThresholdsChosen:
    """A multi-label model's thresholds; `rule` as set (`train.threshold`), `validated`: chosen on data."""

    thresholds: tuple[float, ...]
    classes: tuple[str, ...]
    rule: str | float
    validated: bool


@dataclass(frozen=True)
class FoldFinished:
    """The model of fold `fold` (from 1) of `folds` has predicted its held-out part: `accuracy` there;
    `seconds` since the first fold began."""

    fold: int
    folds: int
    accuracy: float
    seconds: float


@dataclass(frozen=True)
class TrialFinished:
    """One trial of a search, finished (complete or pruned); `best`: the best so far."""

    number: int
    state: str
    value: float | None
    epochs: int
    seconds: float
    settings: dict[str, Any]
    best: bool


RunEvent = Union[ClusterJoined, ThreadChoice, DataEncoded, LabelSetsFound, LongTexts, MemberStarted, PhaseStarted,
                 Combined, Calibrated, ThresholdsChosen, FoldFinished, TrialFinished]


class RunReport(Callback):
    """Hears a run: its events (`on_event`) and, as a training callback, its epochs (rank 0 only)."""

    def on_event(self, event: RunEvent) -> None: ...

    def close(self) -> None:
        """Stop whatever it shows live (the run ended, or was stopped)."""


def tell(reports: list[RunReport] | tuple[RunReport, ...], event: RunEvent | None) -> None:
    if event is not None:
        for report in reports:
            report.on_event(event)
