"""Following a story by its id: GET what it has so far (JSON), its events as they happen (Server-Sent Events,
resumable with Last-Event-ID, with its place in line while it waits), its photo and its voice (byte ranges for
seeking, ?download=1 for a file). An unknown or expired id is a 404 in Portuguese.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiohttp import web

from app.work_queue import WorkQueue

from . import texts
from .problems import Problem
from .stories import Story, StoryStore

__all__ = ["Follower", "sse"]

KEEPALIVE_S = 15.0
QUEUE_POLL_S = 1.0


def sse(name: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    """One Server-Sent Event (its data is one JSON line)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class Follower:
    """The reading side of the API; `closing` ends every event stream (the server is stopping)."""

    def __init__(self, stories: StoryStore, queue: WorkQueue, closing: asyncio.Event) -> None:
        self.stories = stories
        self.queue = queue
        self.closing = closing

    async def _story(self, request: web.Request) -> Story:
        """The story the URL names (told here or, with a shared store, by another replica), or the 404 answer."""
        story = await self.stories.find(request.match_info["id"])
        if story is None:
            minutes = max(1, round(self.stories.ttl_s / 60))
            raise Problem(404, "not_found", texts.NOT_FOUND.format(minutes=minutes))
        return story

    def _position(self, story: Story) -> int:
        """Its place in line (1 = next), or 0 once it runs."""
        if story.started or story.ticket is None:
            return 0
        return self.queue.position(story.ticket)

    async def snapshot(self, request: web.Request) -> web.Response:
        """GET /api/stories/{id}: what the story has so far."""
        story = await self._story(request)
        errors = [data for name, data in story.events if name == "failed"]
        status = "finished" if story.finished else "running" if story.started else "waiting"
        body = {
            **story.links,
            "status": status,
            "position": self._position(story),
            "voice_language": story.voice_language,
            "kind": story.options.kind,
            "length": story.options.length,
            "hint": story.options.hint,
            "main_character": story.options.main_character,
            "expires_in_s": round(self.stories.expires_in(story)),
            "credit": story.credit,
            "caption_pt": None,
            "caption_en": None,
            "story_pt": None,
            "story_en": None,
            "voice": None,
            "stage_failed": {},
            **story.state,
            "error": errors[-1] if errors else None,
        }
        return web.json_response(body)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """GET /api/stories/{id}/events: everything so far, then each new event; ends after `done` or `error`.

        While the story waits, its place in line; a comment now and then so proxies keep the line open.
        """
        story = await self._story(request)
        try:
            seen = int(request.headers.get("Last-Event-ID", "-1")) + 1
        except ValueError:
            seen = 0
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        position, quiet_since = -1, time.monotonic()
        try:
            await response.write(b"retry: 2000\n\n")
            while not self.closing.is_set():
                while seen < len(story.events):
                    name, data = story.events[seen]
                    await response.write(sse(name, data, seen))
                    seen += 1
                    quiet_since = time.monotonic()
                if story.finished or self.stories.expires_in(story) <= 0:
                    break
                if (now := self._position(story)) != position:
                    position = now
                    if position:
                        message = texts.STATUS_QUEUED.format(position=position)
                        await response.write(sse("queued", {"position": position, "message": message}))
                if time.monotonic() - quiet_since > KEEPALIVE_S:
                    await response.write(b": ping\n\n")
                    quiet_since = time.monotonic()
                await story.wait(seen, QUEUE_POLL_S if position else KEEPALIVE_S, stop=self.closing.is_set)
        except (ConnectionResetError, ConnectionError):
            return response  # the reader left; the story goes on for whoever comes back with its id
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response

    async def photo(self, request: web.Request) -> web.StreamResponse:
        """GET /api/stories/{id}/photo: the photo."""
        story = await self._story(request)
        return self._bytes(request, story, story.photo, story.photo_type, "foto")

    async def voice(self, request: web.Request) -> web.StreamResponse:
        """GET /api/stories/{id}/voice: the voice (OGG/Opus), once it is ready."""
        story = await self._story(request)
        if story.voice is None:
            raise Problem(404, "voice_not_ready", texts.VOICE_NOT_READY)
        return self._bytes(request, story, story.voice.ogg, "audio/ogg", f"historia-{story.voice.language}")

    def _bytes(self, request: web.Request, story: Story, body: bytes, content_type: str, name: str) -> web.Response:
        """A story's photo or voice, private to the id's holder until it expires; single byte ranges for seeking."""
        extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
        filename = f"{name}.{extension.get(content_type, 'ogg')}"
        disposition = "attachment" if request.query.get("download") else "inline"
        headers = {
            "Content-Type": content_type,
            "Accept-Ranges": "bytes",
            "Cache-Control": f"private, max-age={int(self.stories.expires_in(story))}",
            "Content-Disposition": f'{disposition}; filename="{filename}"',
        }
        try:
            wanted = request.http_range
        except ValueError:
            wanted = slice(None)
        if wanted.start is None and wanted.stop is None:
            return web.Response(body=body, headers=headers)
        start, stop, _ = wanted.indices(len(body))
        if start >= len(body) or start >= stop:
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{len(body)}"})
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(body)}"
        return web.Response(status=206, body=body[start:stop], headers=headers)
