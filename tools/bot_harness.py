"""Run the real bot (handlers, queue, store; the media server with Redis workers) against the fake Bot API."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from telegram.ext import Application

from app.photos import PhotoSource
from bot import build_application, build_services
from handlers.config import BotSettings
from handlers.context import Services
from pipeline.backends import Backends
from pipeline.core import Pipeline
from pipeline.remote import RemotePipeline

from .fake_backends import fake_backends
from .fake_telegram import DEFAULT_TOKEN, FakeTelegram


def jpeg_bytes(width: int = 640, height: int = 480, color: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class RunningBot:
    tg: FakeTelegram
    app: Application
    services: Services
    backends: Backends


@asynccontextmanager
async def running_bot(
    data_dir: Path,
    backends: Backends | None = None,
    photos: PhotoSource | None = None,
    *,
    real_models: bool = False,
    pipeline: RemotePipeline | None = None,
    tg: FakeTelegram | None = None,
    **overrides: Any,
) -> AsyncIterator[RunningBot]:
    """Start the fake Telegram (unless given one), then the bot polling it; stop both cleanly (bounded) at the end.

    The backends are light fakes unless given, or `real_models` asks for the offline models. A `pipeline`
    (a RemotePipeline, whose workers hold the backends; give `queue_url` too, so that the photos reach them from
    the media server, as in production) replaces the in-process one. Given a running `tg`,
    a test can stop the bot and start another on the same chats (and the same `data_dir`).
    """
    async with contextlib.AsyncExitStack() as stack:
        if tg is None:
            tg = await stack.enter_async_context(FakeTelegram(DEFAULT_TOKEN))
        settings = BotSettings(
            _env_file=None,
            telegram_bot_token=DEFAULT_TOKEN,
            telegram_api_url=tg.root,
            media_port=0,
            metrics_port=0,
            data_dir=data_dir,
            **overrides,
        )
        if backends is None:
            backends = Backends.from_settings(settings) if real_models else fake_backends()
        services = build_services(settings, pipeline=pipeline or Pipeline(settings, backends), photos=photos)
        app = build_application(settings, services, handle_signals=False)
        updater, post_init, post_shutdown = app.updater, app.post_init, app.post_shutdown
        assert updater and post_init and post_shutdown, "build_application polls, with start-up and shutdown hooks"
        async with app:
            await post_init(app)
            await app.start()
            await updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield RunningBot(tg, app, services, backends)
            finally:
                await updater.stop()
                await app.stop()
                await post_shutdown(app)
