"""A loopback stand-in for Google Translate's `translate_a/single` endpoint (the one googletrans calls).

`mode` chooses the behaviour of the next requests: "ok" answers like the real gtx endpoint with
"[pt] " + the text, "error" answers 500, "garbage" answers 200 with something that is not JSON,
"hang" waits (at most `hang_s`, and never past stop()) before answering.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from tools.loopback import LoopbackFake

Mode = Literal["ok", "error", "garbage", "hang"]


class FakeGoogleTranslate(LoopbackFake):
    def __init__(self, hang_s: float = 10.0) -> None:
        super().__init__(hang_s)
        self.mode: Mode = "ok"
        self.requests: list[dict[str, str]] = []

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
            await self.hang()
        text = request.query.get("q", "")
        body = [[[self.translation_of(text), text, None, None, 3]], None, request.query.get("sl", "en")]
        return web.json_response(body)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/translate_a/single", self._translate)
