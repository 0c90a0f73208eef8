"""Distributed pieces that run in one process: the sharded bucketing sampler, devices, precision."""
import numpy as np
import pytest
import torch

from seqclf.text.batching import BucketSampler, merge_small
from seqclf.errors import ConfigError
from seqclf.training.distributed import Cluster, check_precision, join_cluster, resolve_device


@pytest.mark.parametrize("world_size", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("n, batch_size", [(1000, 32), (1001, 64), (97, 8), (10, 3)])
def test_every_example_once_per_epoch_across_ranks(world_size, n, batch_size):
    lengths = np.random.default_rng(0).integers(1, 60, size=n)
    samplers = [BucketSampler(lengths, batch_size, seed=5, rank=r, world_size=world_size) for r in range(world_size)]
    previous = None
    for _ in range(3):  # several epochs: a new order each time, the same on every rank
        shares = [list(sampler.epoch()) for sampler in samplers]
        assert len({len(batches) for batches in shares}) == 1  # every rank steps the same number of times
        assert all(len(batch) > 0 for batches in shares for batch in batches)
        seen = np.concatenate([batch for batches in shares for batch in batches])
        assert np.array_equal(np.sort(seen), np.arange(n))  # each example exactly once
        order = np.concatenate([np.concatenate(batches) for batches in shares])
        assert previous is None or not np.array_equal(order, previous)  # reshuffled per epoch
        previous = order


def test_one_process_gets_the_single_process_batches():
    lengths = np.random.default_rng(1).integers(1, 40, size=500)
    alone = [b.copy() for b in BucketSampler(lengths, 16, seed=3).epoch()]
    first_of_one = [b.copy() for b in BucketSampler(lengths, 16, seed=3, rank=0, world_size=1).epoch()]
    assert all(np.array_equal(a, b) for a, b in zip(alone, first_of_one, strict=True))


def test_ranks_share_each_global_batch_with_similar_lengths():
    lengths = np.random.default_rng(2).integers(1, 100, size=4000)
    global_batches = list(BucketSampler(lengths, 64, seed=9).epoch())
    shares = [list(BucketSampler(lengths, 64, seed=9, rank=r, world_size=2).epoch()) for r in range(2)]
    for batch, first, second in zip(global_batches, *shares, strict=True):
        assert np.array_equal(np.sort(np.concatenate([first, second])), np.sort(batch))
        assert abs(int(lengths[first].max()) - int(lengths[second].max())) <= 2  # both halves bucketed alike


def test_small_batches_are_merged_so_no_rank_goes_empty():
    merged = merge_small([np.arange(5), np.arange(5, 6), np.arange(6, 10)], smallest=3)
    assert [len(b) for b in merged] == [6, 4]
    with pytest.raises(ValueError, match="cannot be shared"):
        BucketSampler(np.ones(2, dtype=int), 8, seed=0, rank=0, world_size=3)


def test_a_single_process_is_a_cluster_of_one(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    cluster = join_cluster("cpu")
    assert cluster == Cluster() and cluster.is_main and not cluster.distributed
    assert cluster.sum([1.5, 2.0]) == [1.5, 2.0] and cluster.gather("x") == ["x"]
    assert cluster.to_device(torch.ones(2)).device.type == "cpu"


def test_devices_and_precisions_are_checked():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ConfigError) as caught:
        resolve_device("tpu")
    assert caught.value.field == "device"
    assert check_precision("fp32", torch.device("cpu")) is None
    with pytest.raises(ConfigError, match="needs a CUDA device"):
        check_precision("bf16", torch.device("cpu"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_asking_for_cuda_without_one_is_a_clear_error():
    with pytest.raises(ConfigError, match="no CUDA device"):
        resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_training_on_cuda_with_mixed_precision(demo_data, precision):
    from seqclf import TextClassifier
    from helpers import TINY

    clf = TextClassifier(**TINY, device="cuda", precision=precision).fit(*demo_data)
    assert clf.model.head.weight.device.type == "cuda"
    assert clf.history.records[-1].train_loss < clf.history.records[0].train_loss * 1.5
    assert len(clf.predict(demo_data[0][:10])) == 10 and clf.trace(demo_data[0][0]).to_dict()


def _average_in_process(rank: int, store_file: str, results: str) -> None:
    """One of two gloo processes: an embedding whose rows used differ by rank (rank 1 uses none); the sparse
    gradients averaged by `Cluster.data_parallel`'s hook, written for the parent to check."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store_file}", rank=rank, world_size=2)
    try:
        torch.manual_seed(rank)  # different starting weights: data_parallel makes them rank 0's
        model = torch.nn.Sequential(torch.nn.Embedding(10, 3, padding_idx=0, sparse=True), torch.nn.Linear(3, 1))
        cluster = Cluster(rank, 2, rank, 2, torch.device("cpu"))
        wrapped, average_sparse_gradients = cluster.data_parallel(model)
        ids = torch.tensor([[1, 2, 2, 5]]) if rank == 0 else torch.tensor([[0, 0, 0, 0]])  # rank 1: padding only
        wrapped(ids).sum().backward()
        own = model[0].weight.grad.to_dense().clone()
        average_sparse_gradients()
        torch.save({"own": own, "averaged": model[0].weight.grad.to_dense(), "weights": model[0].weight.detach(),
                    "linear": model[1].weight.grad}, f"{results}/{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_sparse_gradients_are_averaged_over_two_real_processes(tmp_path):
    """DDP leaves the sparse embedding out; the hook gives each process the mean of both ranks' sparse gradients,
    the same on both, with the dense layer averaged by DDP and the starting weights rank 0's everywhere."""
    torch.multiprocessing.spawn(_average_in_process, args=(str(tmp_path / "store"), str(tmp_path)), nprocs=2)
    first, second = (torch.load(tmp_path / f"{rank}.pt") for rank in (0, 1))
    expected = (first["own"] + second["own"]) / 2
    assert torch.equal(first["averaged"], second["averaged"])
    assert torch.allclose(first["averaged"], expected) and first["averaged"][2].abs().sum() > 0
    assert torch.equal(first["weights"], second["weights"]) and torch.equal(first["linear"], second["linear"])
