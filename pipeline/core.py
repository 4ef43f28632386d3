"""The pipeline: photo → English caption → Portuguese caption, English story → Portuguese story → voice.

`Pipeline.stream()` yields events as soon as each part exists, so the bot can send the caption while
the story is still being written. Independent stages overlap: the caption is translated while the story
is written, each sentence of the story is translated (and yielded) as soon as the writer has it, and an
English narration starts as soon as the English story exists. Every stage has a time budget; a stage that
fails or times out is reported as `StageFailed` and the parts that do not depend on it are still delivered
(e.g. caption and story without the voice).

What the user told about the photo (their words, the chat's main character: `StoryOptions`) is translated while
the photo is captioned and becomes part of its facts (`own_words`); every translation keeps the names they wrote
(`names`), and a story that left one out ends with our sentence naming it.

Whichever writer wrote it, a story is told only as far as it is fit for children (`safety`), in English and in
Portuguese: a sentence that is not is never yielded, nor anything after it; the story is cut before it when
enough is left, else written once more, else the story stage fails.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pipeline.backends import Backends
from pipeline.caption.evidence import default_vocabulary
from pipeline.config import Language, PipelineSettings
from pipeline.errors import PipelineError, StageError, StageTimeout, UnsuitableStory
from pipeline.events import (
    CaptionReady,
    Event,
    Finished,
    PipelineInput,
    PipelineResult,
    Stage,
    StageFailed,
    StageStarted,
    StoryOptions,
    StoryReady,
    StorySentence,
    Voice,
    VoiceReady,
)
from pipeline.facts import PhotoFacts
from pipeline.images import ImageSource, LoadedImage, decode_image, read_source
from pipeline.interfaces import SentenceSink
from pipeline.names import translated_keeping
from pipeline.own_words import names_coda, read_told, told_facts
from pipeline.safety import cut_at_unsuitable, enough_left, is_suitable, unsuitable_words
from pipeline.story.styles import STYLES
from pipeline.text import split_sentences
from pipeline.threads import run_cpu
from pipeline.translation.translators import join_translations

log = logging.getLogger(__name__)
T = TypeVar("T")


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
        self, asked: PipelineInput, on_event: Callable[[Event], Awaitable[None]] | None = None
    ) -> PipelineResult:
        """Run every stage and return the result; `on_event` sees each event as it happens."""
        result = PipelineResult()
        async for event in self.stream(asked):
            result.apply(event)
            if on_event is not None:
                await on_event(event)
        return result

    async def describe(self, source: ImageSource, options: StoryOptions | None = None) -> CaptionReady:
        """Decode, caption and translate the caption, nothing else (the caption's own fast path); the facts include
        what the user told in `options` (their words, the chat's main character).

        Raises InvalidImageError or FetchError for bad input and StageError for a failed caption; a failed
        translation only logs, and the Portuguese caption is then the English one.
        """
        run = _Run(self.settings.stage_timeout_s)
        try:
            facts = await self._caption(run, await self._decode(run, source), options)
            caption, _ = await self._translate_caption(run, facts)
            return caption
        finally:
            run.cancel()

    async def stream(self, asked: PipelineInput) -> AsyncIterator[Event]:
        """Yield events in order: caption, story, voice (with StageStarted/StageFailed between), then Finished.

        The story is of the kind and length `asked.options` ask for. A writer that streams its text (the llama one)
        gives each sentence as a StorySentence, translated, as soon as it is written, before the StoryReady
        with the whole texts; the Portuguese story is then made of these translations.

        Input errors (InvalidImageError, FetchError) and a failed caption are raised: without a caption
        there is nothing to tell. Later failures are yielded as StageFailed and the rest goes on.
        With `asked.caption` (from `describe`) the photo is not needed and the run starts at the story; with
        `asked.story` too it only speaks. Either given part is yielded again, as if it had just been made.
        """
        caption, story, options = asked.caption, asked.story, asked.options
        language = asked.voice_language or self.settings.voice_language
        run = _Run(self.settings.stage_timeout_s)
        try:
            writing = None
            if caption is None:
                assert asked.photo is not None  # PipelineInput has a photo when it has no caption
                yield StageStarted(Stage.DECODE)
                loaded = await self._decode(run, asked.photo)
                yield StageStarted(Stage.CAPTION)
                facts = await self._caption(run, loaded, options)
                writing = self._start_story(run, facts, options)  # written while the caption is translated
                caption, failed = await self._translate_caption(run, facts)
                if failed is not None:
                    yield failed
            yield caption
            if story is None:
                async for event in self._tell(run, caption, language, options, writing):
                    yield event
            else:
                yield story
                async for event in self._speak(run, story, language):
                    yield event
            yield Finished(run.timings)
        finally:
            run.cancel()

    async def _decode(self, run: _Run, source: ImageSource) -> LoadedImage:
        """The photo, read and validated; bad input raises as it is (not as a stage failure)."""
        return await run.timed(Stage.DECODE, lambda: self.load_image(source), wrap=False)

    async def _caption(self, run: _Run, loaded: LoadedImage, options: StoryOptions | None) -> PhotoFacts:
        """What the captioner sees in the photo, with what the user told in `options` on top (`own_words`); raises
        StageError if the captioner cannot tell."""
        options = options or StoryOptions()
        told = None
        if options.hint or options.main_character:  # translated while the photo is captioned
            words = self.backends.words_translator
            told = run.start(Stage.TRANSLATE_WORDS, lambda: read_told(options, words.translate))
        facts = await run.timed(Stage.CAPTION, lambda: self.backends.captioner.caption(loaded.image))
        if told is None:
            return facts
        read = await _settle(told, Stage.TRANSLATE_WORDS)
        if isinstance(read, StageFailed):  # the writer reads the user's words as they wrote them
            read = await read_told(options, _as_written)
        run.names = read.names
        return told_facts(facts, read, default_vocabulary())

    async def _translate_caption(self, run: _Run, facts: PhotoFacts) -> tuple[CaptionReady, StageFailed | None]:
        """The caption in both languages (English twice if the translation failed), and that failure."""
        caption_pt = await self._translated(run, Stage.TRANSLATE_CAPTION, facts.caption)
        if isinstance(caption_pt, StageFailed):
            return CaptionReady(facts.caption, facts.caption, facts), caption_pt
        return CaptionReady(facts.caption, caption_pt, facts), None

    async def _translated(self, run: _Run, stage: Stage, text: str) -> str | StageFailed:
        """`text` in Portuguese, the names the user wrote kept as written, or the failure that says why not."""
        translate = self.backends.translator.translate
        return await _settle(run.start(stage, lambda: translated_keeping(translate, text, run.names)), stage)

    def _start_story(self, run: _Run, facts: PhotoFacts, options: StoryOptions | None) -> _Writing:
        """Start writing the English story from the caption's facts, and translating each sentence it is given."""
        return _Writing(
            run,
            lambda sink: self.backends.story_writer.write(facts, options, sink),
            functools.partial(self._translated, run, Stage.TRANSLATE_STORY),
        )

    async def _tell(
        self,
        run: _Run,
        caption: CaptionReady,
        language: Language,
        options: StoryOptions,
        writing: _Writing | None,
    ) -> AsyncIterator[Event]:
        """The story (written from the caption unless already started) sentence by sentence if the writer streams,
        then whole with its translation, then the voice. Only what is fit for children is told (`_suitable`)."""
        yield StageStarted(Stage.STORY)
        facts = caption.facts or PhotoFacts(caption.caption_en)
        run.names = facts.names
        writing = writing or self._start_story(run, facts, options)
        async for sentence in writing.sentences():
            yield sentence
        story_en = await _settle(writing.task, Stage.STORY)
        if isinstance(story_en, StageFailed):
            yield story_en
            return
        told = await self._suitable(run, facts, options, story_en, writing.translated, language)
        if isinstance(told, StageFailed):
            yield told
            return
        if coda := names_coda(told.story_en, facts):  # every name the user wrote is in their story
            coda_pt = await self._translated(run, Stage.TRANSLATE_STORY, coda)
            if isinstance(coda_pt, str):
                yield StorySentence(coda, coda_pt)
                told = told.ended_with(coda, coda_pt, "\n" if STYLES[options.kind].poem else " ")
        story_pt = told.story_pt
        if isinstance(story_pt, StageFailed):
            yield story_pt
            story_pt = told.story_en
        story = StoryReady(told.story_en, story_pt)
        yield story
        async for event in self._speak(run, story, language, told.voice):
            yield event

    async def _suitable(
        self,
        run: _Run,
        facts: PhotoFacts,
        options: StoryOptions | None,
        story_en: str,
        translated: dict[str, str],
        language: Language,
    ) -> _Told | StageFailed:
        """The story and its translation up to their first sentence unsuitable for children: all of it, or the
        part before that sentence when enough is left (`enough_left`); else a story written again (not streamed)
        and checked the same way; else the story stage fails (UnsuitableStory)."""
        first = await self._checked(run, story_en, translated, language)
        if first.whole:
            return first
        if enough_left(first.story_en):
            _log_caught("cut", first)
            return first
        first.cancel()
        again = await _settle(
            run.start(Stage.STORY, lambda: self.backends.story_writer.write(facts, options)), Stage.STORY
        )
        if isinstance(again, StageFailed):
            _log_caught("failed", first)
            return again
        second = await self._checked(run, again, {}, language)
        if second.whole or enough_left(second.story_en):
            _log_caught("written again" if second.whole else "written again and cut", first, second)
            return second
        second.cancel()
        _log_caught("failed", first, second)
        return _failure(Stage.STORY, UnsuitableStory("every story written was unsuitable for children too early"))

    async def _checked(self, run: _Run, story_en: str, translated: dict[str, str], language: Language) -> _Told:
        """`story_en` up to its first sentence unsuitable in English, then up to the first whose Portuguese is,
        and its translation. An English voice starts as soon as the English is known whole and suitable."""
        kept = cut_at_unsuitable(story_en, "en")
        # An English voice needs no translation: it reads while the story is translated.
        voice = self._start_voice(run, kept, "en") if language == "en" and kept == story_en else None
        story_pt = await self._translate_story(run, kept, translated) if kept else ""
        if isinstance(story_pt, str) and not is_suitable(story_pt, "pt"):
            caught_pt = unsuitable_words(story_pt, "pt")
            kept = await self._before_unsuitable_translation(run, kept, translated)
            story_pt = join_translations(kept, translated) or ""
            if not is_suitable(story_pt, "pt"):  # unsuitable only when whole: nothing can be told
                kept, story_pt = "", ""
            if voice is not None and kept != story_en:
                voice.cancel()
                voice = None
            return _Told(kept, story_pt, story_en, voice, caught_pt)
        return _Told(kept, story_pt, story_en, voice)

    async def _before_unsuitable_translation(self, run: _Run, story_en: str, translated: dict[str, str]) -> str:
        """`story_en` up to its first sentence (or line of a poem) whose Portuguese, translated alone, is unsuitable
        (or cannot be translated); `translated` gains the sentences' translations."""
        kept_lines: list[str] = []
        for line in story_en.split("\n"):
            kept: list[str] = []
            for piece in [line] if line in translated else split_sentences(line):
                if piece not in translated:
                    piece_pt = await self._translated(run, Stage.TRANSLATE_STORY, piece)
                    if isinstance(piece_pt, StageFailed):
                        return "\n".join([*kept_lines, " ".join(kept)]).rstrip()
                    translated[piece] = piece_pt
                if not is_suitable(translated[piece], "pt"):
                    return "\n".join([*kept_lines, " ".join(kept)]).rstrip()
                kept.append(piece)
            kept_lines.append(line)
        return story_en

    async def _translate_story(self, run: _Run, story_en: str, translated: dict[str, str]) -> str | StageFailed:
        """The Portuguese story: its sentences' translations put together when all are there, else translated."""
        joined = join_translations(story_en, translated)
        if joined is not None:
            return joined
        return await self._translated(run, Stage.TRANSLATE_STORY, story_en)

    async def _speak(
        self, run: _Run, story: StoryReady, language: Language, voice_task: asyncio.Task[Voice] | None = None
    ) -> AsyncIterator[Event]:
        """The voice of the story (unless already started): Portuguese, or English when asked or untranslated."""
        yield StageStarted(Stage.SPEECH)
        if voice_task is None:
            # Without a Portuguese text (its translation failed) the English story is read by the English voice.
            untranslated = story.story_pt == story.story_en
            text, lang = (story.story_en, "en") if language == "en" or untranslated else (story.story_pt, "pt")
            voice_task = self._start_voice(run, text, lang)
        voice = await _settle(voice_task, Stage.SPEECH)
        yield voice if isinstance(voice, StageFailed) else VoiceReady(voice)

    def _start_voice(self, run: _Run, text: str, language: str) -> asyncio.Task[Voice]:
        """Start reading `text` with the voice of `language`."""
        return run.start(Stage.SPEECH, lambda: self.backends.synthesizers[language].synthesize(text))


class _Writing:
    """A story being written (its stage task), each sentence the writer hands over translated at once, in order,
    however slowly the events are read."""

    def __init__(
        self,
        run: _Run,
        write: Callable[[SentenceSink], Awaitable[str]],
        translate: Callable[[str], Awaitable[str | StageFailed]],
    ) -> None:
        self.translated: dict[str, str] = {}  # each sentence's translation, for the whole story's
        self._written: asyncio.Queue[str | None] = asyncio.Queue()
        self._told: asyncio.Queue[StorySentence | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def sink(sentence: str) -> None:  # called from the writer's thread
            loop.call_soon_threadsafe(self._written.put_nowait, sentence)

        self.task = run.start(Stage.STORY, lambda: write(sink))
        # The writer's last sentence reaches the loop before its task ends: both travel by call_soon_threadsafe.
        self.task.add_done_callback(lambda _: self._written.put_nowait(None))
        run.tasks.append(asyncio.create_task(self._translate_each(translate)))

    async def _translate_each(self, translate: Callable[[str], Awaitable[str | StageFailed]]) -> None:
        """Translate and tell each sentence, until one is unsuitable for children in English or in Portuguese:
        that one and those after it are held back (the whole story's check cuts it there, or writes it again)."""
        held = False
        while (sentence_en := await self._written.get()) is not None:
            held = held or not is_suitable(sentence_en, "en")
            if held:
                continue
            sentence_pt = await translate(sentence_en)
            if isinstance(sentence_pt, StageFailed):  # told in English; the whole story's translation tries again
                sentence_pt = sentence_en
            else:
                self.translated[sentence_en] = sentence_pt
            held = not is_suitable(sentence_pt, "pt")
            if not held:
                self._told.put_nowait(StorySentence(sentence_en, sentence_pt))
        self._told.put_nowait(None)

    async def sentences(self) -> AsyncIterator[StorySentence]:
        """Each sentence, translated, until the story is done (or failed)."""
        while (sentence := await self._told.get()) is not None:
            yield sentence


@dataclass
class _Told:
    """A story as far as it is fit to tell, its translation (or why there is none), and its English voice if
    started; `caught_pt`: the unsuitable words of the Portuguese, when it was cut for them."""

    story_en: str
    story_pt: str | StageFailed
    written: str  # the whole story the writer gave
    voice: asyncio.Task[Voice] | None = None
    caught_pt: list[str] | None = None

    @property
    def whole(self) -> bool:
        """Nothing had to be cut."""
        return self.story_en == self.written and bool(self.story_en)

    def ended_with(self, sentence_en: str, sentence_pt: str, separator: str) -> _Told:
        """The story with one more sentence (ours) at its end; an English voice started without it is stopped."""
        self.cancel()
        story_pt = self.story_pt if isinstance(self.story_pt, StageFailed) else self.story_pt + separator + sentence_pt
        return _Told(self.story_en + separator + sentence_en, story_pt, self.written, None, self.caught_pt)

    def cancel(self) -> None:
        """Stop its voice: this story will not be told."""
        if self.voice is not None:
            self.voice.cancel()


class _Run:
    """One request's stage timings, time budget, the stage tasks it started (cancelled when it ends) and the names
    its translations keep."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.timings: dict[str, float] = {}
        self.tasks: list[asyncio.Task[Any]] = []
        self.names: tuple[str, ...] = ()  # the names and places the user wrote: translations keep them as written

    def start(self, stage: Stage, make: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """Run a stage in its own task, so that independent stages overlap."""
        task = asyncio.create_task(self.timed(stage, make))
        self.tasks.append(task)
        return task

    def cancel(self) -> None:
        """Stop whatever this run started and nobody waits for any more."""
        for task in self.tasks:
            task.cancel()

    async def timed(self, stage: Stage, make: Callable[[], Awaitable[T]], *, wrap: bool = True) -> T:
        """Run one stage within its time budget, record its duration, and name it in any failure.

        With wrap=False pipeline errors (bad input) pass through unchanged for the caller to explain.
        """
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                return await make()
        except TimeoutError as exc:
            log.warning("stage timed out", extra={"stage": stage.value})
            raise StageTimeout(stage.value, f"over {self.timeout_s:.0f} s") from exc
        except PipelineError as exc:
            if not wrap:
                raise
            log.warning("stage failed", extra={"stage": stage.value, "reason": exc.reason})
            raise StageError(stage.value, exc.reason) from exc
        except Exception as exc:
            log.exception("stage crashed", extra={"stage": stage.value})
            raise StageError(stage.value, type(exc).__name__) from exc
        finally:  # a stage run more than once (a story's sentences' translations) adds up
            self.timings[stage.value] = self.timings.get(stage.value, 0.0) + time.perf_counter() - started


def _log_caught(action: str, *attempts: _Told) -> None:
    """One warning for a story the check caught: what was done, and each attempt's unsuitable words (English in
    the whole story written, Portuguese in the translation that was cut for them) and words kept."""
    caught = [
        {
            "en": unsuitable_words(told.written, "en"),
            "pt": told.caught_pt or [],
            "kept_words": len(told.story_en.split()),
        }
        for told in attempts
    ]
    log.warning("unsuitable story", extra={"action": action, "caught": caught})


async def _as_written(text: str) -> str:
    """No translation: the user's words as they wrote them, when the translator failed."""
    return text


def _failure(stage: Stage, exc: PipelineError) -> StageFailed:
    """A stage's failure found outside its task, reported as `_Run.timed` reports one."""
    log.warning("stage failed", extra={"stage": stage.value, "reason": exc.reason})
    error = StageError(stage.value, exc.reason)
    error.__cause__ = exc
    return StageFailed(stage, error)


async def _settle(task: asyncio.Task[T], stage: Stage) -> T | StageFailed:
    """The stage's result, or its failure as the event that tells it (the other stages go on)."""
    try:
        return await task
    except StageError as exc:
        return StageFailed(stage, exc)
