"""The web page on its own: what `make run` serves without a Telegram token (bot.py calls `run`).

The same pieces as the bot's process (app/): the pipeline (in-process, or Redis workers with QUEUE_URL, which
fetch photos from the media server as the bot's do), the photo sources and one admission queue. Binds WEB_HOST
(127.0.0.1 by default), says the URL on the terminal, and stops on Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from app import startup
from app.media_server import MediaServer
from app.photos import PhotoSource, build_photo_source
from app.settings import AppSettings
from app.work_queue import WorkQueue
from pipeline.events import StoryPipeline
from pipeline.remote import build_pipeline

from .server import WebPage


async def serve(
    settings: AppSettings,
    *,
    pipeline: StoryPipeline | None = None,
    photos: PhotoSource | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the page until `stop` is set (by default: until SIGINT or SIGTERM)."""
    media = None
    if settings.queue_url:  # the Redis workers fetch each photo by URL
        media = MediaServer.from_settings(settings)
    pipeline = pipeline or build_pipeline(settings, photo_host=media)
    photos = photos or build_photo_source(settings)
    queue = WorkQueue(max_running=settings.running_jobs, max_waiting=settings.max_waiting)
    page = WebPage(settings, pipeline, photos, queue)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        if media is not None:
            await startup.bind("MEDIA_PORT", settings.media_host, settings.media_port, media.start)
            assert settings.queue_url
            await startup.wait_for_redis(settings.queue_url, settings.startup_max_wait_s)
        await startup.bind("WEB_PORT", settings.web_host, settings.web_port, page.start)
        startup.say("Carregando os modelos…")
        try:
            await pipeline.warm_up()
        except (ImportError, FileNotFoundError) as exc:
            raise startup.model_problem(exc) from exc
        queue.start()
        startup.say(f"\n  Conta-Histórias na web: {page.url}\n  Abra no navegador (Ctrl+C para parar).\n")
        await stop.wait()
    finally:
        await page.stop()
        await queue.close(settings.shutdown_deadline_s)
        if media is not None:
            await media.stop()
        await photos.aclose()
        await pipeline.close()


def run(settings: AppSettings) -> int:
    """`make run` without a token: the page until Ctrl+C; exit code 0."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))
    return 0
