"""The bounded work queue: order, limits, places in line, failures isolated, shutdown deadline."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from app.errors import KeyLimitReached, QueueClosed, QueueFull
from app.work_queue import WorkQueue


async def test_runs_at_most_max_running_at_once_and_reports_positions() -> None:
    queue = WorkQueue(max_running=2, max_waiting=10)
    queue.start()
    gate = asyncio.Event()
    running = 0
    peak = 0

    async def job(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1
        return i

    tickets = [await queue.submit(partial(job, i)) for i in range(5)]
    assert [t.position for t in tickets] == [0, 0, 1, 2, 3]
    await asyncio.sleep(0.01)
    assert queue.position(tickets[4]) == 3
    gate.set()
    assert await asyncio.gather(*(t.result for t in tickets)) == [0, 1, 2, 3, 4]
    assert peak == 2
    await queue.close(1)


async def test_full_line_and_per_key_limits() -> None:
    queue = WorkQueue(max_running=1, max_waiting=2, per_key={"user": 2})
    queue.start()
    gate = asyncio.Event()
    await queue.submit(gate.wait, [("user", 1)])
    await queue.submit(gate.wait, [("user", 1)])
    with pytest.raises(KeyLimitReached):
        await queue.submit(gate.wait, [("user", 1)])
    await queue.submit(gate.wait, [("user", 2)])
    with pytest.raises(QueueFull):
        await queue.submit(gate.wait, [("user", 3)])
    gate.set()
    await asyncio.sleep(0.05)
    ticket = await queue.submit(gate.wait, [("user", 1)])  # the limit frees up when jobs end
    await ticket.result
    await queue.close(1)


async def test_a_failing_job_does_not_stop_the_others() -> None:
    queue = WorkQueue(max_running=1, max_waiting=5)
    queue.start()

    async def boom() -> None:
        raise RuntimeError("backend exploded")

    async def fine() -> str:
        return "ok"

    bad = await queue.submit(boom)
    good = await queue.submit(fine)
    with pytest.raises(RuntimeError):
        await bad.result
    assert await good.result == "ok"
    await queue.close(1)


async def test_close_cancels_what_misses_the_deadline() -> None:
    queue = WorkQueue(max_running=1, max_waiting=5)
    queue.start()
    slow = await queue.submit(lambda: asyncio.sleep(30))
    waiting = await queue.submit(lambda: asyncio.sleep(0))
    await asyncio.sleep(0.01)
    await queue.close(0.1)
    assert slow.result.cancelled() and waiting.result.cancelled()
    with pytest.raises(QueueClosed):
        await queue.submit(lambda: asyncio.sleep(0))
