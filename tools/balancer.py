"""A round-robin load balancer on loopback, in front of several webhook replicas of the bot (the scale chaos run).

What a reverse proxy in front of the replicas does: each request goes to the next replica in turn; a replica
that refuses the connection (dead, or not listening yet) is skipped for the next one; when none answers, a
502, which Telegram retries later. It forwards the body and the secret-token header, and counts what each
replica answered.

    async with Balancer({"bot-1": "http://127.0.0.1:8443", "bot-2": "http://127.0.0.1:8444"}) as balancer:
        balancer.url   # http://127.0.0.1:PORT: give it to Telegram (WEBHOOK_URL)
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from typing import Self

import aiohttp
from aiohttp import web

from .loopback import serve_on_loopback

FORWARDED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
TIMEOUT_S = 10.0


class Balancer:
    """Forward every request to the replicas (name -> base URL) in turn, skipping those that refuse the connection."""

    def __init__(self, replicas: Mapping[str, str]) -> None:
        self.replicas = dict(replicas)
        self.url = ""
        self.answered: Counter[str] = Counter()  # replica name -> requests it answered
        self.unavailable = 0  # requests no replica answered (502, 504)
        self._turn = itertools.cycle(range(len(replicas)))
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner, self.url = await serve_on_loopback(app, access_log=None, shutdown_timeout=1.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        """To the next replica that takes the connection; a request a replica took is never sent to another."""
        assert self._session is not None
        body = await request.read()
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        first = next(self._turn)
        names = list(self.replicas)
        for name in names[first:] + names[:first]:
            try:
                async with self._session.request(
                    request.method, self.replicas[name] + request.path_qs, data=body, headers=headers
                ) as response:
                    answer = await response.read()
            except aiohttp.ClientConnectorError:  # refused before anything was sent: the next replica
                continue
            except (aiohttp.ClientError, TimeoutError):  # sent, maybe handled: not sent again (Telegram retries)
                self.unavailable += 1
                return web.Response(status=504, text="the replica did not answer")
            self.answered[name] += 1
            return web.Response(status=response.status, body=answer, content_type=response.content_type)
        self.unavailable += 1
        return web.Response(status=502, text="no replica answered")


__all__ = ["Balancer"]
