"""Texts (and labels) from a table a Python user already holds: a pandas `DataFrame`, a Hugging Face
`datasets.Dataset`, or a mapping of column names to columns. The columns are picked by name (`text` and
`label` by default), so `fit(df, text="review", label="stars")` reads a data frame as `seqclf train
--text-column review --label-column stars` reads a CSV. Neither library is imported here: a table is known
by what it answers (`columns` or `column_names`)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from seqclf.errors import DataError

TEXT, LABEL = "text", "label"  # the column names read when none are given


def is_table(data: object) -> bool:
    """A data frame, a `datasets.Dataset`, or a mapping of columns (not a list of texts)."""
    return hasattr(data, "column_names") or (hasattr(data, "columns") and hasattr(data, "iloc")) or isinstance(
        data, Mapping)


def column(table: Any, name: str, keyword: str, source: str) -> list:
    """The column `name` of the table as a list; a missing one is an error naming the columns there are."""
    names = _column_names(table)
    if name not in names:
        raise DataError(f"no column {name!r} (the columns: {', '.join(map(str, names))})", field=keyword,
                        path=source, hint=f"pass {keyword}=\"COLUMN\" with the column that holds the {keyword}s")
    values = table[name]
    return values.tolist() if hasattr(values, "tolist") else list(values)


def texts_and_labels(data: Any, labels: Sequence[object] | None, text: str | None, label: str | None,
                     source: str, need_labels: bool = False) -> tuple[Sequence[str], Sequence[object] | None]:
    """`data` and `labels` as given, or, when `data` is a table, its text column and (unless `labels` are
    given) its label column when it has one. `need_labels`: no labels either way is an error."""
    texts, labels = _texts_and_labels(data, labels, text, label, source)
    if need_labels and labels is None:
        raise DataError("no labels", field="labels", path=source,
                        hint="pass labels, or a table with a label column (label=\"COLUMN\" names it)")
    return texts, labels


def _texts_and_labels(data: Any, labels: Sequence[object] | None, text: str | None, label: str | None,
                      source: str) -> tuple[Sequence[str], Sequence[object] | None]:
    if not is_table(data):
        if text is not None or label is not None:
            raise DataError("column names are read from a table (a pandas DataFrame, a datasets.Dataset, a dict "
                            "of columns), not from a list of texts", field="text" if text is not None else "label",
                            path=source, hint="pass the table itself, or leave text= and label= out")
        return data, labels
    texts = column(data, text or TEXT, "text", source)
    if labels is None and (label is not None or LABEL in _column_names(data)):
        labels = column(data, label or LABEL, "label", source)
    return texts, labels


def _column_names(table: Any) -> list:
    if hasattr(table, "column_names"):  # datasets.Dataset
        return list(table.column_names)
    if isinstance(table, Mapping):
        return list(table.keys())
    return list(table.columns)  # pandas.DataFrame
