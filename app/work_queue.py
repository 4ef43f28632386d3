"""A bounded, fair admission queue for pipeline jobs — in front of the in-process pipeline or the Redis one.

Why not just `asyncio.create_task` per photo: on 2 cores, ten simultaneous stories are each ten times
slower and memory grows with the crowd. Here at most `max_running` jobs run at once, in arrival order, the
waiting line has a maximum length, and each key (a user, a chat) may only hold so many running+waiting
jobs. Callers learn their place in line, and get a specific exception when the line is full.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import KeyLimitReached, QueueClosed, QueueFull

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Job:
    run: Callable[[], Awaitable[Any]]
    keys: tuple[Hashable, ...]
    done: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(frozen=True)
class Ticket:
    """A submitted job: its place in line when submitted (0 = starts now) and its outcome."""

    position: int
    result: asyncio.Future[Any]


class WorkQueue:
    """Run at most `max_running` jobs at once, keep at most `max_waiting` in line, `per_key` per key."""

    def __init__(self, *, max_running: int, max_waiting: int, per_key: dict[str, int] | None = None) -> None:
        self.max_running = max_running
        self.max_waiting = max_waiting
        self.per_key = per_key or {}
        self._waiting: list[_Job] = []
        self._running: set[_Job] = set()
        self._held: Counter[Hashable] = Counter()
        self._wakeup = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.longest_line = 0

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def running(self) -> int:
        return len(self._running)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run_jobs(), name=f"slot-{i}") for i in range(self.max_running)]

    def position(self, ticket: Ticket) -> int:
        """Current place in line (1 = next), or 0 once running, finished, or about to start."""
        idle = self.max_running - len(self._running)
        for index, job in enumerate(self._waiting, start=1):
            if job.done is ticket.result:
                return max(0, index - idle)
        return 0

    def withdraw(self, ticket: Ticket) -> bool:
        """Take a job that has not started out of line (its result is cancelled); False if it had started."""
        for job in self._waiting:
            if job.done is ticket.result:
                self._waiting.remove(job)
                self._release(job)
                job.done.cancel()
                return True
        return False

    async def submit(self, run: Callable[[], Awaitable[Any]], keys: Sequence[tuple[str, Hashable]] = ()) -> Ticket:
        """Queue `run()`; keys are (kind, value) pairs like ("user", 42), limited by `per_key[kind]`."""
        if self._closed:
            raise QueueClosed("shutting down")
        for kind, value in keys:
            limit = self.per_key.get(kind)
            if limit is not None and self._held[(kind, value)] >= limit:
                raise KeyLimitReached((kind, value))
        idle = self.max_running - len(self._running)
        if len(self._waiting) - idle >= self.max_waiting:
            raise QueueFull(f"{len(self._waiting)} waiting")
        job = _Job(run, tuple(keys))
        self._held.update(job.keys)
        async with self._wakeup:
            self._waiting.append(job)
            self.longest_line = max(self.longest_line, len(self._waiting))
            self._wakeup.notify()
        return Ticket(max(0, len(self._waiting) - idle), job.done)

    async def _run_jobs(self) -> None:
        """One running slot: takes the next waiting job, runs it, and so on until the queue closes."""
        while True:
            async with self._wakeup:
                await self._wakeup.wait_for(lambda: bool(self._waiting) or self._closed)
                if not self._waiting:
                    return
                job = self._waiting.pop(0)
            self._running.add(job)
            try:
                job.done.set_result(await job.run())
            except asyncio.CancelledError:
                job.done.cancel()
                raise
            except Exception as exc:  # delivered to the submitter, who decides what to tell the user
                job.done.set_exception(exc)
            finally:
                self._running.discard(job)
                self._release(job)

    def _release(self, job: _Job) -> None:
        """The job no longer counts against its keys' limits."""
        self._held.subtract(job.keys)
        self._held += Counter()  # drop zero counts so the counter stays small

    async def close(self, deadline_s: float) -> None:
        """Stop accepting, let running and waiting jobs finish within `deadline_s`, then cancel the rest."""
        self._closed = True
        async with self._wakeup:
            self._wakeup.notify_all()
        _, pending = await asyncio.wait(self._tasks, timeout=deadline_s) if self._tasks else (set(), set())
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for job in self._waiting:
            job.done.cancel()
        if pending:
            log.warning("work queue closed with cancelled jobs", extra={"cancelled": len(pending)})
