"""Starting a test server on 127.0.0.1 (a free port), the one way every fake in these tests does it."""

from __future__ import annotations

from aiohttp import web


async def serve_on_loopback(app: web.Application, **runner_options: object) -> tuple[web.AppRunner, str]:
    """Run `app` on 127.0.0.1:<free port>; returns the runner (to clean up) and the root URL."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"
