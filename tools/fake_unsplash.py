"""A loopback stand-in for the Unsplash API (`/photos/random`, the download event) and its image CDN.

`mode` chooses how `/photos/random` answers: "ok" (a photo whose `urls.regular` and `download_location`
point back at this server), "bad_json", "hang" (waits at most `hang_s`, never past stop()), "image_fail"
(the JSON is fine but the image answers 404), or an HTTP status code (401, 403, 429, 500...).
`remaining` is sent as X-Ratelimit-Remaining. Every request is recorded with its headers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from PIL import Image

from tools.loopback import LoopbackFake

PHOTO_ID = "fakeId123"
AUTHOR = "Ana Fotógrafa"


@dataclass(frozen=True)
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    url: str


def landscape_jpeg(width: int = 96, height: int = 64) -> bytes:
    img = Image.new("RGB", (width, height), (90, 140, 200))
    img.paste((60, 120, 60), (0, height // 2, width, height))  # sky over grass
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


class FakeUnsplash(LoopbackFake):
    def __init__(self, hang_s: float = 5.0) -> None:
        super().__init__(hang_s)
        self.mode: str | int = "ok"
        self.remaining: int | None = 49
        self.image = landscape_jpeg()
        self.download_location: str | None = None  # override the one pointing back here
        self.requests: list[Recorded] = []

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def _record(self, request: web.Request) -> None:
        self.requests.append(Recorded(request.path, dict(request.query), dict(request.headers), str(request.url)))

    def _headers(self) -> dict[str, str]:
        if self.remaining is None:
            return {}
        return {"X-Ratelimit-Limit": "50", "X-Ratelimit-Remaining": str(self.remaining)}

    def photo_json(self) -> dict[str, Any]:
        return {
            "id": PHOTO_ID,
            "width": 6000,
            "height": 4000,
            "alt_description": "green hills under a blue sky",
            "description": None,
            "urls": {"regular": f"{self.url}/images/{PHOTO_ID}.jpg?w=1080&fm=jpg"},
            "links": {
                "html": f"https://unsplash.com/photos/{PHOTO_ID}",
                "download_location": self.download_location or f"{self.url}/photos/{PHOTO_ID}/download?ixid=abc",
            },
            "user": {"name": AUTHOR, "links": {"html": "https://unsplash.com/@ana"}},
        }

    async def _random(self, request: web.Request) -> web.Response:
        self._record(request)
        if isinstance(self.mode, int):
            return web.json_response({"errors": ["nope"]}, status=self.mode, headers=self._headers())
        if self.mode == "bad_json":
            return web.Response(text="<html>oops</html>", content_type="text/html", headers=self._headers())
        if self.mode == "hang":
            await self.hang()
        return web.json_response(self.photo_json(), headers=self._headers())

    async def _download(self, request: web.Request) -> web.Response:
        self._record(request)
        return web.json_response({"url": f"{self.url}/images/{PHOTO_ID}.jpg"}, headers=self._headers())

    async def _image(self, request: web.Request) -> web.Response:
        self._record(request)
        if self.mode == "image_fail":
            return web.Response(status=404, text="gone")
        return web.Response(body=self.image, content_type="image/jpeg")

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/photos/random", self._random)
        router.add_get("/photos/{ident}/download", self._download)
        router.add_get("/images/{name}", self._image)
