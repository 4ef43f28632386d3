"""A loopback stand-in for Google Translate's `translate_a/single` endpoint (the one googletrans calls).

`mode` chooses the behaviour of the next requests: "ok" answers like the real gtx endpoint with
"[pt] " + the text, "error" answers 500, "garbage" answers 200 with something that is not JSON,
"hang" waits (at most `hang_s`, and never past stop()) before answering.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

from aiohttp import web

from .loopback import serve_on_loopback

Mode = Literal["ok", "error", "garbage", "hang"]


class FakeGoogleTranslate:
    def __init__(self, hang_s: float = 10.0) -> None:
        self.mode: Mode = "ok"
        self.hang_s = hang_s
        self.requests: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()
        self.url = ""

    @staticmethod
    def translation_of(text: str) -> str:
        return f"[pt] {text}"

    async def _translate(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        if self.mode == "error":
            return web.Response(status=500, text="internal error")
        if self.mode == "garbage":
            return web.Response(text="<html>captcha</html>", content_type="text/html")
        if self.mode == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self.hang_s)
        text = request.query.get("q", "")
        body = [[[self.translation_of(text), text, None, None, 3]], None, request.query.get("sl", "en")]
        return web.json_response(body)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/translate_a/single", self._translate)
        self._runner, self.url = await serve_on_loopback(app)
        return self.url

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
