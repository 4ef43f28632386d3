"""The pipeline: photo → English caption → Portuguese caption, English story → Portuguese story → voice.

`Pipeline.stream()` yields events as soon as each part exists, so the bot can send the caption while
the story is still being written. Independent stages overlap: the caption is translated while the story
is written, and an English narration starts as soon as the English story exists. Every stage has a time
budget; a stage that fails or times out is reported as `StageFailed` and the parts that do not depend on
it are still delivered (e.g. caption and story without the voice).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from .caption import Captioner, build_captioner
from .config import Language, PipelineSettings
from .errors import PipelineError, StageError, StageTimeout
from .facts import PhotoFacts
from .images import ImageSource, LoadedImage, decode_image, read_source
from .speech import Voice, VoiceSynthesizer, build_synthesizer
from .story import StoryWriter, build_story_writer
from .translate import Translator, build_translator
from .workers import run_cpu

log = logging.getLogger(__name__)
T = TypeVar("T")


class Stage(StrEnum):
    DECODE = "decode"
    CAPTION = "caption"
    TRANSLATE_CAPTION = "translate_caption"
    STORY = "story"
    TRANSLATE_STORY = "translate_story"
    SPEECH = "speech"


@dataclass(frozen=True)
class StageStarted:
    stage: Stage


@dataclass(frozen=True)
class CaptionReady:
    caption_en: str
    caption_pt: str
    facts: PhotoFacts | None = None  # what the caption is made of (the story's input)


@dataclass(frozen=True)
class StoryReady:
    story_en: str
    story_pt: str


@dataclass(frozen=True)
class VoiceReady:
    voice: Voice


@dataclass(frozen=True)
class StageFailed:
    stage: Stage
    error: PipelineError


Event = StageStarted | CaptionReady | StoryReady | VoiceReady | StageFailed


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


@dataclass
class Backends:
    """One instance of each stage's backend, shared by all requests (models load once)."""

    captioner: Captioner
    story_writer: StoryWriter
    translator: Translator
    synthesizers: dict[str, VoiceSynthesizer]

    @classmethod
    def from_settings(cls, settings: PipelineSettings) -> Backends:
        return cls(
            captioner=build_captioner(settings),
            story_writer=build_story_writer(settings),
            translator=build_translator(settings),
            synthesizers={lang: build_synthesizer(settings, lang) for lang in ("pt", "en")},
        )

    def all(self) -> list[Any]:
        return [self.captioner, self.story_writer, self.translator, *self.synthesizers.values()]


class StoryPipeline(Protocol):
    """What callers (the bot) need from a pipeline: in-process (`Pipeline`) or on workers (`RemotePipeline`)."""

    async def warm_up(self) -> float: ...

    def stream(
        self, source: ImageSource, *, voice_language: Language | None = None, timings: dict[str, float] | None = None
    ) -> AsyncIterator[Event]: ...

    async def readiness(self) -> str | None: ...

    async def close(self) -> None: ...


class Pipeline:
    """Turns a photo into captions, a story and a voice. Safe to share between concurrent requests."""

    def __init__(self, settings: PipelineSettings | None = None, backends: Backends | None = None) -> None:
        self.settings = settings or PipelineSettings()
        self.backends = backends or Backends.from_settings(self.settings)

    async def warm_up(self) -> float:
        """Load every model now (in parallel threads) instead of on the first request; returns seconds."""
        started = time.perf_counter()
        await asyncio.gather(*(run_cpu(backend.load) for backend in self.backends.all()))
        seconds = time.perf_counter() - started
        log.info("pipeline warm", extra={"seconds": round(seconds, 2)})
        return seconds

    async def readiness(self) -> str | None:
        """None: models are in this process and load on first use at worst."""
        return None

    async def close(self) -> None:
        """Nothing to release: models live as long as the process."""

    async def load_image(self, source: ImageSource) -> LoadedImage:
        """Read and validate a photo; raises InvalidImageError or FetchError."""
        s = self.settings
        data = await read_source(
            source, max_bytes=s.max_image_bytes, timeout_s=s.fetch_timeout_s, max_redirects=s.fetch_max_redirects
        )
        return await run_cpu(decode_image, data, max_bytes=s.max_image_bytes, max_pixels=s.max_image_pixels)

    async def run(
        self,
        source: ImageSource,
        *,
        voice_language: Language | None = None,
        on_event: Callable[[Event], Awaitable[None]] | None = None,
    ) -> PipelineResult:
        """Run every stage and return the result; `on_event` sees each event as it happens."""
        result = PipelineResult()
        async for event in self.stream(source, voice_language=voice_language, timings=result.timings):
            result.apply(event)
            if on_event is not None:
                await on_event(event)
        return result

    async def stream(
        self,
        source: ImageSource,
        *,
        voice_language: Language | None = None,
        timings: dict[str, float] | None = None,
    ) -> AsyncIterator[Event]:
        """Yield events in order: caption, story, voice (with StageStarted/StageFailed between).

        Input errors (InvalidImageError, FetchError) and a failed caption are raised: without a caption
        there is nothing to tell. Later failures are yielded as StageFailed and the rest goes on.
        """
        timings = {} if timings is None else timings
        language = voice_language or self.settings.voice_language
        b = self.backends
        tasks: list[asyncio.Task[Any]] = []

        def start(stage: Stage, make: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
            task = asyncio.create_task(self._timed(stage, make, timings))
            tasks.append(task)
            return task

        try:
            yield StageStarted(Stage.DECODE)
            loaded = await self._timed(Stage.DECODE, lambda: self.load_image(source), timings, wrap=False)
            yield StageStarted(Stage.CAPTION)
            facts = await self._timed(Stage.CAPTION, lambda: b.captioner.caption(loaded.image), timings)
            caption_en = facts.caption

            caption_pt_task = start(Stage.TRANSLATE_CAPTION, lambda: b.translator.translate(caption_en))
            story_task = start(Stage.STORY, lambda: b.story_writer.write(facts))
            try:
                caption_pt = await caption_pt_task
            except StageError as exc:
                yield StageFailed(Stage.TRANSLATE_CAPTION, exc)
                caption_pt = caption_en
            yield CaptionReady(caption_en, caption_pt, facts)

            yield StageStarted(Stage.STORY)
            try:
                story_en = await story_task
            except StageError as exc:
                yield StageFailed(Stage.STORY, exc)
                return
            voice_task = None
            if language == "en":
                voice_task = start(Stage.SPEECH, lambda: b.synthesizers["en"].synthesize(story_en))
            story_pt_task = start(Stage.TRANSLATE_STORY, lambda: b.translator.translate(story_en))
            try:
                story_pt = await story_pt_task
            except StageError as exc:
                yield StageFailed(Stage.TRANSLATE_STORY, exc)
                story_pt = None
            yield StoryReady(story_en, story_pt or story_en)

            yield StageStarted(Stage.SPEECH)
            if voice_task is None:
                # Without a Portuguese text, the English story is read by the English voice.
                text, voice_lang = (story_pt, "pt") if story_pt else (story_en, "en")
                voice_task = start(Stage.SPEECH, lambda: b.synthesizers[voice_lang].synthesize(text))
            try:
                yield VoiceReady(await voice_task)
            except StageError as exc:
                yield StageFailed(Stage.SPEECH, exc)
        finally:
            for task in tasks:
                task.cancel()

    async def _timed(
        self,
        stage: Stage,
        make: Callable[[], Awaitable[T]],
        timings: dict[str, float],
        *,
        wrap: bool = True,
    ) -> T:
        """Run one stage within its time budget, record its duration, and name it in any failure.

        With wrap=False pipeline errors (bad input) pass through unchanged for the caller to explain.
        """
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.settings.stage_timeout_s):
                return await make()
        except TimeoutError as exc:
            log.warning("stage timed out", extra={"stage": stage.value})
            raise StageTimeout(stage.value, f"over {self.settings.stage_timeout_s:.0f} s") from exc
        except PipelineError as exc:
            if not wrap:
                raise
            log.warning("stage failed", extra={"stage": stage.value, "reason": exc.reason})
            raise StageError(stage.value, exc.reason) from exc
        except Exception as exc:
            log.exception("stage crashed", extra={"stage": stage.value})
            raise StageError(stage.value, type(exc).__name__) from exc
        finally:
            timings[stage.value] = time.perf_counter() - started
