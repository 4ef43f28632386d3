"""Start an aiohttp application on a host and port: the media server's and the health/metrics server's way."""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """The started runner and the port it bound (port 0 picks a free one). A bind that fails (a busy port)
    raises OSError and leaves nothing running."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]
