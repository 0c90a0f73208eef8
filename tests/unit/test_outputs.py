"""Window pooling has one home (`seqclf.outputs`), on NumPy arrays and on PyTorch tensors: both agree."""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from seqclf.outputs import pool_window_tensors, pool_windows

LOGITS = arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(2, 5)),
                elements=st.floats(-30, 30, width=32))


def test_pooled_window_logits_mean_and_max():
    logits = np.array([[1.0, 0.0], [3.0, -2.0], [5.0, 5.0]], dtype=np.float32)
    owners = np.array([0, 0, 1])
    np.testing.assert_allclose(pool_windows(logits, owners, 2, "mean"), [[2.0, -1.0], [5.0, 5.0]])
    np.testing.assert_allclose(pool_windows(logits, owners, 2, "max"), [[3.0, 0.0], [5.0, 5.0]])


@settings(max_examples=60, deadline=None)
@given(logits=LOGITS, how=st.sampled_from(["mean", "max"]), data=st.data())
def test_window_pooling_is_the_same_on_arrays_and_tensors(logits, how, data):
    texts = data.draw(st.integers(1, len(logits)))
    owners = np.sort(np.concatenate([np.arange(texts), data.draw(
        arrays(np.int64, len(logits) - texts, elements=st.integers(0, texts - 1)))]))  # every text has a window
    pooled = pool_window_tensors(torch.from_numpy(logits), torch.from_numpy(owners), texts, how)
    np.testing.assert_allclose(pooled.numpy(), pool_windows(logits, owners, texts, how), rtol=1e-5, atol=1e-5)
