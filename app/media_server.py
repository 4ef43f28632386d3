"""A small aiohttp server that hands photos to the captioner by URL, as the original BLIP service took them.

Unlike the original `uploads/` folder (wiped and recreated on every upload), each photo gets its own file
named by a random token of 192 bits; URLs expire; total disk use is bounded (oldest evicted first); only
GET and HEAD on `/m/<token>` exist, and the token is looked up in memory, never joined into a path, so
there is nothing to traverse and nothing to list. It exists only with QUEUE_URL (app/services.py builds it): the
in-process pipeline gets the photo's bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .serving import serve
from .settings import AppSettings

log = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 192 random bits
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class MediaItem:
    token: str
    path: Path
    content_type: str
    size: int
    expires_at: float


class MediaServer:
    """Publishes bytes at unguessable, expiring URLs; files live in a per-run folder under `root`."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        public_url: str | None = None,
        ttl_s: float = 600.0,
        max_total_bytes: int = 500 * 1024 * 1024,
        cleanup_interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root
        self.host, self.port = host, port
        self._public_url = public_url.rstrip("/") if public_url else None
        self.ttl_s = ttl_s
        self.max_total_bytes = max_total_bytes
        self.cleanup_interval_s = cleanup_interval_s
        self._clock = clock
        self._items: OrderedDict[str, MediaItem] = OrderedDict()
        self._runner: web.AppRunner | None = None
        self._cleanup_task: asyncio.Task[None] | None = None
        self._dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: AppSettings) -> MediaServer:
        """The media server the settings describe (MEDIA_*), its files under DATA_DIR/media."""
        return cls(
            settings.data_dir / "media",
            host=settings.media_host,
            port=settings.media_port,
            public_url=settings.media_public_url,
            ttl_s=settings.media_ttl_s,
            max_total_bytes=settings.media_max_total_mb * 1024 * 1024,
        )

    @property
    def base_url(self) -> str:
        return self._public_url or f"http://{self.host}:{self.port}"

    @property
    def total_bytes(self) -> int:
        return sum(item.size for item in self._items.values())

    def url_for(self, item: MediaItem) -> str:
        return f"{self.base_url}/m/{item.token}"

    async def start(self) -> None:
        """Bind the server (port 0 picks a free port) and start the periodic cleanup; again, a no-op."""
        if self._runner is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_stale_runs()
        self._dir = Path(tempfile.mkdtemp(prefix="run-", dir=self.root))
        app = web.Application()
        app.router.add_get("/m/{token}", self._serve)  # add_get also answers HEAD
        try:
            self._runner, self.port = await serve(app, self.host, self.port)
        except OSError:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self._cleanup_task = asyncio.create_task(self._cleanup_loop())
        log.info("media server listening", extra={"base_url": self.base_url})

    async def stop(self) -> None:
        if self._cleanup_task:
            self._cleanup_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cleanup_task
        if self._runner:
            await self._runner.cleanup()
            self._runner = None
        for token in list(self._items):
            self.revoke(token)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def publish(self, data: bytes, content_type: str = "image/jpeg") -> MediaItem:
        """Store `data` under a fresh token and return the item; `url_for(item)` is its URL."""
        if len(data) > self.max_total_bytes:
            raise ValueError("item larger than the media store")
        self.cleanup_expired()
        while self._items and self.total_bytes + len(data) > self.max_total_bytes:
            oldest = next(iter(self._items))
            log.info("media store full, evicting oldest item")
            self.revoke(oldest)
        if self._dir is None:
            raise RuntimeError("media server not started")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        path = self._dir / token
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        item = MediaItem(token, path, content_type, len(data), self._clock() + self.ttl_s)
        self._items[token] = item
        return item

    @contextmanager
    def hosted(self, data: bytes) -> Iterator[str]:
        """Host a photo at a fresh URL for as long as the `with` block runs (the Redis workers fetch it)."""
        item = self.publish(data, sniff_content_type(data))
        try:
            yield self.url_for(item)
        finally:
            self.revoke(item.token)

    def revoke(self, token: str) -> None:
        """Forget an item and delete its file (only its own file)."""
        item = self._items.pop(token, None)
        if item is not None:
            item.path.unlink(missing_ok=True)

    def cleanup_expired(self) -> int:
        now = self._clock()
        expired = [token for token, item in self._items.items() if item.expires_at <= now]
        for token in expired:
            self.revoke(token)
        return len(expired)

    def _remove_stale_runs(self) -> None:
        """Each server run has its own folder; remove only those of runs that died long ago (by age)."""
        cutoff = time.time() - max(4 * self.ttl_s, 3600)
        for run_dir in self.root.glob("run-*"):
            if run_dir.is_dir() and run_dir.stat().st_mtime < cutoff:
                shutil.rmtree(run_dir, ignore_errors=True)

    async def _cleanup_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cleanup_interval_s)
            removed = self.cleanup_expired()
            if removed:
                log.info("media items expired", extra={"removed": removed})

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        item = self._items.get(token) if TOKEN_PATTERN.match(token) else None
        if item is None or item.expires_at <= self._clock():
            return web.Response(status=404, text="not found", headers=SECURITY_HEADERS)
        remaining = max(0, int(item.expires_at - self._clock()))
        headers = {**SECURITY_HEADERS, "Cache-Control": f"private, max-age={remaining}"}
        return web.FileResponse(item.path, headers={**headers, "Content-Type": item.content_type})


def sniff_content_type(data: bytes) -> str:
    """The media server must announce a real image type; unknown bytes are served as such and refused."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "application/octet-stream"
