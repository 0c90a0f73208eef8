import pytest
import torch
from torch import nn

from seqclf.config import ModelConfig, TrainConfig
from seqclf.nn.classifier import SequenceClassifier
from seqclf.training.history import EpochRecord, History
from seqclf.training.optim import LazyAdam, build_optimizer, lr_multiplier
from seqclf.training.trainer import ReduceOnPlateau, clip_gradients


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


@pytest.mark.parametrize("sparse", [True, False])
def test_optimizer_updates_only_used_rows_when_sparse(sparse):
    torch.manual_seed(0)
    model = SequenceClassifier(ModelConfig(embed_dim=4, hidden_dim=3, bidirectional=False, pooling="last"), 20, 2,
                               sparse_gradients=sparse)
    optimizer = build_optimizer(model, TrainConfig(lr=0.1, sparse_embedding=sparse))
    before = model.embedding.weight.detach().clone()
    logits = model(torch.tensor([[2, 3, 0]]), torch.tensor([2]))
    nn.functional.cross_entropy(logits, torch.tensor([1])).backward()
    optimizer.step()
    changed = (model.embedding.weight != before).any(dim=1).nonzero().flatten().tolist()
    if sparse:
        assert changed == [2, 3]
    else:
        assert {2, 3} <= set(changed)
    assert model.embedding.weight.grad.is_sparse == sparse


def test_lazy_adam_matches_torch_sparse_adam():
    torch.manual_seed(0)
    ours, reference = nn.Embedding(50, 4, sparse=True), nn.Embedding(50, 4, sparse=True)
    reference.load_state_dict(ours.state_dict())
    initial = ours.weight.detach().clone()
    optimizers = LazyAdam(ours.parameters(), lr=0.01), torch.optim.SparseAdam(reference.parameters(), lr=0.01)
    for _ in range(20):
        ids, weights = torch.randint(0, 50, (8, 5)), torch.randn(8, 5, 4)  # repeated ids included
        for embedding, optimizer in zip((ours, reference), optimizers):
            optimizer.zero_grad()
            (embedding(ids) * weights).sum().backward()
            optimizer.step()
    assert not torch.equal(ours.weight, initial)
    assert torch.allclose(ours.weight, reference.weight, atol=1e-6)


def test_reduce_on_plateau_halves_after_each_epoch_without_a_new_best():
    plateau, history = ReduceOnPlateau(), History()
    scales = []
    for epoch, accuracy in enumerate([0.6, 0.7, 0.69, 0.68, 0.75], start=1):
        history.records.append(EpochRecord(epoch, 1.0, 0.5, 1.0, accuracy, 1.0, 1.0, 1e-3))
        plateau.on_epoch_end(history.records[-1], history)
        scales.append(plateau.scale)
    assert scales == [1.0, 1.0, 0.5, 0.25, 0.25]


def test_linear_multiplier():
    schedule = lr_multiplier(TrainConfig(lr_schedule="linear"), total_steps=4)
    assert [schedule(s) for s in range(4)] == [1.0, 0.75, 0.5, 0.25]
    assert lr_multiplier(TrainConfig(), 4)(3) == 1.0


def test_warmup_then_schedule():
    schedule = lr_multiplier(TrainConfig(warmup=0.5, lr_schedule="linear"), total_steps=8)
    assert [schedule(s) for s in range(8)] == [0.25, 0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.25]
    constant = lr_multiplier(TrainConfig(warmup=0.25), total_steps=8)
    assert [constant(s) for s in range(4)] == [0.5, 1.0, 1.0, 1.0]


def test_early_stopping_after_patience_epochs_without_improvement():
    from seqclf.training.trainer import EarlyStopping

    stopping, history = EarlyStopping(patience=2), History()
    for epoch, accuracy in enumerate([0.6, 0.7, 0.69, 0.7, 0.65], start=1):
        history.records.append(EpochRecord(epoch, 1.0, 0.5, 1.0, accuracy, 1.0, 1.0, 1e-3))
        stopping.on_epoch_end(history.records[-1], history)
        if stopping.stop:
            break
    assert epoch == 4  # best at epoch 2; epochs 3 and 4 did not beat it


def test_balanced_class_weights_are_inverse_to_frequency():
    from seqclf.api import _class_weights

    weights = _class_weights(torch.tensor([0, 0, 0, 1]), 3, TrainConfig(class_weight="balanced"))
    assert weights.tolist() == pytest.approx([4 / 9, 4 / 3, 0.0])
    assert _class_weights(torch.tensor([0, 1]), 2, TrainConfig()) is None
