"""The training recipe's settings, validated against the choice lists they name; without PyTorch, so that
reading a config never imports it. `SCHEDULES` is the schedules' own registry (plain Python); the
devices are names; `PRECISIONS` and `CLASS_WEIGHT_NAMES` are the names that `AUTOCAST_DTYPES`
(training/distributed.py) and `CLASS_WEIGHTS` (training/loss.py) implement, as
tests/unit/training/test_settings.py checks."""
from __future__ import annotations

from dataclasses import dataclass

from seqclf.errors import ConfigError
from seqclf.fields import check_at_least, check_choice, check_fraction, choices_text, setting
from seqclf.training.schedules import SCHEDULES

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")
CLASS_WEIGHT_NAMES = ("none", "balanced")
WINDOW_TRAINING = ("all", "random")
THRESHOLD_RULES = ("per-label", "global")  # how multi-label thresholds are chosen on validation data
TRACKER_NAMES = ("tensorboard", "mlflow")  # where `log_to` sends the metrics (training/tracking.py)
# the loop's settings, which each sequence model of an ensemble of recipes has its own of (the rest is the run's)
MEMBER_TRAIN_FIELDS = ("epochs", "batch_size", "lr", "lr_schedule", "weight_decay", "sparse_embedding", "warmup",
                       "label_smoothing", "patience", "max_grad_norm")


@dataclass
class TrainConfig:
    """The training loop."""

    epochs: int = setting("passes over the training data", default=10)
    batch_size: int = setting("sequences per step", default=32)
    lr: float = setting("learning rate (AdamW)", default=2e-3)
    lr_schedule: str = setting("learning rate after warm-up: " + choices_text(SCHEDULES) + " (linear: down to 0 "
                               "at the end; plateau: halved after each epoch without a better validation "
                               "accuracy)", default="constant")
    weight_decay: float = setting("AdamW weight decay (not applied to a sparse embedding)", default=1e-4)
    sparse_embedding: bool = setting("update only the embedding rows each batch uses (lazy Adam): much faster "
                                     "for large vocabularies", default=True)
    warmup: float = setting("share of the steps over which the learning rate rises linearly from 0", default=0.0)
    label_smoothing: float = setting("share of each target spread over the other classes", default=0.0)
    class_weight: str = setting("loss weight per class: " + choices_text(CLASS_WEIGHT_NAMES) + " (balanced: inverse to "
                                "class frequency)", default="none")
    patience: int | None = setting("stop after this many epochs without a better validation accuracy; "
                                   "none = run every epoch", default=None)
    max_grad_norm: float | None = setting("clip gradients to this norm; none = no clipping", default=5.0)
    vectors: str | None = setting("pretrained word vectors to start the embedding from (GloVe / word2vec / "
                                  "fastText .vec text, .gz too); their dimension must be embed_dim", default=None)
    freeze_vectors: bool = setting("keep the pretrained vectors fixed instead of fine-tuning them", default=False)
    checkpoint_every: int | None = setting("also write the resume checkpoint every this many steps; none = after "
                                           "epochs only", default=None)
    log_to: str = setting("send each epoch's metrics, the settings and the final figures to "
                          + " and/or ".join(TRACKER_NAMES) + " (comma-separated); empty = neither", default="")
    log_dir: str = setting("where TensorBoard's event files are written (log_to tensorboard)", default="runs/tensorboard")
    checkpoint_seconds: float = setting("write the resume checkpoint after an epoch once this many seconds have "
                                        "passed since the last one (or since training began); 0 = after every epoch",
                                        default=30.0)
    seed: int = setting("random seed: the same seed gives the same metrics on CPU", default=13)
    valid_fraction: float = setting("share of the training data held out when no validation file is given",
                                    default=0.1)
    ngram_l2: float | str = setting("n-gram evidence: L2 penalty of its logistic regression (per training text); "
                                    "auto = chosen on validation data", default="auto")
    threshold: float | str = setting("multi-label: per-label (each label's threshold chosen on the validation data to "
                                     "maximize its F1) | global (one threshold for all, chosen to maximize micro-F1) "
                                     "| a number in (0, 1) for every label", default="per-label")
    window_training: str = setting("long_text=chunk: how training reads a long text: " + choices_text(WINDOW_TRAINING)
                                   + " (all: every window, logits pooled as at prediction; random: one random "
                                   "window per epoch, cheaper)", default="all")
    calibrate: bool = setting("after training, fit a temperature for the logits on the validation data (temperature "
                              "scaling); it is kept only if it lowers the validation calibration error", default=True)
    threads: int | None = setting("CPU threads for torch; none = the cores this process can get now (its share of "
                                  "the cores, less those other processes keep busy)", default=None)
    device: str = setting("where to train: " + choices_text(DEVICES) + " (auto: a GPU if there is one)",
                          default="auto")
    precision: str = setting(choices_text(PRECISIONS) + " (bf16 and fp16: automatic mixed precision, on CUDA)",
                             default="fp32")

    def validate(self) -> None:
        for name in ("epochs", "batch_size"):
            check_at_least(name, getattr(self, name), 1)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_choice("class_weight", self.class_weight, CLASS_WEIGHT_NAMES)
        check_choice("device", self.device, DEVICES)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("window_training", self.window_training, WINDOW_TRAINING)
        for name in ("warmup", "label_smoothing", "valid_fraction"):
            check_fraction(name, getattr(self, name))
        if self.patience is not None:
            check_at_least("patience", self.patience, 1)
        if self.lr <= 0:
            raise ConfigError(f"must be > 0, got {self.lr}", field="lr")
        check_at_least("weight_decay", self.weight_decay, 0)
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise ConfigError(f"must be > 0 or none, got {self.max_grad_norm}", field="max_grad_norm")
        if self.ngram_l2 != "auto" and not (isinstance(self.ngram_l2, float) and self.ngram_l2 > 0):
            raise ConfigError(f"must be > 0 or auto, got {self.ngram_l2!r}", field="ngram_l2")
        if self.threshold not in THRESHOLD_RULES and not (isinstance(self.threshold, float) and 0 < self.threshold < 1):
            raise ConfigError(f"must be {' or '.join(THRESHOLD_RULES)} or a number in (0, 1), got {self.threshold!r}",
                              field="threshold")
        check_at_least("checkpoint_seconds", self.checkpoint_seconds, 0)
        for name in self.trackers:
            check_choice("log_to", name, TRACKER_NAMES)
        for name in ("threads", "checkpoint_every"):
            if getattr(self, name) is not None:
                check_at_least(name, getattr(self, name), 1)

    @property
    def trackers(self) -> list[str]:
        """The names in `log_to`."""
        return [part.strip() for part in self.log_to.split(",") if part.strip()]
