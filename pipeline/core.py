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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .caption import Captioner, build_captioner
from .config import Language, PipelineSettings
from .errors import PipelineError, StageError, StageTimeout
from .events import (
    CaptionReady,
    Event,
    Finished,
    PipelineResult,
    Stage,
    StageFailed,
    StageStarted,
    StoryReady,
    VoiceReady,
)
from .images import ImageSource, LoadedImage, decode_image, read_source
from .speech import VoiceSynthesizer, build_synthesizer
from .story import StoryWriter, build_story_writer
from .threads import run_cpu
from .translate import Translator, build_translator

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Backends:
    """One instance of each stage's backend, shared by all requests (models load once)."""

    captioner: Captioner
    story_writer: StoryWriter
    translator: Translator
    synthesizers: Mapping[str, VoiceSynthesizer]  # by language

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
        async for event in self.stream(source, voice_language=voice_language):
            result.apply(event)
            if on_event is not None:
                await on_event(event)
        return result

    async def stream(self, source: ImageSource, *, voice_language: Language | None = None) -> AsyncIterator[Event]:
        """Yield events in order: caption, story, voice (with StageStarted/StageFailed between), then Finished.

        Input errors (InvalidImageError, FetchError) and a failed caption are raised: without a caption
        there is nothing to tell. Later failures are yielded as StageFailed and the rest goes on.
        """
        timings: dict[str, float] = {}
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
            caption_pt = await _settle(caption_pt_task, Stage.TRANSLATE_CAPTION)
            if isinstance(caption_pt, StageFailed):
                yield caption_pt
                caption_pt = caption_en
            yield CaptionReady(caption_en, caption_pt, facts)

            yield StageStarted(Stage.STORY)
            story_en = await _settle(story_task, Stage.STORY)
            if isinstance(story_en, StageFailed):
                yield story_en
                yield Finished(timings)
                return
            voice_task = None
            if language == "en":
                voice_task = start(Stage.SPEECH, lambda: b.synthesizers["en"].synthesize(story_en))
            translated = await _settle(
                start(Stage.TRANSLATE_STORY, lambda: b.translator.translate(story_en)), Stage.TRANSLATE_STORY
            )
            if isinstance(translated, StageFailed):
                yield translated
            story_pt = None if isinstance(translated, StageFailed) else translated
            yield StoryReady(story_en, story_pt or story_en)

            yield StageStarted(Stage.SPEECH)
            if voice_task is None:
                # Without a Portuguese text, the English story is read by the English voice.
                text, voice_lang = (story_pt, "pt") if story_pt else (story_en, "en")
                voice_task = start(Stage.SPEECH, lambda: b.synthesizers[voice_lang].synthesize(text))
            voice = await _settle(voice_task, Stage.SPEECH)
            yield voice if isinstance(voice, StageFailed) else VoiceReady(voice)
            yield Finished(timings)
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


async def _settle(task: asyncio.Task[T], stage: Stage) -> T | StageFailed:
    """The stage's result, or its failure as the event that tells it (the other stages go on)."""
    try:
        return await task
    except StageError as exc:
        return StageFailed(stage, exc)
