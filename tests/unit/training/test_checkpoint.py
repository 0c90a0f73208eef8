"""Faults during training: a non-finite loss, a failing disk, a checkpoint from another run."""
import errno

import pytest
import torch
from helpers import TINY

import seqclf.training.member as member
from seqclf import ModelDirError, TextClassifier
from seqclf.model_files import CHECKPOINT
from seqclf.training.checkpoint import load_checkpoint
from seqclf.training.trainer import Callback, NonFiniteLoss


class PoisonAt(Callback):
    """Sets the head's weights to NaN after `step` steps of `epoch`: the next loss is NaN."""

    def __init__(self, model_holder, epoch, step):
        self.holder, self.epoch, self.step, self.current = model_holder, epoch, step, 0

    def on_epoch_begin(self, epoch, steps):
        self.current = epoch

    def on_step_end(self, step, loss):
        if self.current == self.epoch and step == self.step:
            with torch.no_grad():
                self.holder["model"].head.weight.fill_(float("nan"))


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(demo_data, tmp_path, monkeypatch):
    texts, labels = demo_data
    holder, real_model = {}, member.SequenceClassifier

    def capture(*args, **kwargs):
        holder["model"] = real_model(*args, **kwargs)
        return holder["model"]

    monkeypatch.setattr(member, "SequenceClassifier", capture)
    clf = TextClassifier(**{**TINY, "epochs": 3})
    with pytest.raises(NonFiniteLoss, match=r"loss became nan at epoch 2, step 4.*last checkpoint is kept"):
        clf.fit(texts, labels, checkpoint_dir=tmp_path, callbacks=[PoisonAt(holder, epoch=2, step=3)])
    state = load_checkpoint(tmp_path)
    assert (state["progress"]["epoch"], state["progress"]["step"]) == (2, 0)  # the end of epoch 1
    assert all(torch.isfinite(t).all() for t in state["model"].values())


def test_a_failing_checkpoint_write_leaves_the_previous_checkpoint(demo_data, tmp_path, monkeypatch):
    texts, labels = demo_data
    TextClassifier(**{**TINY, "epochs": 1}).fit(texts, labels, checkpoint_dir=tmp_path)
    before = (tmp_path / CHECKPOINT).read_bytes()

    def full_disk(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", filename)

    monkeypatch.setattr("seqclf.training.checkpoint.save_file", full_disk)
    with pytest.raises(OSError, match="No space left"):
        TextClassifier(**{**TINY, "epochs": 1}).fit(texts, labels, checkpoint_dir=tmp_path)
    assert (tmp_path / CHECKPOINT).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT]  # no temporary file left behind


def test_resume_refuses_other_data_and_damaged_checkpoints(demo_data, tmp_path):
    texts, labels = demo_data
    TextClassifier(**TINY).fit(texts, labels, checkpoint_dir=tmp_path)
    with pytest.raises(ModelDirError, match="other data"):
        TextClassifier(**TINY).fit(texts[:-10], labels[:-10], checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ModelDirError, match="other settings: embed_dim"):
        TextClassifier(**{**TINY, "embed_dim": 7}).fit(texts, labels, checkpoint_dir=tmp_path, resume=True)
    auto = {**TINY, "max_len": "auto"}  # other data resolves another max_len: the data is what changed
    TextClassifier(**auto).fit(texts, labels, checkpoint_dir=tmp_path / "auto")
    longer = [text + " and then some more words" for text in texts]
    with pytest.raises(ModelDirError, match=r"other data \(or another split or vocabulary\) \(resume"):
        TextClassifier(**auto).fit(longer, labels, checkpoint_dir=tmp_path / "auto", resume=True)
    data = (tmp_path / CHECKPOINT).read_bytes()
    (tmp_path / CHECKPOINT).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelDirError, match="cannot read the checkpoint"):
        TextClassifier(**TINY).fit(texts, labels, checkpoint_dir=tmp_path, resume=True)
    (tmp_path / CHECKPOINT).unlink()
    with pytest.raises(ModelDirError, match="no checkpoint to resume from"):
        TextClassifier(**TINY).fit(texts, labels, checkpoint_dir=tmp_path, resume=True)
