"""The sentences of a run's events: what the terminal and a log file say of the data encoded, the threads,
long texts, label sets, the combination, the calibration and the thresholds, and of a phase's name. The
engines emit the events as data (`seqclf.training.events`); only the faces compose words."""
from __future__ import annotations

from typing import TYPE_CHECKING

from seqclf.console import threads_text
from seqclf.nn.settings import COMBINATION_NAMES
from seqclf.threads import ThreadChoice
from seqclf.training.events import (Calibrated, ClusterJoined, Combined, FoldFinished, LabelSetsFound, LongTexts,
                                     RunEvent, ThresholdsChosen)

if TYPE_CHECKING:
    from seqclf.training.calibration import Calibration

PHASE_WORDS = {
    "reading": "reading and encoding the data",
    "ngram_evidence": "fitting the n-gram evidence",
    "combination": "scoring the models on the validation data",
    "calibration": "calibrating on the validation data",
    "thresholds": "choosing the thresholds on the validation data",
    "saving": "saving the model",
    "data_flow": "measuring the data flow",
    "test": "evaluating on the test file",
    "trial": "running a trial of the search",
    "fold": "training a fold's model and predicting its held-out part",
}


def event_lines(event: RunEvent) -> list[str]:
    """What the terminal says of a run's event: the sentences of the faces, from the data of the engines."""
    if isinstance(event, ClusterJoined):
        cluster = event.cluster
        return [f"distributed: {cluster.world_size} processes ({cluster.backend} on {cluster.device.type}), batch "
                f"{event.batch_size} shared among them"] if cluster.distributed else []
    if isinstance(event, ThreadChoice):
        return [threads_text(event)] if event.reduced else []
    if isinstance(event, LabelSetsFound):
        detected = [] if event.detected is None else [
            f"multi-label: {event.detected}, so every text has a set of labels; training a sigmoid per label (pass "
            "--multi-label to say so, --label-separator for csv and tsv label fields)"]
        return [*detected, "multi-label: the trace's acc columns are subset accuracy (every label of a text right, "
                           "at probability 0.5); thresholds are chosen after training"]
    if isinstance(event, LongTexts):
        return [long_texts_text(event)]
    if isinstance(event, Combined):
        shares = ", ".join(f"{source} {weight:.2f}" for source, weight in zip(event.sources, event.weights))
        scored = "" if event.validation_accuracy is None else f"; validation accuracy {event.validation_accuracy:.4f}"
        return [f"combined: {COMBINATION_NAMES[event.rule]} of probabilities ({shares}){scored}"]
    if isinstance(event, Calibrated):
        return [calibration_text(event.calibration)]
    if isinstance(event, ThresholdsChosen):
        return [thresholds_text(event)]
    if isinstance(event, FoldFinished):
        return [f"fold {event.fold}/{event.folds}: out-of-fold accuracy {event.accuracy:.4f} ({event.seconds:.0f} s)"]
    return []


def long_texts_text(event: LongTexts, what: str = "training texts") -> str:
    counted = f"long texts: {event.longer:,} of {event.total:,} {what} are longer than max_len={event.max_len} tokens"
    if event.stride is None:
        return f"{counted}: truncated to their first {event.max_len} (--long-text chunk reads them whole)"
    how = ("training, validation and prediction read every window" if event.every_window else
           "training reads a random window per epoch, validation and prediction every window")
    return (f"{counted}: read in windows of {event.max_len} (stride {event.stride}, {event.pooling} of their "
            f"logits); {how}")


def calibration_text(calibration: Calibration) -> str:
    verdict = "kept" if calibration.kept else "not kept: it does not lower the error, the temperature stays 1"
    return (f"calibration: temperature {calibration.temperature:.3f} fitted on the validation data; expected "
            f"calibration error {calibration.ece_before:.4f} -> {calibration.ece_after:.4f} ({verdict})")


def thresholds_text(event: ThresholdsChosen) -> str:
    rule = event.rule
    how = ("as given" if isinstance(rule, float) else f"{rule}, chosen on the validation data" if event.validated
           else "0.5: no validation data to choose them on")
    shown = ", ".join(f"{name} {t:.3f}" for name, t in zip(event.classes[:8], event.thresholds))
    return f"multi-label thresholds ({how}): {shown}{', …' if len(event.classes) > 8 else ''}"

