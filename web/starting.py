"""Starting a story: POST /api/stories (an uploaded photo) and POST /api/stories/random (the gallery's or
Unsplash's, with its credit). Each checks the limits per address, keeps the photo, puts the story's run in the
admission queue and answers 202 with where to follow it and its place in line.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app.errors import KeyLimitReached, QueueClosed, QueueFull
from app.media_server import sniff_content_type
from app.photos import Credit, PhotoSource
from app.settings import AppSettings
from app.work_queue import WorkQueue
from pipeline.config import Language
from pipeline.events import StoryOptions

from . import texts
from .forms import read_choices, read_upload
from .limits import IP_KEY, RateWindow, client_ip
from .problems import Problem
from .stories import StoreFull, Story, StoryStore

__all__ = ["Starter", "credit_parts"]

log = logging.getLogger(__name__)


class Starter:
    """The two ways to start a story; each ends in the admission queue, running `run(story)` in its turn."""

    def __init__(
        self,
        settings: AppSettings,
        photos: PhotoSource,
        queue: WorkQueue,
        stories: StoryStore,
        per_minute: RateWindow,
        run: Callable[[Story], Awaitable[None]],
        spawn: Callable[[Awaitable[Any]], None],
    ) -> None:
        self.settings = settings
        self.photos = photos
        self.queue = queue
        self.stories = stories
        self.per_minute = per_minute
        self.run = run
        self.spawn = spawn

    async def upload(self, request: web.Request) -> web.Response:
        """POST /api/stories: a story from the uploaded photo."""
        ip = client_ip(request, trust_proxy=self.settings.web_trust_proxy)
        self.per_minute.check(ip)
        max_bytes, max_pixels = self.settings.max_image_bytes, self.settings.max_image_pixels
        photo, language, options = await read_upload(request, max_bytes=max_bytes, max_pixels=max_pixels)
        return await self._begin(ip, photo, language, options, credit=None)

    async def random(self, request: web.Request) -> web.Response:
        """POST /api/stories/random: a story from a random photo, with its credit."""
        ip = client_ip(request, trust_proxy=self.settings.web_trust_proxy)
        self.per_minute.check(ip)
        language, options = await read_choices(request)
        photo = await self.photos.random_photo(f"web:{ip}")
        if photo.data is None:
            raise Problem(503, "no_photo", texts.FETCH_FAILED)
        credit = {
            **dataclasses.asdict(photo.credit),
            "parts": credit_parts(photo.credit),
            "line": photo.credit.line_pt(),
        }
        response = await self._begin(ip, photo.data, language, options, credit=credit)
        self.spawn(self.photos.mark_shown(photo))  # Unsplash asks for it once the photo is shown
        return response

    async def _begin(
        self, ip: str, photo: bytes, language: Language, options: StoryOptions, credit: dict[str, Any] | None
    ) -> web.Response:
        """Keep the photo, put its story in line, and answer with where to follow it."""
        try:
            story = self.stories.create(photo, sniff_content_type(photo), language, credit, options)
        except StoreFull as exc:
            raise Problem(503, "busy", texts.MEMORY_FULL, retry_after=60) from exc
        try:
            ticket = await self.queue.submit(lambda: self.run(story), [(IP_KEY, ip)])
        except QueueFull as exc:
            self.stories.discard(story.id)
            message = texts.BUSY.format(waiting=self.queue.waiting)
            raise Problem(503, "busy", message, waiting=self.queue.waiting, retry_after=30) from exc
        except KeyLimitReached as exc:
            self.stories.discard(story.id)
            raise Problem(429, "ip_limit", texts.USER_LIMIT, retry_after=10) from exc
        except QueueClosed as exc:
            self.stories.discard(story.id)
            raise Problem(503, "shutting_down", texts.SHUTTING_DOWN, retry_after=60) from exc
        self.per_minute.note(ip)
        story.ticket = ticket
        await self.stories.share(story)  # before its id is given out: any replica can then serve it
        ticket.result.add_done_callback(lambda result: self._dropped(story) if result.cancelled() else None)
        log.info("web story queued", extra={"request_id": story.request_id, "position": ticket.position})
        links = story.links
        body: dict[str, Any] = {
            **links,
            "position": ticket.position,
            "expires_in_s": round(self.stories.ttl_s),
            "kind": options.kind,
            "length": options.length,
            "hint": options.hint,
            "main_character": options.main_character,
        }
        if ticket.position:
            body["message"] = texts.STATUS_QUEUED.format(position=ticket.position)
        if credit is not None:
            body["credit"] = credit
        return web.json_response(body, status=202, headers={"Location": links["url"]})

    def _dropped(self, story: Story) -> None:
        """A job the queue cancelled before it ran (shutdown) still ends its story, with an explanation."""
        if not story.finished:
            self.spawn(story.fail("shutting_down", texts.SHUTTING_DOWN))


def credit_parts(credit: Credit) -> list[dict[str, str]]:
    """The credit line (`Credit.line_pt`, the bot's wording) as text pieces, some with a link, for the page."""
    links: list[tuple[str, str | None]] = []

    def link(text: str, url: str | None) -> str:
        links.append((text, url))
        return f"\x00{len(links) - 1}\x00"

    parts: list[dict[str, str]] = []
    for index, piece in enumerate(credit.line_pt(link).split("\x00")):
        if index % 2 == 0:
            if piece:
                parts.append({"text": piece})
            continue
        text, url = links[int(piece)]
        parts.append({"text": text, "url": url} if url and url.startswith(("https://", "http://")) else {"text": text})
    return parts
