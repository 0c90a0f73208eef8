"""`seqclf audit`: which training labels are probably wrong.

Every example gets a probability from a model that never saw it: the data is split into k stratified
folds, and a model trained on the other k − 1 folds (with the run's settings) predicts each fold.
cleanlab then scores each label from these out-of-fold probabilities (label quality: the probability of
the given label, its "self-confidence") and flags the likely label issues (confident learning,
Northcutt et al. 2021). The ranking, worst first, is written as CSV and JSONL for a person to review.
"""
from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqclf.api import TextClassifier
from seqclf.config import Config
from seqclf.data.readers import Dataset
from seqclf.errors import DataError, SeqclfError
from seqclf.runs import write_report_files
from seqclf.training.events import FoldFinished, PhaseStarted, RunReport, tell

DEFAULT_FOLDS = 5
# What `seqclf audit --out DIR` writes: the ranking (two formats) and the run's summary.
AUDIT_FILES = {"csv": "label_issues.csv", "jsonl": "label_issues.jsonl", "summary": "audit.json"}
COLUMNS = ("rank", "where", "label", "suggested", "label_quality", "probability_of_label", "probability_of_suggested",
           "issue", "text")


@dataclass
class Audit:
    rows: list[dict]  # every example, the likeliest label error first (keys: COLUMNS)
    summary: dict  # examples, folds, classes, issues flagged, out-of-fold accuracy, settings

    def write(self, out: str | Path) -> list[Path]:
        """The ranking as CSV and JSONL, and the summary as JSON, in the directory `out` (each file atomic)."""
        return write_report_files(out, {
            AUDIT_FILES["csv"]: self._write_csv, AUDIT_FILES["jsonl"]: self._write_jsonl,
            AUDIT_FILES["summary"]: lambda path: path.write_text(json.dumps(self.summary, indent=2) + "\n", "utf-8"),
        })

    def _write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)

    def _write_jsonl(self, path: Path) -> None:
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in self.rows), "utf-8")


def out_of_fold_probabilities(config: Config, data: Dataset, classes: list[str], labels: np.ndarray, folds: int,
                              report: RunReport | None = None) -> np.ndarray:
    """(N, C) probabilities, columns in `classes` order: row i from the model trained without i's fold.
    `labels`: (N,) each example's class index in `classes`. `report` hears each fold start and finish."""
    from sklearn.model_selection import StratifiedKFold

    probabilities = np.zeros((len(data), len(classes)), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.train.seed)
    reports, started = [report] if report else [], time.perf_counter()
    for fold, (train, held_out) in enumerate(splitter.split(np.zeros(len(labels)), labels), start=1):
        tell(reports, PhaseStarted("fold"))
        part = data.select(train)
        model = TextClassifier(config).fit(part.texts, part.labels, progress=False)
        columns = [model.classes_.index(name) for name in classes]
        probabilities[held_out] = model.predict_proba(data.select(held_out).texts)[:, columns]
        accuracy = float((probabilities[held_out].argmax(axis=1) == labels[held_out]).mean())
        tell(reports, FoldFinished(fold, folds, accuracy, time.perf_counter() - started))
    return probabilities


def audit(data: Dataset, config: Config, folds: int = DEFAULT_FOLDS, report: RunReport | None = None) -> Audit:
    """Rank the examples of a labelled data set by how likely their label is wrong."""
    try:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores
    except ImportError as exc:
        raise SeqclfError(f"audit needs cleanlab ({exc.name} is missing)", hint="pip install 'seqclf[audit]'") from None
    data.task.check_single_label(data.source, "the audit ranks one label per text", hint="audit a single-label file "
                                 "(cleanlab's multi-label ranking is not wired here yet)")
    classes = sorted(set(data.labels))
    _check(data, classes, folds)
    labels = np.array([classes.index(label) for label in data.labels])  # (N,)
    probabilities = out_of_fold_probabilities(config, data, classes, labels, folds, report)  # (N, C)
    quality = get_label_quality_scores(labels, probabilities, method="self_confidence")  # (N,)
    issues = find_label_issues(labels, probabilities)  # (N,) bool
    suggested = probabilities.argmax(axis=1)
    order = np.argsort(quality, kind="stable")
    rows = [{"rank": rank, "where": data.where(i), "label": data.labels[i], "suggested": classes[suggested[i]],
             "label_quality": round(float(quality[i]), 6),
             "probability_of_label": round(float(probabilities[i, labels[i]]), 6),
             "probability_of_suggested": round(float(probabilities[i, suggested[i]]), 6),
             "issue": bool(issues[i]), "text": data.texts[i]}
            for rank, i in enumerate(order.tolist(), start=1)]
    summary = {"data": data.source, "examples": len(data), "folds": folds, "classes": classes,
               "issues_flagged": int(issues.sum()),
               "out_of_fold_accuracy": float((suggested == labels).mean()),
               "ranking": "cleanlab label quality (self-confidence: the out-of-fold probability of the given label), "
                          "lowest first; issue: cleanlab.filter.find_label_issues (confident learning)",
               "settings": config.to_dict()}
    return Audit(rows, summary)


def _check(data: Dataset, classes: list[str], folds: int) -> None:
    if not isinstance(folds, int) or folds < 2:
        raise SeqclfError(f"must be at least 2, got {folds!r}", field="folds")
    counts = {name: data.labels.count(name) for name in classes}
    rare = {name: count for name, count in counts.items() if count < folds}
    if len(classes) < 2:
        raise DataError("only one class: there is nothing to audit", path=data.source, field="label")
    if rare:
        shown = ", ".join(f"{name!r} ({count})" for name, count in rare.items())
        raise DataError(f"classes with fewer examples than folds ({folds}): {shown}", path=data.source,
                        field="label", hint="lower --folds, or fix or drop those rows")
