"""Pipeline jobs on worker processes through Redis (arq): the bot stays thin, the workers hold the models.

`RemotePipeline` has the interface the handlers use (`warm_up`, `stream`): it enqueues an arq job and
yields the events a worker (`worker.py`, running `story_job`) pushes onto a Redis list, as they happen —
the caption first, the voice last. The photo travels as the media server URL (workers fetch it, as the
original captioning service did) or as bytes.

What happens when a worker dies, as arq 0.28 (`arq/worker.py`) behaves:
- A job stays in arq's queue until it finishes; the worker running it holds an `in-progress` key whose
  expiry is the job timeout + 10 s, and only once that key is gone does another worker run the job again.
  With a timeout as long as the bot's deadline that is minutes, so `story_job` keeps the key as a short
  lease (`worker_lease_s`, renewed while the job runs): a SIGKILLed worker's jobs run again in seconds.
  A worker stopped by SIGTERM lets running jobs finish first (`job_completion_wait` in worker.py).
- A re-run starts over and pushes its events again. The client yields each kind of event once and ignores
  older attempts, so nobody gets a caption twice. The caption and English story of an attempt are kept in
  Redis and replayed by the next one, so the voice reads the story the user already has.
- Failures travel as messages, never as arq failures, and the client gives up at its deadline (or as soon
  as arq has dropped the job: too many tries, expired) with the same errors the in-process pipeline raises:
  the user always gets an answer or an apology, never silence.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import json
import logging
import math
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import abort_jobs_ss, health_check_key_suffix, in_progress_key_prefix
from arq.jobs import Job, JobStatus
from PIL import Image
from redis.exceptions import RedisError

from .config import Language, PipelineSettings
from .core import CaptionReady, Event, Pipeline, Stage, StageFailed, StageStarted, StoryReady, VoiceReady
from .errors import FetchError, InvalidImageError, PipelineError, StageError, StageTimeout
from .facts import PhotoFacts
from .images import ImageSource, is_url, read_source
from .speech import Voice

log = logging.getLogger(__name__)

JOB_NAME = "story"
KEY_PREFIX = "conta-historias"
POLL_S = 2.0  # longest single wait on the event list before checking that the job still exists
REDIS_RETRY_S = 1.0


def serialize(data: dict[str, Any]) -> bytes:
    """arq's job serializer: JSON, so that write access to Redis is not code execution on workers (pickle)."""
    return json.dumps(data, default=repr).encode()


def deserialize(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)


def redis_settings(settings: PipelineSettings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.queue_url or "redis://localhost:6379")


def worker_health_key(queue_name: str, host: str | None = None) -> str:
    """Each host's (container's) workers report under their own key, so `arq --check` there checks them."""
    return f"{queue_name}{health_check_key_suffix}:{host or socket.gethostname()}"


def events_key(job_id: str) -> str:
    return f"{KEY_PREFIX}:events:{job_id}"


def checkpoint_key(job_id: str) -> str:
    return f"{KEY_PREFIX}:checkpoint:{job_id}"


# --- Wire format: one JSON object per message ---------------------------------------------------------


def encode_error(exc: PipelineError) -> dict[str, Any]:
    fields: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, InvalidImageError):
        fields.update(reason=exc.reason, detail=exc.detail)
    if isinstance(exc, StageError):
        fields["stage"] = exc.stage
    return fields


def decode_error(fields: dict[str, Any]) -> PipelineError:
    kind, message = fields.get("type"), str(fields.get("message", ""))
    if kind == "InvalidImageError":
        return InvalidImageError(fields["reason"], fields.get("detail", ""))
    if kind == "FetchError":
        return FetchError(message)
    stage = str(fields.get("stage", "pipeline"))
    detail = message.removeprefix(f"{stage} failed").removeprefix(": ")
    return (StageTimeout if kind == "StageTimeout" else StageError)(stage, detail)


def encode_event(event: Event) -> dict[str, Any]:
    match event:
        case StageStarted(stage):
            return {"kind": "started", "stage": stage.value}
        case CaptionReady(caption_en, caption_pt, facts):
            return {"kind": "caption", "en": caption_en, "pt": caption_pt, "facts": facts and facts.to_dict()}
        case StoryReady(story_en, story_pt):
            return {"kind": "story", "en": story_en, "pt": story_pt}
        case VoiceReady(voice):
            fields = dataclasses.asdict(voice)
            return {"kind": "voice", **fields, "ogg": base64.b64encode(voice.ogg).decode()}
        case StageFailed(stage, error):
            return {"kind": "failed", "stage": stage.value, "error": encode_error(error)}
    raise TypeError(f"not a pipeline event: {event!r}")


def decode_event(fields: dict[str, Any]) -> Event:
    match fields["kind"]:
        case "started":
            return StageStarted(Stage(fields["stage"]))
        case "caption":
            facts = fields.get("facts")
            return CaptionReady(fields["en"], fields["pt"], PhotoFacts.from_dict(facts) if facts else None)
        case "story":
            return StoryReady(fields["en"], fields["pt"])
        case "voice":
            voice = {f.name: fields[f.name] for f in dataclasses.fields(Voice)}
            return VoiceReady(Voice(**{**voice, "ogg": base64.b64decode(fields["ogg"])}))
        case "failed":
            return StageFailed(Stage(fields["stage"]), decode_error(fields["error"]))
    raise ValueError(f"unknown event kind {fields['kind']!r}")


@dataclass(frozen=True)
class Message:
    """What one attempt of a job said: an event, its end (with stage timings), or the error that ended it."""

    attempt: int
    event: Event | None = None
    error: PipelineError | None = None
    timings: dict[str, float] | None = None

    def encode(self) -> bytes:
        body: dict[str, Any] = {"attempt": self.attempt}
        if self.event is not None:
            body.update(encode_event(self.event))
        elif self.error is not None:
            body.update(kind="error", error=encode_error(self.error))
        else:
            body.update(kind="done", timings=self.timings or {})
        return json.dumps(body).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Message:
        fields = json.loads(raw)
        attempt = int(fields["attempt"])
        match fields["kind"]:
            case "done":
                return cls(attempt, timings={k: float(v) for k, v in fields["timings"].items()})
            case "error":
                return cls(attempt, error=decode_error(fields["error"]))
        return cls(attempt, event=decode_event(fields))


def event_key(event: Event) -> str:
    """Each kind of event happens at most once per photo: this names it, to drop re-runs' repeats."""
    match event:
        case StageStarted(stage):
            return f"started:{stage.value}"
        case StageFailed(stage, _):
            return f"failed:{stage.value}"
    return type(event).__name__


# --- The bot's side ----------------------------------------------------------------------------------


class RemotePipeline:
    """The pipeline as the handlers see it, run by workers through the Redis queue at `queue_url`."""

    def __init__(self, settings: PipelineSettings, redis: ArqRedis | None = None) -> None:
        if not settings.queue_url and redis is None:
            raise ValueError("RemotePipeline needs settings.queue_url")
        self.settings = settings
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
        if not await self.workers():
            log.warning("no pipeline worker has reported yet", extra={"queue": self.settings.queue_name})
        return time.perf_counter() - started

    async def readiness(self) -> str | None:
        """None when jobs can be served now, else what is missing (for /readyz)."""
        try:
            redis = await self._pool()
            async with asyncio.timeout(3):
                await redis.ping()
                alive = await self.workers()
        except (RedisError, OSError, TimeoutError) as exc:
            return f"redis unreachable ({type(exc).__name__})"
        return None if alive else "no worker heartbeat"

    async def workers(self) -> int:
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

    async def stream(
        self,
        source: ImageSource,
        *,
        voice_language: Language | None = None,
        timings: dict[str, float] | None = None,
    ) -> AsyncIterator[Event]:
        """Like `Pipeline.stream`: the same events and errors, produced by a worker."""
        s = self.settings
        photo = await self._photo(source)
        job_id = secrets.token_hex(16)
        deadline = time.monotonic() + s.queue_deadline_s
        try:
            redis = await self._pool()
            await redis.enqueue_job(JOB_NAME, photo, voice_language, _job_id=job_id, _expires=s.queue_deadline_s)
        except (RedisError, OSError) as exc:  # the handlers apologise for a StageError like for any other
            log.error("could not enqueue a job", extra={"error": repr(exc)})
            raise StageError("queue", type(exc).__name__) from exc
        yielded: set[str] = set()
        attempt, ended = 1, False
        try:
            while True:
                message = await self._next_message(redis, job_id, deadline)
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
                if message.event is not None:
                    key = event_key(message.event)
                    if key not in yielded:
                        yielded.add(key)
                        yield message.event
                    continue
                ended = True
                if message.error is not None:
                    fallback = _fallback(yielded, message.error)
                    if fallback is not None:
                        yield fallback
                elif timings is not None and message.timings:
                    timings.update(message.timings)
                return
        finally:
            with contextlib.suppress(RedisError, OSError):
                await (redis.delete(events_key(job_id)) if ended else self._abandon(redis, job_id))

    async def _photo(self, source: ImageSource) -> dict[str, str]:
        """URLs travel as they are; bytes and local files (which workers cannot see) travel as bytes."""
        if is_url(source):
            return {"url": str(source)}
        s = self.settings
        data = await read_source(source, max_bytes=s.max_image_bytes, timeout_s=s.fetch_timeout_s)
        return {"data": base64.b64encode(data).decode()}

    async def _next_message(self, redis: ArqRedis, job_id: str, deadline: float) -> Message | None:
        """The job's next message, or None once the deadline passed or arq dropped the job without one."""
        key = events_key(job_id)
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                popped = await redis.blpop([key], timeout=min(remaining, POLL_S))
                if popped is None:
                    status = await Job(job_id, redis, _queue_name=self.settings.queue_name).status()
                    if status not in (JobStatus.complete, JobStatus.not_found):
                        continue
                    # The job ended: anything it said is in the list by now.
                    popped = (key, await redis.lpop(key))
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


def build_pipeline(settings: PipelineSettings) -> Pipeline | RemotePipeline:
    """The in-process pipeline, or the remote one when a queue URL is configured."""
    return RemotePipeline(settings) if settings.queue_url else Pipeline(settings)


# --- The worker's side -------------------------------------------------------------------------------


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

    async def write(self, facts: PhotoFacts) -> str:
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


async def story_job(ctx: dict[str, Any], photo: dict[str, str], voice_language: Language | None) -> None:
    """The arq job: run the pipeline on one photo and push each event for the bot, as it happens.

    `ctx` holds arq's `redis`, `job_id` and `job_try`, and the worker's warm `pipeline` (worker.py).
    """
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

    source: ImageSource = photo["url"] if "url" in photo else base64.b64decode(photo["data"])
    async with _lease(redis, job_id, pipeline.settings.worker_lease_s):
        if attempt > 1:
            checkpoint = {k.decode(): v.decode() for k, v in (await redis.hgetall(saved)).items()}
            pipeline = _replaying(pipeline, checkpoint)
            log.info("re-running a job", extra={"job_id": job_id, "attempt": attempt, "replayed": sorted(checkpoint)})
        timings: dict[str, float] = {}
        try:
            async for event in pipeline.stream(source, voice_language=voice_language, timings=timings):
                await push(Message(attempt, event=event), _checkpoint(event))
        except PipelineError as exc:
            await push(Message(attempt, error=exc))
        except Exception as exc:  # a bug in a backend: tell the bot now rather than let it wait for its deadline
            log.exception("story job crashed", extra={"job_id": job_id})
            await push(Message(attempt, error=StageError("pipeline", type(exc).__name__)))
        else:
            await push(Message(attempt, timings=timings))
        await redis.delete(saved)


def _checkpoint(event: Event) -> dict[str, str] | None:
    """What a re-run must replay to tell the same story: the English caption and story, once they exist."""
    match event:
        case CaptionReady(caption_en, _, facts):
            return {"facts": json.dumps((facts or PhotoFacts(caption_en)).to_dict())}
        case StoryReady(story_en, _):
            return {"story_en": story_en}
    return None
