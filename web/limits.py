"""Who is asking and how often: the client's address (behind a trusted proxy, the last X-Forwarded-For) and a
sliding window of stories started per address per minute. The limit on stories waiting or running per address
is the admission queue's, under the key `IP_KEY`.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from aiohttp import web

from . import texts
from .problems import Problem

__all__ = ["IP_KEY", "RateWindow", "client_ip"]

IP_KEY = "web_ip"  # the admission queue's key for the page's stories, one value per address (WEB_PER_IP_JOBS)


class RateWindow:
    """At most `limit` events per key in any `window_s` seconds (a sliding window); keeps `max_keys` keys."""

    def __init__(
        self, limit: int, window_s: float = 60.0, *, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> float:
        """0 when `key` may go now, else the seconds until it may."""
        times = self._seen.get(key)
        if times is None:
            return 0.0
        now = self._clock()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return 0.0 if len(times) < self.limit else times[0] + self.window_s - now

    def note(self, key: str) -> None:
        """Count one event for `key` now."""
        times = self._seen.pop(key, deque())
        times.append(self._clock())
        self._seen[key] = times  # most recent last
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)

    def check(self, key: str) -> None:
        """Raise the 429 answer (with Retry-After) when `key` has started its stories for this minute."""
        wait = self.retry_after(key)
        if wait > 0:
            raise Problem(429, "rate_limited", texts.IP_PER_MINUTE, retry_after=max(1, round(wait)))


def client_ip(request: web.Request, *, trust_proxy: bool) -> str:
    """The client's address: the last X-Forwarded-For one behind a trusted proxy (WEB_TRUST_PROXY), else the peer."""
    if trust_proxy and (forwarded := request.headers.get("X-Forwarded-For", "").strip()):
        return forwarded.split(",")[-1].strip()
    return request.remote or "unknown"
