import pytest
import torch
from torch import nn

from seqclf.training.history import EpochRecord, History
from seqclf.training import trainer as trainer_module
from seqclf.training.trainer import Batch, EarlyStopping, ReduceOnPlateau, Trainer, clip_gradients


def test_clipping_counts_sparse_gradients_like_dense_ones():
    dense_embedding = nn.Embedding(10, 3)
    sparse_embedding = nn.Embedding(10, 3, sparse=True)
    sparse_embedding.weight.data.copy_(dense_embedding.weight.data)
    ids = torch.tensor([1, 1, 4, 7])  # a repeated row: its gradients add up
    for embedding in (dense_embedding, sparse_embedding):
        (embedding(ids) * torch.arange(12.0).view(4, 3)).sum().backward()
    clip_gradients([dense_embedding.weight], 1.0)
    clip_gradients([sparse_embedding.weight], 1.0)
    assert torch.allclose(sparse_embedding.weight.grad.to_dense(), dense_embedding.weight.grad)
    assert torch.linalg.vector_norm(dense_embedding.weight.grad).item() == pytest.approx(1.0, abs=1e-5)


def test_clipping_leaves_small_gradients_alone():
    weight = nn.Parameter(torch.zeros(3))
    weight.grad = torch.tensor([0.1, 0.2, 0.2])
    clip_gradients([weight], 5.0)
    assert weight.grad.tolist() == pytest.approx([0.1, 0.2, 0.2])


def test_reduce_on_plateau_halves_after_each_epoch_without_a_new_best():
    plateau, history = ReduceOnPlateau(), History()
    scales = []
    for epoch, accuracy in enumerate([0.6, 0.7, 0.69, 0.68, 0.75], start=1):
        history.records.append(EpochRecord(epoch, 1.0, 0.5, 1.0, accuracy, 1.0, 1.0, 1e-3))
        plateau.on_epoch_end(history.records[-1], history)
        scales.append(plateau.scale)
    assert scales == [1.0, 1.0, 0.5, 0.25, 0.25]


def test_early_stopping_after_patience_epochs_without_improvement():
    stopping, history = EarlyStopping(patience=2), History()
    for epoch, accuracy in enumerate([0.6, 0.7, 0.69, 0.7, 0.65], start=1):
        history.records.append(EpochRecord(epoch, 1.0, 0.5, 1.0, accuracy, 1.0, 1.0, 1e-3))
        stopping.on_epoch_end(history.records[-1], history)
        if stopping.stop:
            break
    assert epoch == 4  # best at epoch 2; epochs 3 and 4 did not beat it


@pytest.mark.parametrize("seconds, written", [(0.0, [2, 3, 4]), (0.05, [3]), (3600.0, [])])
def test_an_epoch_checkpoint_waits_until_checkpoint_seconds_have_passed(seconds, written, monkeypatch):
    """Epochs of 0.03 s (on a clock of the test's): every one checkpointed with 0; with 0.05, the first epoch
    that ends 0.05 s after the start (or the last checkpoint); with an hour, none."""
    model = nn.Linear(2, 2)
    batch = Batch((torch.ones(4, 2),), torch.tensor([0, 1, 0, 1]), tokens=4)
    clock = [0.0]
    monkeypatch.setattr(trainer_module.time, "monotonic", lambda: clock[0])

    def slow_batches(epoch):
        clock[0] += 0.03
        return [batch]

    epochs_after: list[int] = []
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.functional.cross_entropy,
                      checkpoint=lambda progress: epochs_after.append(progress.epoch), checkpoint_seconds=seconds)
    trainer.fit(3, slow_batches, steps_per_epoch=1)
    assert epochs_after == written  # Progress.epoch: the epoch a resume would start
