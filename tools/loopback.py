"""Starting a test server on 127.0.0.1 (a free port), the one way every fake in these tests does it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, Self

from aiohttp import web


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server that must be told its port before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def serve_on_loopback(app: web.Application, port: int = 0, **runner_options: Any) -> tuple[web.AppRunner, str]:
    """Run `app` on 127.0.0.1:<free port> (or `port`); returns the runner (to clean up) and the root URL."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


class LoopbackFake:
    """Base of the fake HTTP services: `add_routes` says what they answer; `hang()` holds a request
    until `hang_s` passes or the fake stops, so a test can exercise a client's timeout."""

    def __init__(self, hang_s: float) -> None:
        self.hang_s = hang_s
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        raise NotImplementedError

    async def hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.hang_s)

    async def start(self) -> str:
        app = web.Application()
        self.add_routes(app.router)
        self._runner, self.url = await serve_on_loopback(app)
        return self.url

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
