"""The web page on its own: what `make run` serves without a Telegram token (bot.py calls `run`).

The same services as the bot's process, built by app/services.py: the pipeline (in-process, or Redis workers
with QUEUE_URL, which fetch photos from the media server as the bot's do), the photo sources and one admission
queue; and the store (DATABASE_URL, or SQLite under DATA_DIR), where the stories are shared with every other
replica of the page. Binds WEB_HOST (127.0.0.1 by default), says the URL on the terminal, and stops on Ctrl+C
or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from sqlalchemy.exc import SQLAlchemyError

from app import startup
from app.photos import PhotoSource
from app.services import build_services
from app.settings import AppSettings
from app.store import Store
from pipeline.events import StoryPipeline

from .server import WebPage


async def serve(
    settings: AppSettings,
    *,
    pipeline: StoryPipeline | None = None,
    photos: PhotoSource | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the page until `stop` is set (by default: until SIGINT or SIGTERM)."""
    services = build_services(settings, pipeline=pipeline, photos=photos)
    store = Store(settings.store_url(), owner=settings.replica_id)  # the stories, for every replica of the page
    page = WebPage(settings, services.pipeline, services.photos, services.queue, store=store)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        await services.connect()
        try:
            await store.open()
        except (OSError, SQLAlchemyError) as exc:
            raise startup.store_problem(exc) from exc
        await startup.bind("WEB_PORT", settings.web_host, settings.web_port, page.start)
        startup.say("Carregando os modelos…")
        await services.start()
        startup.say(f"\n  Conta-Histórias na web: {page.url}\n  Abra no navegador (Ctrl+C para parar).\n")
        await stop.wait()
    finally:
        await page.stop()
        await services.close()
        await store.close()


def run(settings: AppSettings) -> int:
    """`make run` without a token: the page until Ctrl+C; exit code 0."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))
    return 0
