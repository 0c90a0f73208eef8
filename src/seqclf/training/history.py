"""Per-epoch records and their views: the training-trace rows, an ASCII loss chart, a PNG."""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_accuracy: float
    valid_loss: float | None
    valid_accuracy: float | None
    seconds: float
    tokens_per_second: float
    learning_rate: float
    member: int = 0  # which sequence model of an ensemble (0 for a single model)


TRACE_COLUMNS = ("epoch", "train loss", "train acc", "valid loss", "valid acc", "seconds", "tokens/s")


def trace_row(record: EpochRecord, best: bool = False) -> tuple[str, ...]:
    """One row of the training trace, formatted; `best` marks the epoch kept so far."""
    def number(value: float | None, digits: int = 4) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    return (
        f"{record.epoch}{' *' if best else ''}",
        number(record.train_loss),
        number(record.train_accuracy),
        number(record.valid_loss),
        number(record.valid_accuracy),
        f"{record.seconds:.1f}",
        f"{record.tokens_per_second:,.0f}",
    )


@dataclass
class History:
    records: list[EpochRecord] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def best_epoch(self) -> int | None:
        """The epoch with the highest validation accuracy (lowest validation loss breaks ties);
        without validation, the last epoch."""
        if not self.records:
            return None
        scored = [r for r in self.records if r.valid_accuracy is not None]
        if not scored:
            return self.records[-1].epoch
        return max(scored, key=lambda r: (r.valid_accuracy, -(r.valid_loss or 0.0), -r.epoch)).epoch

    def to_jsonl(self) -> str:
        return "".join(json.dumps(dataclasses.asdict(r)) + "\n" for r in self.records)

    @classmethod
    def from_jsonl(cls, text: str) -> History:
        return cls([EpochRecord(**json.loads(line)) for line in text.splitlines() if line.strip()])

    def ascii_chart(self, height: int = 10, column_width: int = 6) -> str:
        """Loss per epoch as a terminal chart: '*' train, 'o' validation, '@' both on one cell."""
        if not self.records:
            return ""
        series = {"*": [r.train_loss for r in self.records],
                  "o": [r.valid_loss for r in self.records if r.valid_loss is not None]}
        values = [v for s in series.values() for v in s if math.isfinite(v)]
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        grid = [[" "] * (len(self.records) * column_width) for _ in range(height)]
        for mark, points in series.items():
            for i, value in enumerate(points):
                if not math.isfinite(value):
                    continue
                row = height - 1 - round((value - low) / span * (height - 1))
                col = i * column_width + column_width // 2
                grid[row][col] = "@" if grid[row][col] not in (" ", mark) else mark
        lines = []
        for r, cells in enumerate(grid):
            label = f"{high - span * r / (height - 1):7.4f}" if r in (0, height // 2, height - 1) else " " * 7
            lines.append(f"{label} |{''.join(cells).rstrip()}")
        lines.append(" " * 8 + "+" + "-" * (len(self.records) * column_width))
        lines.append(" " * 9 + "".join(f"{r.epoch:^{column_width}d}" for r in self.records))
        legend = "loss per epoch   * train" + ("   o validation   @ both" if series["o"] else "")
        return "\n".join([legend] + lines + [" " * 9 + "epoch".center(len(self.records) * column_width)])

    def save_png(self, path: Path) -> None:
        """Loss and accuracy curves, train and validation, side by side."""
        from seqclf.training.metric_plots import agg_pyplot

        plt = agg_pyplot()

        epochs = [r.epoch for r in self.records]
        figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(9, 3.5))
        # fixed margins: tight_layout would draw the figure once more to measure it (half the time of a save)
        figure.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.91, wspace=0.22)
        for axes, key, title in ((loss_axes, "loss", "loss"), (accuracy_axes, "accuracy", "accuracy")):
            axes.plot(epochs, [getattr(r, f"train_{key}") for r in self.records], "o-", label="train")
            valid = [getattr(r, f"valid_{key}") for r in self.records]
            if all(v is not None for v in valid):
                axes.plot(epochs, valid, "s-", label="validation")
            axes.set_title(title)
            axes.set_xlabel("epoch")
            axes.grid(alpha=0.3)
            axes.legend()
        best = self.best_epoch
        if best is not None:
            for axes in (loss_axes, accuracy_axes):
                axes.axvline(best, color="grey", linestyle=":", linewidth=1)
        figure.savefig(path, dpi=100)
        plt.close(figure)
