"""Micro-batching for the server: concurrent requests' texts go to the model in one call.

A model call per HTTP request wastes the batch dimension. `MicroBatcher` keeps the requests that
arrive while the model is busy (or, when it is idle, for at most `max_wait` seconds after the first
one) and runs them as one batch of at most `max_texts` texts (whole requests, never split), in a
worker thread so that the event loop keeps accepting requests. Each request gets its own rows of the
result. If a batch fails, its requests are run one by one, so that only the request at fault fails.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class _Request:
    texts: Sequence[str]
    future: asyncio.Future


class MicroBatcher:
    """`await batcher(texts)` is `predict(texts)`, with other requests' texts in the same model call."""

    def __init__(self, predict: Callable[[list[str]], np.ndarray | tuple[np.ndarray, ...]], max_texts: int = 256, max_wait: float = 0.002):
        self.predict, self.max_texts, self.max_wait = predict, max_texts, max_wait
        self.waiting: list[_Request] = []
        self.arrived: asyncio.Event | None = None  # made in the event loop that serves
        self.worker: asyncio.Task | None = None

    async def __call__(self, texts: Sequence[str]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        if self.worker is None or self.worker.get_loop() is not loop:  # first call, or a new event loop
            self.waiting, self.arrived = [], asyncio.Event()
            self.worker = loop.create_task(self._serve())
        request = _Request(texts, loop.create_future())
        self.waiting.append(request)
        self.arrived.set()
        return await request.future

    async def _serve(self) -> None:
        busy = False  # the previous batch has just run: what waits now waited for it, no need to wait more
        while True:
            if not self.waiting:
                self.arrived.clear()
                await self.arrived.wait()
                busy = False
            if not busy and self.max_wait > 0 and self._texts_waiting() < self.max_texts:
                await asyncio.sleep(self.max_wait)  # the model is idle: let concurrent requests join
            batch = self._take()
            await asyncio.to_thread(self._run, batch)
            busy = True

    def _texts_waiting(self) -> int:
        return sum(len(request.texts) for request in self.waiting)

    def _take(self) -> list[_Request]:
        """The first requests waiting, up to max_texts texts in all (at least one request)."""
        taken, texts = 0, 0
        while taken < len(self.waiting) and (taken == 0 or texts + len(self.waiting[taken].texts) <= self.max_texts):
            texts += len(self.waiting[taken].texts)
            taken += 1
        batch, self.waiting = self.waiting[:taken], self.waiting[taken:]
        return batch

    def _run(self, batch: list[_Request]) -> None:
        """In a worker thread: one model call for the batch; on failure, one per request."""
        loop = batch[0].future.get_loop()
        try:
            rows = self.predict([text for request in batch for text in request.texts])
        except Exception:  # noqa: BLE001 - isolate the request at fault below
            for request in batch:
                self._answer_alone(loop, request)
            return
        start = 0
        for request in batch:
            end = start + len(request.texts)
            part = tuple(r[start:end] for r in rows) if isinstance(rows, tuple) else rows[start:end]
            loop.call_soon_threadsafe(_settle, request.future, part, None)
            start = end

    def _answer_alone(self, loop: asyncio.AbstractEventLoop, request: _Request) -> None:
        try:
            loop.call_soon_threadsafe(_settle, request.future, self.predict(list(request.texts)), None)
        except Exception as exc:  # noqa: BLE001 - the request's own error, answered by its handler
            loop.call_soon_threadsafe(_settle, request.future, None, exc)


def _settle(future: asyncio.Future, result: object, error: BaseException | None) -> None:
    if future.done():  # the client went away and the request was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
