"""The wire between the bot and the pipeline workers: Redis keys, arq's serializer, and one JSON message per
event, error or end of a job attempt. Imports no model code.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import json
import socket
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from arq.connections import RedisSettings
from arq.constants import health_check_key_suffix

from pipeline.config import Language, PipelineSettings
from pipeline.errors import FetchError, InvalidImageError, PipelineError, StageError, StageTimeout
from pipeline.events import (
    CaptionReady,
    Event,
    Finished,
    PipelineInput,
    Stage,
    StageFailed,
    StageStarted,
    StoryOptions,
    StoryReady,
    Voice,
    VoiceReady,
)

if TYPE_CHECKING:
    from pipeline.images import ImageSource

JOB_NAME = "story"  # the events of one photo (or of a caption, or of a story to read)
DESCRIBE_JOB_NAME = "describe"  # the caption alone
KEY_PREFIX = "conta-historias"
# Of the job requests; 1 was (photo, voice_language) as two arguments, 2 had no story options, 3 no user's words,
# 4 no story seed and other names for a caption's and a story's fields.
WIRE_VERSION = 5

T = TypeVar("T")


async def redis_reply(command: Awaitable[T] | T) -> T:
    """A Redis command's reply: redis-py types its commands for the sync and async clients at once
    (`Awaitable[T] | T`); on arq's async client they are awaitables."""
    if inspect.isawaitable(command):
        return await command
    return command


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
        case CaptionReady():
            return {"kind": "caption", **event.to_dict()}
        case StoryReady():
            return {"kind": "story", **event.to_dict()}
        case VoiceReady(voice):
            fields = dataclasses.asdict(voice)
            return {"kind": "voice", **fields, "ogg": base64.b64encode(voice.ogg).decode()}
        case StageFailed(stage, error):
            return {"kind": "failed", "stage": stage.value, "error": encode_error(error)}
        case Finished(timings):
            return {"kind": "finished", "timings": timings}
    raise TypeError(f"not a pipeline event: {event!r}")


def decode_event(fields: dict[str, Any]) -> Event:
    match fields["kind"]:
        case "started":
            return StageStarted(Stage(fields["stage"]))
        case "caption":
            return CaptionReady.from_dict(fields)
        case "story":
            return StoryReady.from_dict(fields)
        case "voice":
            voice = {f.name: fields[f.name] for f in dataclasses.fields(Voice)}
            return VoiceReady(Voice(**{**voice, "ogg": base64.b64decode(fields["ogg"])}))
        case "failed":
            return StageFailed(Stage(fields["stage"]), decode_error(fields["error"]))
        case "finished":
            return Finished({stage: float(seconds) for stage, seconds in fields["timings"].items()})
    raise ValueError(f"unknown event kind {fields['kind']!r}")


@dataclass(frozen=True)
class Message:
    """What one attempt of a job said: an event (`Finished` is its end), or the error that ended it."""

    attempt: int
    event: Event | None = None
    error: PipelineError | None = None

    def encode(self) -> bytes:
        body: dict[str, Any] = {"attempt": self.attempt}
        if self.event is not None:
            body.update(encode_event(self.event))
        elif self.error is not None:
            body.update(kind="error", error=encode_error(self.error))
        return json.dumps(body).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Message:
        fields = json.loads(raw)
        attempt = int(fields["attempt"])
        if fields["kind"] == "error":
            return cls(attempt, error=decode_error(fields["error"]))
        return cls(attempt, event=decode_event(fields))


class WireVersionError(ValueError):
    """A job request of another version than this side speaks (bot and workers of different releases)."""


@dataclass(frozen=True)
class JobRequest:
    """What a job is asked: a `PipelineInput` with its photo as a job carries it (a media-server URL or base64
    bytes), or without a photo when it carries the caption (and the story) to go on from."""

    photo: dict[str, str] | None = None
    voice_language: Language | None = None
    caption: CaptionReady | None = None
    story: StoryReady | None = None
    options: StoryOptions = field(default_factory=StoryOptions)

    @classmethod
    def of(cls, asked: PipelineInput, photo: dict[str, str] | None = None) -> JobRequest:
        return cls(photo, asked.voice_language, asked.caption, asked.story, asked.options)

    def input(self, photo: ImageSource | None) -> PipelineInput:
        """The run this job asks for, with the photo as the worker got it."""
        return PipelineInput(photo, self.caption, self.story, self.voice_language, self.options)

    def encode(self) -> dict[str, Any]:
        return {
            "v": WIRE_VERSION,
            "photo": self.photo,
            "voice_language": self.voice_language,
            "caption": self.caption and self.caption.to_dict(),
            "story": self.story and self.story.to_dict(),
            "options": dataclasses.asdict(self.options),
        }

    @classmethod
    def decode(cls, fields: dict[str, Any]) -> JobRequest:
        if fields.get("v") != WIRE_VERSION:
            raise WireVersionError(f"job request version {fields.get('v')!r}, this side speaks {WIRE_VERSION}")
        caption = CaptionReady.from_dict(fields["caption"]) if fields.get("caption") else None
        story = StoryReady.from_dict(fields["story"]) if fields.get("story") else None
        return cls(fields.get("photo"), fields.get("voice_language"), caption, story, StoryOptions(**fields["options"]))


def event_key(event: Event) -> str:
    """Each kind of event happens at most once per photo: this names it, to drop re-runs' repeats."""
    match event:
        case StageStarted(stage):
            return f"started:{stage.value}"
        case StageFailed(stage, _):
            return f"failed:{stage.value}"
    return type(event).__name__
