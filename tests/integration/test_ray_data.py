"""Batch prediction with Ray Data on a local cluster of 2 CPUs started by the test (no network): the
stateful `map_batches` class labels every line of a file exactly as `seqclf predict` does."""
import json

import pytest

from helpers import seqclf

ray = pytest.importorskip("ray", reason="the ray extra (pip install 'seqclf[ray]'); make test installs it")


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_data_labels_every_line_as_seqclf_predict_does(local_cluster, fitted, model_dir, demo_data, tmp_path):
    from seqclf.ray_data import SeqclfPredictor

    texts = [*demo_data[0][:300], "   ", "a text with <pad> and ünïcode", "good " * 200]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    expected = [json.loads(line) for line in seqclf("predict", model_dir, "--input", path).stdout.splitlines()]

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # rows come back in the file's order
    labeled = ray.data.read_text(str(path), drop_empty_lines=False).map_batches(
        SeqclfPredictor, fn_constructor_kwargs={"model": str(model_dir)}, compute=ray.data.ActorPoolStrategy(size=2),
        num_cpus=0.5, batch_size=64)  # half a CPU each: the read tasks get the rest of the 2

    rows = labeled.take_all()

    assert [row["text"] for row in rows] == texts
    for row, want in zip(rows, expected):
        assert row["label"] == want["label"]
        if want["label"] is None:
            assert row["probabilities"] is None and row["error"] == "empty text" and "empty text" in want["error"]
        else:
            assert row["probabilities"] == pytest.approx(want["probabilities"], abs=1e-6) and row["error"] is None
            assert list(row["probabilities"]) == sorted(want["probabilities"], key=fitted.classes_.index)
