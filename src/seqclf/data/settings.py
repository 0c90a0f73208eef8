"""Stage 1's settings (`DataConfig`): how raw text files are read, checked against the formats' own
choice lists (`data/formats.py`); and the one list of class orders."""
from __future__ import annotations

import codecs
from dataclasses import dataclass, replace

from seqclf.data.formats import DELIMITER_NAMES, FORMATS, QUOTINGS
from seqclf.errors import ConfigError
from seqclf.fields import check_choice, choices_text, setting
from seqclf.task import Task, task_of

LABEL_ORDERS = {"sorted": sorted, "first-seen": list}  # the order of the classes, from the first-seen labels


@dataclass
class DataConfig:
    """Stage 1: how raw text files are read."""

    format: str | None = setting(choices_text(FORMATS) + "; none = from the file extension", default=None)
    text_column: str = setting("column (or JSON key) holding the text", default="text")
    label_column: str = setting("column (or JSON key) holding the label", default="label")
    label_order: str = setting("order of the classes: " + choices_text(LABEL_ORDERS), default="sorted")
    quoting: str = setting("csv and tsv: csv (RFC 4180: a field may be \"quoted\") | none (a quotation mark is "
                           "an ordinary character) | auto (csv for csv files, none for tsv files)", default="auto")
    delimiter: str | None = setting("csv and tsv: the character between fields, e.g. ';' (\\t or tab for a tab); "
                                    "none = ',' for csv, tab for tsv", default=None,
                                    normalize=lambda value: DELIMITER_NAMES.get(value, value))
    encoding: str = setting("text encoding of data files, e.g. cp1252 or utf-16 (utf-8: a BOM is fine)",
                            default="utf-8")
    multi_label: bool = setting("each text has a set of labels (possibly empty): a sigmoid per label instead of "
                                "softmax over classes; set by itself when the data holds label lists (a JSON list, "
                                "several __label__ tags)", default=False)
    label_separator: str = setting("multi-label csv and tsv: the character between a row's labels", default=",",
                                   normalize=lambda value: DELIMITER_NAMES.get(value, value))
    skip_bad_rows: bool = setting("skip malformed rows instead of failing; each one is reported (train: "
                                  "skipped_rows.jsonl in the model directory)", default=False)

    @property
    def task(self) -> Task:
        """The task the labels are read as at least: multi-label (every label a set) when asked; else the data
        decides (a label that is a list makes it multi-label)."""
        return task_of(self.multi_label)

    def reading_for(self, task: Task) -> DataConfig:
        """These settings for data labelled for `task`: a multi-label model's data is read as label sets."""
        return replace(self, multi_label=self.multi_label or task.label_sets)

    def validate(self) -> None:
        check_choice("format", self.format, FORMATS, allow_none=True)
        check_choice("label_order", self.label_order, LABEL_ORDERS)
        check_choice("quoting", self.quoting, QUOTINGS)
        for name in ("text_column", "label_column"):
            if not getattr(self, name):
                raise ConfigError("must not be empty", field=name)
        if self.delimiter is not None and (len(self.delimiter) != 1 or self.delimiter in "\"\r\n"):
            raise ConfigError(f"must be one character other than a quotation mark or line break, got "
                              f"{self.delimiter!r}", field="delimiter", hint="e.g. --delimiter ';' or --delimiter tab")
        if len(self.label_separator) != 1 or self.label_separator in "\r\n":
            raise ConfigError(f"must be one character other than a line break, got {self.label_separator!r}",
                              field="label_separator", hint="e.g. --label-separator '|'")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ConfigError(f"unknown encoding {self.encoding!r}", field="encoding",
                              hint="e.g. utf-8, cp1252, latin-1, utf-16") from None
