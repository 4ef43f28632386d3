"""Telegram calls that may meet a timeout, a dropped connection or a 5xx: retried a few times with backoff.

Telegram may have acted on a call whose answer was lost: a retry can then repeat it (README, "Nothing lost").
Errors that say something about the request itself (bad request, forbidden) are not retried; 429s are the
rate limiter's (they wait their retry_after there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import NetworkError, TimedOut

T = TypeVar("T")
TELEGRAM_ATTEMPTS = 3


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, retried with backoff on timeouts, dropped connections and server errors."""
    for attempt in range(1, TELEGRAM_ATTEMPTS + 1):
        try:
            return await call()
        except (NetworkError, TimeoutError) as exc:
            if attempt == TELEGRAM_ATTEMPTS or (isinstance(exc, NetworkError) and not is_transient(exc)):
                raise
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


def is_transient(exc: NetworkError) -> bool:
    """Timeouts, dropped connections and server errors are worth retrying; 'file is too big' and the like are not."""
    return isinstance(exc, TimedOut) or type(exc) is NetworkError
