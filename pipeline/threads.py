"""Where CPU-bound model work runs: a small thread pool, off the event loop.

PyTorch, llama.cpp, Bergamot and the TTS engines release the GIL in their native code, so threads give
real parallelism between stages (the caption of one photo while the story of another is written) without
the memory cost of one process per model. Each backend guards its own model with a lock when the model
is not re-entrant.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None


def cpu_executor() -> ThreadPoolExecutor:
    """The process-wide pool for model calls (created on first use)."""
    global _executor
    if _executor is None:
        threads = int(os.environ.get("MODEL_THREADS", "0")) or max(4, (os.cpu_count() or 2) * 2)
        _executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="model")
    return _executor


async def run_cpu(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` in the model pool and await its result."""
    return await run_in(cpu_executor(), fn, *args, **kwargs)


async def run_in(executor: Executor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` in `executor` (e.g. a model's own thread) and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


def own_thread(name: str) -> ThreadPoolExecutor:
    """A single thread for one model. Why: llama.cpp and PyTorch share OpenMP, which keeps one thread team
    per calling thread; a model driven from changing pool threads makes extra teams, and on 2 cores OpenMP
    then sleeps instead of spinning between steps (measured: 8.5 → 14 ms per story token)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


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
