"""Micro-batching: gather requests until ``max_batch`` are waiting or the oldest has waited
``max_wait_ms``, then hand them to one handler call (one forward pass for the lot)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

class MicroBatcher(Generic[T, R]):
    """``await submit(x)`` → the handler's result for ``x``. ``handler`` maps a batch to a
    list of results in the same order; it runs in a thread so the event loop stays free."""

    def __init__(self, handler: Callable[[Sequence[T]], list[R]], max_batch: int = 64,
                 max_wait_ms: float = 5.0,
                 on_batch: Callable[[int, float], None] | None = None) -> None:
        self.handler = handler
        self.on_batch = on_batch  # (batch size, handler seconds) after each batch
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000.0
        self.batches = 0
        self.requests = 0
        self.batch_sizes: list[int] = []  # last batches' sizes (bounded), for /health
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, fut))
        return await fut

    async def _collect(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch = [await self._queue.get()]
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), left))
            except TimeoutError:
                break
        while len(batch) < self.max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())  # whatever queued while we waited
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._collect()
            items = [x for x, _ in batch]
            started = time.perf_counter()
            try:
                results = await asyncio.to_thread(self.handler, items)
            except Exception as e:  # noqa: BLE001 - every waiter gets the error
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            self.batches += 1
            self.requests += len(batch)
            self.batch_sizes = [*self.batch_sizes[-99:], len(batch)]
            if self.on_batch is not None:
                self.on_batch(len(batch), time.perf_counter() - started)
            for (_, fut), res in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(res)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

async def run_all(batcher: MicroBatcher[T, R], items: Sequence[T]) -> list[R]:
    """Submit ``items`` concurrently (helper for benchmarks and tests)."""
    return await asyncio.gather(*(batcher.submit(x) for x in items))
