"""Experiment tracking through the field's libraries (`log_to`: tensorboard, mlflow): the settings when a
run starts, each epoch's metrics as it ends (step = the epoch; an ensemble's models under their own
names), and the final validation figures. TensorBoard through PyTorch's `SummaryWriter` into `log_dir`;
MLflow through its own client, wherever its environment points it (`MLFLOW_TRACKING_URI`,
`MLFLOW_EXPERIMENT_NAME`), as Hugging Face's `Trainer` does. Each is an optional extra, imported only
when asked for."""
from __future__ import annotations

from typing import Any

from seqclf.config import FIELD_SECTION, Config
from seqclf.errors import ConfigError
from seqclf.training.events import MemberStarted, RunEvent, RunReport
from seqclf.training.history import EpochRecord, History

EPOCH_METRICS = ("train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "learning_rate",
                 "tokens_per_second")


class Tracker(RunReport):
    """One tracking library, told the run's settings, epochs and final figures."""

    def __init__(self, config: Config) -> None:
        self.prefix = ""

    def on_event(self, event: RunEvent) -> None:
        if isinstance(event, MemberStarted) and event.members > 1:
            self.prefix = f"model{event.member + 1}/"

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        for name in EPOCH_METRICS:
            value = getattr(record, name)
            if value is not None:
                self.scalar(self.prefix + name, float(value), record.epoch)

    def finish(self, figures: dict[str, float]) -> None:
        """The run's final figures (e.g. the kept model's validation accuracy), then close."""
        for name, value in figures.items():
            self.scalar(f"final/{name}", float(value), 0)
        self.close()

    def scalar(self, name: str, value: float, step: int) -> None: ...


class TensorBoardTracker(Tracker):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=config.train.log_dir)
        self.writer.add_text("settings", "\n".join(f"    {k} = {v!r}" for k, v in _settings(config).items()))

    def scalar(self, name: str, value: float, step: int) -> None:
        self.writer.add_scalar(name, value, step)

    def close(self) -> None:
        self.writer.close()


class MlflowTracker(Tracker):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        import mlflow

        self.mlflow = mlflow
        self.run = mlflow.start_run(nested=mlflow.active_run() is not None)
        mlflow.log_params({k: str(v) for k, v in _settings(config).items()})

    def scalar(self, name: str, value: float, step: int) -> None:
        self.mlflow.log_metric(name.replace("/", "."), value, step=step)

    def close(self) -> None:
        self.mlflow.end_run()


def open_trackers(config: Config) -> list[Tracker]:
    """The trackers `log_to` names, each started (a missing library is a clear error before training)."""
    made = []
    for name in config.train.trackers:
        try:
            made.append({"tensorboard": TensorBoardTracker, "mlflow": MlflowTracker}[name](config))
        except ImportError as exc:
            raise ConfigError(f"logging to {name} needs {exc.name}", field="log_to",
                              hint=f"pip install 'seqclf[{name}]'") from None
    return made


def _settings(config: Config) -> dict[str, Any]:
    return {name: getattr(getattr(config, section), name) for name, section in FIELD_SECTION.items()}
