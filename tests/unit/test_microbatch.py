import asyncio
import threading

import numpy as np

from seqclf.microbatch import MicroBatcher


class Model:
    """Counts its calls; a text 'bad' makes a call fail; answers each text with its length."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.calls, self.seconds, self.lock = [], seconds, threading.Lock()

    def __call__(self, texts):
        with self.lock:
            self.calls.append(list(texts))
        if "bad" in texts:
            raise ValueError("bad text")
        threading.Event().wait(self.seconds)
        return np.array([[len(text)] for text in texts])


def run(batcher, requests):
    async def main():
        return await asyncio.gather(*(batcher(texts) for texts in requests), return_exceptions=True)
    return asyncio.run(main())


def test_concurrent_requests_share_one_call_and_get_their_own_rows():
    model = Model()
    results = run(MicroBatcher(model, max_texts=100, max_wait=0.01), [["a"], ["bb", "ccc"], ["dddd"]])
    assert [r.ravel().tolist() for r in results] == [[1], [2, 3], [4]]
    assert model.calls == [["a", "bb", "ccc", "dddd"]]


def test_batches_are_bounded_and_requests_never_split():
    model = Model()
    results = run(MicroBatcher(model, max_texts=3, max_wait=0.01), [["a", "b"], ["c", "d"], ["e"]])
    assert [len(r) for r in results] == [2, 2, 1]
    assert model.calls == [["a", "b"], ["c", "d", "e"]]


def test_a_failing_request_fails_alone():
    model = Model()
    results = run(MicroBatcher(model, max_texts=100, max_wait=0.01), [["fine"], ["bad"], ["also fine"]])
    assert results[0].ravel().tolist() == [4] and results[2].ravel().tolist() == [9]
    assert isinstance(results[1], ValueError)


def test_requests_that_arrive_while_the_model_works_form_the_next_batch():
    model = Model(seconds=0.05)

    async def main():
        batcher = MicroBatcher(model, max_texts=100, max_wait=0.0)
        first = asyncio.ensure_future(batcher(["one"]))
        await asyncio.sleep(0.01)  # the model is busy with "one"
        later = await asyncio.gather(batcher(["two"]), batcher(["three"]))
        return await first, later

    first, later = asyncio.run(main())
    assert model.calls == [["one"], ["two", "three"]]


def test_a_new_event_loop_gets_a_new_worker():
    model = Model()
    batcher = MicroBatcher(model, max_texts=10, max_wait=0.0)
    assert run(batcher, [["x"]])[0].ravel().tolist() == [1]
    assert run(batcher, [["yy"]])[0].ravel().tolist() == [2]  # the first loop is closed by now
