"""The services a process serving stories holds, assembled in one place from the settings.

The bot (bot.py, which adds its request store and caption slots), the web page alone (web/standalone.py) and the
test harnesses (tools/bot_harness.py, tools/web_page.py) all build them with `build_services`: the pipeline
(in-process, or Redis workers with QUEUE_URL), the photo sources of /aleatorio, the admission queue and, only
with QUEUE_URL, the media server that hosts each photo at an expiring URL for the workers. In-process, the
pipeline gets the photo's bytes and there is no media server at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.events import StoryPipeline
from pipeline.remote import RemotePipeline, build_pipeline

from . import startup
from .media_server import MediaServer
from .photos import PhotoSource, build_photo_source
from .settings import AppSettings
from .work_queue import WorkQueue

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    """The pipeline, the photo sources, the admission queue and (Redis workers only) the media server."""

    settings: AppSettings
    pipeline: StoryPipeline
    photos: PhotoSource
    queue: WorkQueue  # the story phase: at most `running_jobs` at once, fair, bounded
    media: MediaServer | None  # only with QUEUE_URL: the workers fetch each photo from it

    async def connect(self) -> None:
        """Before the models, with QUEUE_URL only: bind MEDIA_PORT, then wait (with backoff) for Redis."""
        await self._bind_media()
        if self.settings.queue_url:
            await startup.wait_for_redis(self.settings.queue_url, self.settings.startup_max_wait_s)

    async def start(self) -> None:
        """Bind the media server if `connect` did not, load the models, open the queue's running slots."""
        await self._bind_media()
        try:
            await self.pipeline.warm_up()
        except (ImportError, FileNotFoundError) as exc:
            raise startup.model_problem(exc) from exc
        self.queue.start()

    async def close(self) -> None:
        """Let the queue finish within SHUTDOWN_DEADLINE_S, then close the media server, photos and pipeline."""
        await self.queue.close(self.settings.shutdown_deadline_s)
        if self.media is not None:
            await self.media.stop()
        await self.photos.aclose()
        await self.pipeline.close()

    async def _bind_media(self) -> None:
        """Start the media server (a busy port names MEDIA_PORT); a no-op without one or once started."""
        if self.media is not None:
            await startup.bind("MEDIA_PORT", self.settings.media_host, self.settings.media_port, self.media.start)


def build_services(
    settings: AppSettings, *, pipeline: StoryPipeline | None = None, photos: PhotoSource | None = None
) -> Services:
    """The services the settings describe; a given `pipeline` or `photos` replaces the built one (tests).

    A given RemotePipeline without a photo host gets the media server, as the one built from QUEUE_URL does.
    """
    media = MediaServer.from_settings(settings) if settings.queue_url else None
    if pipeline is None:
        pipeline = build_pipeline(settings, photo_host=media)
    elif isinstance(pipeline, RemotePipeline) and pipeline.photo_host is None:
        pipeline.photo_host = media
    return Services(
        settings=settings,
        pipeline=pipeline,
        photos=photos or build_photo_source(settings),
        queue=WorkQueue(
            max_running=settings.running_jobs,
            max_waiting=settings.max_waiting,
            per_key={"user": settings.per_user_jobs, "chat": settings.per_chat_jobs},
        ),
        media=media,
    )
