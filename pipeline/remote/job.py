"""The worker's side of the Redis pipeline: the arq jobs that run the in-process engine (a story, a caption alone)
and push each event for the bot, as it happens (`worker.py` runs them).

What happens when a worker dies, as arq 0.28 (`arq/worker.py`) behaves:
- A job stays in arq's queue until it finishes; the worker running it holds an `in-progress` key whose
  expiry is the job timeout + 10 s, and only once that key is gone does another worker run the job again.
  With a timeout as long as the bot's deadline that is minutes, so a running job keeps the key as a short
  lease (`worker_lease_s`, renewed while the job runs): a SIGKILLed worker's jobs run again in seconds.
  A worker stopped by SIGTERM lets running jobs finish first (`job_completion_wait` in worker.py).
- A re-run starts over and pushes its events again. The client yields each kind of event once and ignores
  older attempts, so nobody gets a caption twice. What the caption saw and the English story of an attempt
  are kept in Redis and replayed by the next one, so the voice reads the story the user already has.
- Failures travel as messages, never as arq failures.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from PIL import Image
from redis.exceptions import RedisError

from pipeline.core import Pipeline
from pipeline.errors import PipelineError, StageError
from pipeline.events import CaptionReady, Event, Finished, StoryOptions, StoryReady, StorySentence
from pipeline.facts import PhotoFacts
from pipeline.images import ImageSource
from pipeline.interfaces import SentenceSink
from pipeline.remote.wire import JobRequest, Message, WireVersionError, checkpoint_key, events_key, redis_reply

log = logging.getLogger(__name__)


@dataclass
class _ReplayedCaption:
    """Stands in for the captioner on a re-run, answering what the first run saw."""

    facts: PhotoFacts
    name: str = "replay"

    def load(self) -> None:
        pass

    async def caption(self, image: Image.Image) -> PhotoFacts:
        return self.facts


@dataclass
class _ReplayedStory:
    """Stands in for the story writer on a re-run, answering the story the first run wrote."""

    text: str
    name: str = "replay"

    def load(self) -> None:
        pass

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        return self.text


@asynccontextmanager
async def _lease(redis: ArqRedis, job_id: str, lease_s: float) -> AsyncIterator[None]:
    """Keep arq's in-progress key of this job expiring `lease_s` from now while the job runs."""
    key, lease_ms = in_progress_key_prefix + job_id, max(1, int(lease_s * 1000))

    async def renew() -> None:
        while True:
            try:
                await redis.pexpire(key, lease_ms)
            except (RedisError, OSError) as exc:
                log.warning("could not renew a job lease", extra={"job_id": job_id, "error": repr(exc)})
            await asyncio.sleep(lease_s / 3)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _replaying(pipeline: Pipeline, checkpoint: dict[str, str]) -> Pipeline:
    backends = pipeline.backends
    if "facts" in checkpoint:
        facts = PhotoFacts.from_dict(json.loads(checkpoint["facts"]))
        backends = dataclasses.replace(backends, captioner=_ReplayedCaption(facts))
    if "story_en" in checkpoint:
        backends = dataclasses.replace(backends, story_writer=_ReplayedStory(checkpoint["story_en"]))
    return Pipeline(pipeline.settings, backends)


async def story_job(ctx: dict[str, Any], request: dict[str, Any]) -> None:
    """The arq job of a story: run `Pipeline.stream` as the request asks and push each event for the bot.

    `ctx` holds arq's `redis`, `job_id` and `job_try`, and the worker's warm `pipeline` (worker.py).
    """
    await _serve(ctx, request, _story_events)


async def describe_job(ctx: dict[str, Any], request: dict[str, Any]) -> None:
    """The arq job of a caption alone (`Pipeline.describe`): push the caption, then the end."""
    await _serve(ctx, request, _describe_events)


def _story_events(pipeline: Pipeline, asked: JobRequest) -> AsyncIterator[Event]:
    """The events of the whole run, or of the part after the caption (and story) the request carries."""
    return pipeline.stream(asked.input(_source(asked.photo)))


async def _describe_events(pipeline: Pipeline, asked: JobRequest) -> AsyncIterator[Event]:
    """The caption, then the end of the job."""
    source = _source(asked.photo)
    if source is None:
        raise ValueError("a caption needs its photo")
    started = time.perf_counter()
    yield await pipeline.describe(source, asked.options)
    yield Finished({"describe": time.perf_counter() - started})


def _source(photo: dict[str, str] | None) -> ImageSource | None:
    """The photo as the bot sent it: a URL to fetch, or the bytes themselves; None without a photo."""
    if photo is None:
        return None
    return photo["url"] if "url" in photo else base64.b64decode(photo["data"])


async def _serve(
    ctx: dict[str, Any], request: dict[str, Any], events: Callable[[Pipeline, JobRequest], AsyncIterator[Event]]
) -> None:
    """Run one job attempt: push each event as it happens (with what a re-run must replay), or the error."""
    redis: ArqRedis = ctx["redis"]
    pipeline: Pipeline = ctx["pipeline"]
    job_id, attempt = ctx["job_id"], int(ctx["job_try"])
    ttl_s = math.ceil(pipeline.settings.queue_deadline_s)
    key, saved = events_key(job_id), checkpoint_key(job_id)

    async def push(message: Message, checkpoint: dict[str, str] | None = None) -> None:
        async with redis.pipeline(transaction=True) as tr:
            tr.rpush(key, message.encode())
            tr.expire(key, ttl_s)
            if checkpoint:
                tr.hset(saved, mapping=checkpoint)
                tr.expire(saved, ttl_s)
            await tr.execute()

    async with _lease(redis, job_id, pipeline.settings.worker_lease_s):
        if attempt > 1:
            checkpoint = {k.decode(): v.decode() for k, v in (await redis_reply(redis.hgetall(saved))).items()}
            pipeline = _replaying(pipeline, checkpoint)
            log.info("re-running a job", extra={"job_id": job_id, "attempt": attempt, "replayed": sorted(checkpoint)})
        try:
            async for event in events(pipeline, JobRequest.decode(request)):
                if not isinstance(event, StorySentence):  # not sent: the story comes whole (see RemotePipeline)
                    await push(Message(attempt, event=event), _checkpoint(event))
        except PipelineError as exc:
            await push(Message(attempt, error=exc))
        except WireVersionError as exc:  # bot and worker of different releases: say so now, not at the deadline
            log.error("job request of another version", extra={"job_id": job_id, "error": str(exc)})
            await push(Message(attempt, error=StageError("queue", "wire_version")))
        except Exception as exc:  # a bug in a backend: tell the bot now rather than let it wait for its deadline
            log.exception("pipeline job crashed", extra={"job_id": job_id})
            await push(Message(attempt, error=StageError("pipeline", type(exc).__name__)))
        await redis.delete(saved)


def _checkpoint(event: Event) -> dict[str, str] | None:
    """What a re-run must replay to tell the same story: the English caption and story, once they exist."""
    match event:
        case CaptionReady(caption_en, _, facts):
            return {"facts": json.dumps((facts or PhotoFacts(caption_en)).to_dict())}
        case StoryReady(story_en, _):
            return {"story_en": story_en}
    return None
