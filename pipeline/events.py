"""The pipeline's contract: its stages, the events a story run yields, the result they add up to, and the
`StoryPipeline` protocol that the in-process engine (`core.Pipeline`) and the Redis one
(`remote.RemotePipeline`) both implement.

Cheap to import (no model library, no numpy): the handlers, the metrics and the wire format need only this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pipeline.config import Language
from pipeline.errors import PipelineError
from pipeline.facts import PhotoFacts

if TYPE_CHECKING:
    from pipeline.images import ImageSource

__all__ = [
    "CaptionReady",
    "Event",
    "Finished",
    "PipelineInput",
    "PipelineResult",
    "Stage",
    "StageFailed",
    "StageStarted",
    "StoryKind",
    "StoryLength",
    "StoryOptions",
    "StoryPipeline",
    "StoryReady",
    "StorySentence",
    "Voice",
    "VoiceReady",
]


class Stage(StrEnum):
    DECODE = "decode"
    CAPTION = "caption"
    TRANSLATE_WORDS = "translate_words"  # the user's own words, for the writer
    TRANSLATE_CAPTION = "translate_caption"
    STORY = "story"
    TRANSLATE_STORY = "translate_story"
    SPEECH = "speech"


StoryKind = Literal["classic", "bedtime", "adventure", "fable", "mystery", "funny", "poem"]  # classic: the default
StoryLength = Literal["short", "medium", "long"]  # about 60, 120 and 200 words (a poem: half)


@dataclass(frozen=True)
class StoryOptions:
    """How a story is wanted: the chat's kind, length and main character, and the user's own words about this
    photo. Words are written as the user wrote them (Portuguese, usually): they become the story's facts
    (`pipeline.own_words`), never its instructions."""

    kind: StoryKind = "classic"
    length: StoryLength = "medium"
    main_character: str = ""  # the chat's hero, "Thor, nosso cachorro"; "" for one the story invents
    hint: str = ""  # who and what is in the photo, where: "minha filha Iara em Gramado"; "" for none
    seed: int | None = None  # the story's random seed; None: the `story_seed` setting (itself None: random)


@dataclass(frozen=True)
class Voice:
    ogg: bytes  # OGG/Opus, mono, ready for Telegram sendVoice
    seconds: float
    language: str  # "pt" | "en"
    backend: str


@dataclass(frozen=True)
class StageStarted:
    stage: Stage


@dataclass(frozen=True)
class CaptionReady:
    caption_en: str
    caption_pt: str
    facts: PhotoFacts | None = None  # what the caption is made of (the story's input)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: the store, the workers' wire, the web page and the CLI all use this one form."""
        return {
            "caption_en": self.caption_en,
            "caption_pt": self.caption_pt,
            "facts": self.facts and self.facts.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaptionReady:
        facts = data.get("facts")
        return cls(data["caption_en"], data["caption_pt"], PhotoFacts.from_dict(facts) if facts else None)


@dataclass(frozen=True)
class StorySentence:
    """One more sentence of the story being written, with its translation (before StoryReady, if streamed)."""

    sentence_en: str
    sentence_pt: str


@dataclass(frozen=True)
class StoryReady:
    story_en: str
    story_pt: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, as `CaptionReady.to_dict`."""
        return {"story_en": self.story_en, "story_pt": self.story_pt}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoryReady:
        return cls(data["story_en"], data["story_pt"])


@dataclass(frozen=True)
class VoiceReady:
    voice: Voice


@dataclass(frozen=True)
class StageFailed:
    stage: Stage
    error: PipelineError


@dataclass(frozen=True)
class Finished:
    """The last event of a run that was not aborted: how long each stage took, in seconds."""

    timings: dict[str, float]


Event = StageStarted | CaptionReady | StorySentence | StoryReady | VoiceReady | StageFailed | Finished


@dataclass(frozen=True)
class PipelineInput:
    """What one run is given: the photo, or the caption (with or without its story) of an earlier run to go on
    from, which then need no photo; the voice's language (None: the `voice_language` setting); how the story is
    wanted. A given caption or story is yielded again first, as if it had just been made."""

    photo: ImageSource | None = None
    caption: CaptionReady | None = None
    story: StoryReady | None = None
    voice_language: Language | None = None
    options: StoryOptions = field(default_factory=StoryOptions)

    def __post_init__(self) -> None:
        if self.caption is None and (self.photo is None or self.story is not None):
            raise ValueError("a run needs a photo, or the caption (with or without its story)")


@dataclass
class PipelineResult:
    """Everything one photo produced. Missing parts are None and their stage is in `errors`."""

    caption_en: str | None = None
    caption_pt: str | None = None
    facts: PhotoFacts | None = None
    story_en: str | None = None
    story_pt: str | None = None
    voice: Voice | None = None
    timings: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def apply(self, event: Event) -> None:
        match event:
            case CaptionReady(caption_en, caption_pt, facts):
                self.caption_en, self.caption_pt, self.facts = caption_en, caption_pt, facts
            case StoryReady(story_en, story_pt):
                self.story_en, self.story_pt = story_en, story_pt
            case VoiceReady(voice):
                self.voice = voice
            case StageFailed(stage, error):
                self.errors[stage.value] = error.reason
            case Finished(timings):
                self.timings = dict(timings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "caption_pt": self.caption_pt,
            "caption_en": self.caption_en,
            "facts": self.facts.to_dict() if self.facts else None,
            "story_pt": self.story_pt,
            "story_en": self.story_en,
            "voice_language": self.voice.language if self.voice else None,
            "voice_seconds": round(self.voice.seconds, 2) if self.voice else None,
            "timings": {stage: round(seconds, 3) for stage, seconds in self.timings.items()},
            "errors": self.errors,
        }


class StoryPipeline(Protocol):
    """What callers (the bot) need from a pipeline: in-process (`Pipeline`) or on workers (`RemotePipeline`)."""

    async def warm_up(self) -> float: ...

    async def describe(self, source: ImageSource, options: StoryOptions | None = None) -> CaptionReady:
        """The caption alone (decode, caption, its translation): its facts are always set, with what the user told
        in `options` (their words, the chat's main character).

        Raises InvalidImageError / FetchError for bad input and StageError if the caption fails; a failed
        translation does not raise (the Portuguese caption is then the English one)."""
        ...

    def stream(self, asked: PipelineInput) -> AsyncIterator[Event]:
        """The events of one run (`PipelineInput` says what it starts from)."""
        ...

    async def readiness(self) -> str | None: ...

    async def close(self) -> None: ...
