"""The page itself: web/static's plain HTML, CSS and JavaScript, read once at start-up (index.html filled in with
the upload limit and the story choices in the bot's words) and served with an ETag. Nothing else under / is
served: the files are looked up by URL path, never joined into a path.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

from aiohttp import web

from pipeline.events import StoryOptions
from pipeline.names import MAX_WORDS_CHARS

from . import texts

__all__ = ["STATIC_DIR", "STATIC_FILES", "StaticFiles"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {  # URL path → (file, content type); nothing else under / is served
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}


def choice_options(names: dict[str, str], default: str) -> str:
    """The <option>s of a <select>, in the bot's words, the default selected."""
    return "".join(
        f'<option value="{value}"{" selected" if value == default else ""}>{html.escape(label)}</option>'
        for value, label in names.items()
    )


class StaticFiles:
    """The page's files by URL path: body, content type and ETag, each read once."""

    def __init__(self, max_image_bytes: int) -> None:
        self.max_image_bytes = max_image_bytes
        self._files = {path: self._load(name, kind) for path, (name, kind) in STATIC_FILES.items()}

    @property
    def paths(self) -> list[str]:
        """The URL paths served."""
        return list(self._files)

    def _load(self, name: str, content_type: str) -> tuple[bytes, str, str]:
        """A file's bytes (index.html filled in), its content type and its ETag."""
        body = (STATIC_DIR / name).read_bytes()
        if name == "index.html":  # the upload limit, and the story choices in the bot's words (web/texts.py)
            defaults = StoryOptions()
            for key, value in (
                ("MAX_IMAGE_BYTES", str(self.max_image_bytes)),
                ("MAX_WORDS_CHARS", str(MAX_WORDS_CHARS)),
                ("KIND_OPTIONS", choice_options(texts.KIND_NAMES, defaults.kind)),
                ("LENGTH_OPTIONS", choice_options(texts.LENGTH_BUTTONS, defaults.length)),
            ):
                body = body.replace(b"{{" + key.encode() + b"}}", value.encode())
        return body, content_type, f'"{hashlib.sha256(body).hexdigest()[:16]}"'

    async def serve(self, request: web.Request) -> web.Response:
        """GET one of the page's files; 304 when the browser's copy (If-None-Match) is current."""
        body, content_type, etag = self._files[request.path]
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers={**headers, "Content-Type": content_type})
