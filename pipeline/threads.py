"""Where CPU-bound model work runs: a small thread pool, off the event loop.

PyTorch, llama.cpp, Bergamot and the TTS engines release the GIL in their native code, so threads give
real parallelism between stages (the caption of one photo while the story of another is written) without
the memory cost of one process per model. Each backend guards its own model with a lock when the model
is not re-entrant.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

BACKGROUND_NICENESS = 10
"""Story writing and speech run at this Linux niceness, so a caption (a short job someone is waiting for) gets
the cores first when photos arrive while stories are being told. Nice only matters when the cores are busy:
alone, a story runs as fast as before. Measured with 10 chats at once: see README, "Desempenho"."""

_executor: ThreadPoolExecutor | None = None
_background: ThreadPoolExecutor | None = None


def _pool_size() -> int:
    return int(os.environ.get("MODEL_THREADS", "0")) or max(4, (os.cpu_count() or 2) * 2)


def cpu_executor() -> ThreadPoolExecutor:
    """The process-wide pool for model calls (created on first use)."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=_pool_size(), thread_name_prefix="model")
    return _executor


def background_executor() -> ThreadPoolExecutor:
    """The pool for the long stages (story, speech), whose threads run at BACKGROUND_NICENESS."""
    global _background
    if _background is None:
        _background = background_pool(_pool_size(), "background")
    return _background


def background_pool(threads: int, name: str) -> ThreadPoolExecutor:
    """A pool whose threads (and the processes and threads they start) yield the CPU to the caption's."""
    return ThreadPoolExecutor(
        max_workers=threads, thread_name_prefix=name, initializer=lower_priority, initargs=(BACKGROUND_NICENESS,)
    )


def lower_priority(niceness: int) -> None:
    """Raise the calling thread's niceness to `niceness` (Linux keeps one per thread; children inherit it).

    Never lowers it: an unprivileged process may not, and a thread once in the background stays there.
    """
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed: run at normal priority
        thread = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, thread) < niceness:
            os.setpriority(os.PRIO_PROCESS, thread, niceness)


async def run_cpu(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` in the model pool and await its result."""
    return await run_in(cpu_executor(), fn, *args, **kwargs)


async def run_background(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` in the background pool (story, speech) and await its result."""
    return await run_in(background_executor(), fn, *args, **kwargs)


async def run_in(executor: Executor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` in `executor` (e.g. a model's own thread) and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


def own_thread(name: str) -> ThreadPoolExecutor:
    """A single background thread for one model. Why: llama.cpp and PyTorch share OpenMP, which keeps one thread
    team per calling thread; a model driven from changing pool threads makes extra teams, and on 2 cores OpenMP
    then sleeps instead of spinning between steps (measured: 8.5 → 14 ms per story token)."""
    return background_pool(1, name)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim (None on other C libraries)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory_soon() -> None:
    """Give back to the system, in the pool and without delaying the caller, the memory a stage freed.

    Why: glibc keeps freed memory in its heaps, so the caption's activations (50-80 MB for a large photo) and a
    voice's audio buffers stayed resident, and the next stage's peak came on top of them (the English voice's
    peak made the bot's 1.1 GB). malloc_trim takes 1-10 ms.
    """
    trim = _malloc_trim()
    if trim is not None:
        cpu_executor().submit(trim, 0)


class ThreadPacer:
    """Picks llama.cpp's thread count between tokens: every core while that is faster, one thread once the cores
    are busy.

    Why: llama.cpp's threads meet at a spinning barrier on every step, so when another process or stage holds a
    core, the team waits for a descheduled thread: measured with other work on the 2 cores, 118-192 ms per token
    with 2 threads against 20 ms with 1 (quiet: 11 against 15 ms). The pacer keeps a moving average of the
    token time of each count, uses the faster, and tries the other for a few tokens now and then (less often
    while it stays slower).
    """

    def __init__(
        self,
        apply: Callable[[int], None],
        most: int,
        clock: Callable[[], float] = time.perf_counter,
        probe_every: int = 32,
        probe_tokens: int = 3,
    ) -> None:
        self._apply, self._clock = apply, clock
        self._most, self._current = most, most
        self._seconds: dict[int, float] = {}  # moving average of seconds per token, by thread count
        self._probe_every, self._probe_tokens = probe_every, probe_tokens
        self._interval, self._until_probe, self._probing = probe_every, probe_every, 0
        self._last: float | None = None

    @property
    def threads(self) -> int:
        return self._current

    def begin(self) -> None:
        """A generation starts: its first token (after the prompt's evaluation) is not timed."""
        self._last = None

    def tick(self) -> None:
        """After each token: time it, then maybe change the count for the next ones."""
        now = self._clock()
        if self._last is not None and self._most > 1:
            previous = self._seconds.get(self._current)
            elapsed = now - self._last
            self._seconds[self._current] = elapsed if previous is None else 0.7 * previous + 0.3 * elapsed
            self._choose()
        self._last = now

    def _choose(self) -> None:
        if self._probing:
            self._probing -= 1
            if not self._probing:
                self._settle()
            return
        self._until_probe -= 1
        if not self._until_probe:
            self._probing = self._probe_tokens
            self._switch(1 if self._current == self._most else self._most)

    def _settle(self) -> None:
        """After a probe: keep the faster count; probe less often while the same count stays the faster."""
        probed = self._current
        other = 1 if probed == self._most else self._most
        faster = probed if self._seconds[probed] < self._seconds.get(other, float("inf")) else other
        self._interval = self._probe_every if faster == probed else min(8 * self._probe_every, 2 * self._interval)
        self._until_probe = self._interval
        self._switch(faster)

    def _switch(self, threads: int) -> None:
        if threads != self._current:
            self._current = threads
            self._apply(threads)


async def stoppable(start: Callable[[threading.Event], Awaitable[str]]) -> str:
    """Await blocking generation started with a stop event, and set it when we stop waiting: cancelled or
    timed out, the model's thread stops within one token (without it, it would write on for nothing)."""
    stop = threading.Event()
    try:
        return await start(stop)
    finally:
        stop.set()  # a no-op when the story is finished
