"""The bot's side of the Redis pipeline: `RemotePipeline` enqueues a job and yields the events a worker pushes.

It has the interface the handlers use (`StoryPipeline`: `warm_up`, `stream`, ...) and gives up at its deadline
with the same errors the in-process pipeline raises, so the user always gets an answer or an apology.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import replace
from typing import Protocol

from arq.connections import ArqRedis, create_pool
from arq.constants import abort_jobs_ss
from arq.jobs import Job, JobStatus
from redis.exceptions import RedisError

from pipeline.config import PipelineSettings
from pipeline.errors import PipelineError, StageError, StageTimeout
from pipeline.events import (
    CaptionReady,
    Event,
    Finished,
    PipelineInput,
    Stage,
    StageFailed,
    StoryOptions,
    StoryPipeline,
    StoryReady,
)
from pipeline.images import ImageSource, is_url, read_source
from pipeline.remote.wire import (
    DESCRIBE_JOB_NAME,
    JOB_NAME,
    JobRequest,
    Message,
    deserialize,
    event_key,
    events_key,
    redis_reply,
    redis_settings,
    serialize,
    worker_health_key,
)

log = logging.getLogger(__name__)

POLL_S = 2.0  # longest single wait on the event list before checking that the job still exists
REDIS_RETRY_S = 1.0
ENQUEUE_PATIENCE_S = 10.0  # a Redis restart takes a second or two; a Redis that is down is not waited for


class PhotoHost(Protocol):
    """Hosts a photo at a URL the workers can fetch, for as long as the `with` block runs (the media server)."""

    def hosted(self, data: bytes) -> AbstractContextManager[str]: ...


class RemotePipeline:
    """The pipeline as the handlers see it, run by workers through the Redis queue at `queue_url`.

    A photo given as bytes travels to the workers by URL when a `photo_host` is given (so Redis carries
    a short URL, not megabytes), else as base64 in the job itself.
    """

    def __init__(
        self, settings: PipelineSettings, redis: ArqRedis | None = None, photo_host: PhotoHost | None = None
    ) -> None:
        if not settings.queue_url and redis is None:
            raise ValueError("RemotePipeline needs settings.queue_url")
        self.settings = settings
        self.photo_host = photo_host
        self._redis = redis
        self._connecting = asyncio.Lock()
        self.redeliveries = 0  # jobs that another worker ran again after theirs died

    async def _pool(self) -> ArqRedis:
        async with self._connecting:
            if self._redis is None:
                self._redis = await create_pool(
                    redis_settings(self.settings),
                    job_serializer=serialize,
                    job_deserializer=deserialize,
                    default_queue_name=self.settings.queue_name,
                )
            return self._redis

    async def warm_up(self) -> float:
        """Connect to Redis (the models warm up in the workers); returns seconds. No worker yet is only logged:
        jobs wait in the queue until one starts."""
        started = time.perf_counter()
        redis = await self._pool()
        await redis.ping()
        if not await self.worker_hosts():
            log.warning("no pipeline worker has reported yet", extra={"queue": self.settings.queue_name})
        return time.perf_counter() - started

    async def readiness(self) -> str | None:
        """None when jobs can be served now, else what is missing (for /readyz)."""
        try:
            redis = await self._pool()
            async with asyncio.timeout(3):
                await redis.ping()
                alive = await self.worker_hosts()
        except (RedisError, OSError, TimeoutError) as exc:
            return f"redis unreachable ({type(exc).__name__})"
        return None if alive else "no worker heartbeat"

    async def worker_hosts(self) -> int:
        """Hosts (containers) whose workers reported within their heartbeat interval."""
        pattern = worker_health_key(self.settings.queue_name, "*")
        return len([key async for key in (await self._pool()).scan_iter(match=pattern)])

    async def queued(self) -> int:
        """Jobs in the Redis queue, waiting or running (arq keeps running jobs there until they end)."""
        return await (await self._pool()).zcard(self.settings.queue_name)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def describe(self, source: ImageSource, options: StoryOptions | None = None) -> CaptionReady:
        """Like `Pipeline.describe`: the caption alone, from a job of its own, with the same errors."""
        caption = None
        async with self._photo(source) as photo:
            async for event in self._job(DESCRIBE_JOB_NAME, JobRequest(photo, options=options or StoryOptions())):
                if isinstance(event, CaptionReady):
                    caption = event
        if caption is None:
            raise StageError("queue", "no caption")
        return caption

    async def stream(self, asked: PipelineInput) -> AsyncIterator[Event]:
        """Like `Pipeline.stream`: the same events and errors, produced by a worker, but no StorySentence (the story
        comes whole, in StoryReady). A given caption (and story) travel in the job instead of the photo, and are
        yielded at once."""
        given: list[Event] = [part for part in (asked.caption, asked.story) if part is not None]
        if given:
            async for event in self._job(JOB_NAME, JobRequest.of(asked), given):
                yield event
            return
        assert asked.photo is not None  # PipelineInput has a photo when it has no caption
        async with self._photo(asked.photo) as photo:
            async for event in self._job(JOB_NAME, JobRequest.of(asked, photo)):
                yield event

    @asynccontextmanager
    async def _photo(self, source: ImageSource) -> AsyncIterator[dict[str, str]]:
        """The photo as a job carries it while the job runs: bytes hosted at a URL when a photo host is given,
        URLs as they are; other bytes and local files (which workers cannot see) as base64."""
        if isinstance(source, bytes) and self.photo_host is not None:
            with self.photo_host.hosted(source) as url:
                yield {"url": url}
        elif is_url(source):
            yield {"url": str(source)}
        else:
            s = self.settings
            data = await read_source(source, max_bytes=s.max_image_bytes, timeout_s=s.fetch_timeout_s)
            yield {"data": base64.b64encode(data).decode()}

    async def _enqueue(self, name: str, request: JobRequest) -> tuple[ArqRedis, str]:
        """Put a job in the queue; the connection and the job's id. Redis away (restarting) is tried again for
        ENQUEUE_PATIENCE_S, then a StageError."""
        job_id = secrets.token_hex(16)
        give_up_at = time.monotonic() + ENQUEUE_PATIENCE_S
        while True:
            try:
                redis = await self._pool()
                await redis.enqueue_job(name, request.encode(), _job_id=job_id, _expires=self.settings.queue_deadline_s)
                return redis, job_id
            except (RedisError, OSError) as exc:  # the handlers apologise for a StageError like for any other
                if time.monotonic() >= give_up_at:
                    log.error("could not enqueue a job", extra={"error": repr(exc)})
                    raise StageError("queue", type(exc).__name__) from exc
                await asyncio.sleep(REDIS_RETRY_S)

    async def _job(self, name: str, request: JobRequest, given: Sequence[Event] = ()) -> AsyncIterator[Event]:
        """Enqueue a job and yield its events as a worker pushes them, each kind once across re-runs; the
        `given` events are yielded first, as if the worker had said them.

        A job that Redis lost (restarted without its data) is sent again, with the caption and story it already
        gave, so that the voice reads the story the user has; within the same deadline.
        """
        s = self.settings
        deadline = time.monotonic() + s.queue_deadline_s
        redis, job_id = await self._enqueue(name, request)
        yielded: set[str] = set()
        attempt, ended = 1, False
        try:
            for event in given:
                yielded.add(event_key(event))
                yield event
            while True:
                try:
                    message = await self._next_message(redis, job_id, deadline)
                except JobLost:
                    log.warning("remote job lost by Redis: sent again", extra={"job_id": job_id})
                    redis, job_id = await self._enqueue(name, request)
                    attempt = 1
                    continue
                if message is None:  # given up: the `finally` abandons the job
                    log.warning("remote job gave no answer", extra={"job_id": job_id})
                    fallback = _fallback(yielded, StageTimeout("queue", f"no answer within {s.queue_deadline_s:.0f} s"))
                    if fallback is not None:
                        yield fallback
                    return
                if message.attempt < attempt:
                    continue  # a late word from an attempt that was already replaced
                if message.attempt > attempt:
                    attempt = message.attempt
                    self.redeliveries += 1
                    log.warning("remote job re-run after its worker died", extra={"job_id": job_id, "attempt": attempt})
                if message.error is not None:
                    ended = True
                    fallback = _fallback(yielded, message.error)
                    if fallback is not None:
                        yield fallback
                    return
                assert message.event is not None
                key = event_key(message.event)
                if key not in yielded:
                    yielded.add(key)
                    yield message.event
                if isinstance(message.event, CaptionReady):  # a job sent again goes on from what was made
                    request = replace(request, caption=message.event)
                elif isinstance(message.event, StoryReady):
                    request = replace(request, story=message.event)
                if isinstance(message.event, Finished):
                    ended = True
                    return
        finally:
            with contextlib.suppress(RedisError, OSError):
                await (redis.delete(events_key(job_id)) if ended else self._abandon(redis, job_id))

    async def _next_message(self, redis: ArqRedis, job_id: str, deadline: float) -> Message | None:
        """The job's next message, or None once the deadline passed or arq ended the job without one;
        JobLost when Redis no longer knows the job and it said nothing (Redis restarted without its data)."""
        key = events_key(job_id)
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                # redis-py types the timeout int; Redis >= 6 takes fractional seconds, which we want here.
                popped = await redis_reply(redis.blpop([key], timeout=min(remaining, POLL_S)))  # type: ignore[arg-type]
                if popped is None:
                    status = await Job(job_id, redis, _queue_name=self.settings.queue_name).status()
                    if status not in (JobStatus.complete, JobStatus.not_found):
                        continue
                    # The job ended: anything it said is in the list by now.
                    popped = [key, await redis_reply(redis.lpop(key))]
                    if popped[1] is None and status is JobStatus.not_found:
                        raise JobLost(job_id)
                    if popped[1] is None:
                        log.warning("remote job ended without a word", extra={"job_id": job_id})
                        return None
                return Message.decode(popped[1])
            except (RedisError, OSError) as exc:
                log.warning("redis error while waiting for a job", extra={"job_id": job_id, "error": repr(exc)})
                await asyncio.sleep(min(REDIS_RETRY_S, max(0.0, deadline - time.monotonic())))
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                log.error("unreadable message from a worker", extra={"job_id": job_id, "error": repr(exc)})
        return None

    async def _abandon(self, redis: ArqRedis, job_id: str) -> None:
        """Nobody waits for this job any more: do not start it, and cancel it where it runs."""
        async with redis.pipeline(transaction=True) as tr:
            tr.zrem(self.settings.queue_name, job_id)
            tr.zadd(abort_jobs_ss, {job_id: int(time.time() * 1000)})
            tr.delete(events_key(job_id))
            await tr.execute()


class JobLost(Exception):
    """Redis no longer knows a job that said nothing more: it restarted without its data."""


def _fallback(yielded: set[str], error: PipelineError) -> Event | None:
    """What to tell after a failure: the error itself before the caption (as `Pipeline.stream` raises it),
    afterwards the first missing part as failed, so the handlers apologise for exactly that part."""
    if "CaptionReady" not in yielded:
        raise error
    if "StoryReady" not in yielded:
        return StageFailed(Stage.STORY, error)
    if "VoiceReady" not in yielded and "failed:speech" not in yielded:
        return StageFailed(Stage.SPEECH, error)
    return None


def build_pipeline(settings: PipelineSettings, photo_host: PhotoHost | None = None) -> StoryPipeline:
    """The in-process pipeline (models load in this process), or the remote one when a queue URL is set."""
    if settings.queue_url:
        return RemotePipeline(settings, photo_host=photo_host)
    from pipeline.core import Pipeline

    return Pipeline(settings)
