"""Timing a function where the pipeline calls it, without changing the pipeline.

`record_calls(owner, "name")` swaps the attribute for a wrapper that times each call, and puts the
original back on exit. The pipeline looks these up at call time (module globals such as
`pipeline.speech.synthesizers.encode_opus`, or a method on a model object), so the real code path is what gets timed.
Only for one request at a time: the sink is a plain list.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TimedCall:
    seconds: float
    detail: Any  # what `describe` saw in the arguments, at call time (arguments may be mutated later)


@contextmanager
def record_calls(owner: Any, name: str, describe: Callable[..., Any] | None = None) -> Iterator[list[TimedCall]]:
    """Record the duration of every call of `owner.name` made inside the block, and `describe(*args)`."""
    own = vars(owner)
    had_own, original = name in own, getattr(owner, name)
    calls: list[TimedCall] = []

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        detail = describe(*args, **kwargs) if describe else None
        started = time.perf_counter()
        result = original(*args, **kwargs)
        calls.append(TimedCall(time.perf_counter() - started, detail))
        return result

    setattr(owner, name, timed)
    try:
        yield calls
    finally:
        if had_own:
            setattr(owner, name, original)
        else:
            delattr(owner, name)


def timed_sync(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result
