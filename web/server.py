"""The web page and its API on aiohttp: a photo in, the pipeline's events out as Server-Sent Events.

    GET  /                              the page (web/static: plain HTML, CSS and JavaScript)
    POST /api/stories                   multipart `photo` (+ `voice` pt|en, `kind`, `length`, `hint`,
                                        `main_character`) → 202 {id, events, …}
    POST /api/stories/random            a random photo (gallery or Unsplash) and its credit → 202 {id, credit, …};
                                        the same fields in the query, a form or a JSON object
    GET  /api/stories/{id}              what the story has so far (JSON)
    GET  /api/stories/{id}/events       its events, as they happen (text/event-stream; Last-Event-ID resumes)
    GET  /api/stories/{id}/photo        the photo
    GET  /api/stories/{id}/voice        the voice (OGG/Opus; Range requests; ?download=1 for a file)

Stories go through the bot's own admission queue (app/work_queue.py) with the key ("web_ip", address): the same
running slots, the same line, its own limit per address (WEB_PER_IP_JOBS), plus a limit per minute. `hint` (who
or what is in the photo, where: "minha filha Iara em Gramado") and `main_character` ("Thor, nosso cachorro") are
the user's own words, as written, checked by `pipeline.names.words_problem` before a story starts. Errors
are JSON {error, message} with the message in Portuguese. Every response carries a strict
Content-Security-Policy and no cookie is ever set. See README, "The web page".

This module wires the routes and runs the server; the handlers live by what they do: `static` (the page),
`starting` (with `forms` and `limits`), `runs` (the queued job), `following` (snapshot, events, photo, voice),
`problems` and `security` (every answer's errors and headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app.photos import PhotoSource
from app.serving import serve
from app.settings import AppSettings
from app.store import Store
from app.work_queue import WorkQueue
from pipeline.events import StoryPipeline

from .following import Follower
from .limits import IP_KEY, RateWindow
from .problems import problems
from .runs import Runner
from .security import secure
from .starting import Starter
from .static import StaticFiles
from .stories import StoryStore

__all__ = ["WebPage"]

log = logging.getLogger(__name__)

CLEANUP_INTERVAL_S = 30.0


class WebPage:
    """The page and its API, sharing the bot's pipeline, photo sources and admission queue (and, with `store`,
    its stories with every replica of the page on that store).

    `start()` binds WEB_HOST:WEB_PORT (port 0 picks a free one) and `stop()` ends every event stream and closes
    the server; the queue's own lifecycle stays with its owner. `application()` is the bare aiohttp app, for tests.
    """

    def __init__(
        self,
        settings: AppSettings,
        pipeline: StoryPipeline,
        photos: PhotoSource,
        queue: WorkQueue,
        *,
        store: Store | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.photos = photos
        self.queue = queue
        queue.per_key.setdefault(IP_KEY, settings.web_per_ip_jobs)
        self.host, self.port = settings.web_host, settings.web_port
        self.stories = StoryStore(
            ttl_s=settings.web_story_ttl_s,
            max_bytes=settings.web_max_stored_mb * 1024 * 1024,
            clock=clock,
            shared=store,
        )
        self.per_minute = RateWindow(settings.web_per_ip_per_minute, clock=clock)
        self._runner: web.AppRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._closing = asyncio.Event()
        self._static = StaticFiles(settings.max_image_bytes)
        run = Runner(pipeline, self.stories, settings.max_image_bytes).tell
        self._starter = Starter(settings, photos, queue, self.stories, self.per_minute, run, self._spawn)
        self._follower = Follower(self.stories, queue, self._closing)

    @property
    def url(self) -> str:
        """The page's address, as a browser on this machine opens it."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def application(self) -> web.Application:
        """The aiohttp application: the page, the API's routes, the errors as JSON and the security headers."""
        max_bytes = self.settings.max_image_bytes
        app = web.Application(middlewares=[problems(max_bytes)], client_max_size=max_bytes)
        for path in self._static.paths:
            app.router.add_get(path, self._static.serve)
        app.router.add_post("/api/stories", self._starter.upload)
        app.router.add_post("/api/stories/random", self._starter.random)
        app.router.add_get("/api/stories/{id}", self._follower.snapshot)
        app.router.add_get("/api/stories/{id}/events", self._follower.events)
        app.router.add_get("/api/stories/{id}/photo", self._follower.photo)
        app.router.add_get("/api/stories/{id}/voice", self._follower.voice)
        app.on_response_prepare.append(secure)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def start(self) -> None:
        """Bind and serve (a busy port raises OSError and leaves nothing running); again, a no-op."""
        if self._runner is not None:
            return
        self._runner, self.port = await serve(self.application(), self.host, self.port)
        log.info("web page listening", extra={"url": self.url})

    async def stop(self) -> None:
        """End every event stream and close the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_startup(self, _app: web.Application) -> None:
        """Start forgetting expired stories."""
        self._closing.clear()
        self._spawn(self._cleanup_loop())

    async def _on_shutdown(self, _app: web.Application) -> None:
        """End the event streams now (they would hold the shutdown) and the cleanup loop."""
        self._closing.set()
        for story in self.stories:
            await story.wake()
        for task in list(self._background):
            task.cancel()
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _spawn(self, work: Awaitable[Any]) -> None:
        """Run `work` in the background, cancelled at shutdown."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _cleanup_loop(self) -> None:
        """Forget expired stories every CLEANUP_INTERVAL_S."""
        while True:
            await asyncio.sleep(CLEANUP_INTERVAL_S)
            if removed := self.stories.cleanup_expired():
                log.info("web stories expired", extra={"removed": removed})
            if self.stories.shared is not None:
                await self.stories.shared.forget_expired_web_stories()
