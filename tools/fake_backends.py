"""Light stand-ins for the model backends, for tests about the bot and the orchestration, not the models.

They honour the same Protocols as the real backends, produce real artefacts (the voice is a valid
OGG/Opus file) and can be told to fail or to be slow, so fault handling is tested end to end.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf
from PIL import Image

from pipeline.backends import Backends
from pipeline.errors import PipelineError
from pipeline.events import StoryOptions, Voice
from pipeline.facts import PhotoFacts
from pipeline.interfaces import SentenceSink
from pipeline.text import split_sentences


class BackendBroke(PipelineError):
    reason = "backend_broke"


@dataclass
class Behaviour:
    """How a fake stage behaves: delay in seconds, and whether it raises."""

    delay: float = 0.0
    fail: bool = False
    crash: bool = False  # a non-pipeline exception, like a bug in a backend

    async def act(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise BackendBroke("told to fail")
        if self.crash:
            raise RuntimeError("backend bug")


@dataclass
class FakeCaptioner:
    name: str = "fake-caption"
    behaviour: Behaviour = field(default_factory=Behaviour)
    seen_sizes: list[tuple[int, int]] = field(default_factory=list)

    def load(self) -> None:
        pass

    async def caption(self, image: Image.Image) -> PhotoFacts:
        await self.behaviour.act()
        self.seen_sizes.append(image.size)
        return PhotoFacts(f"a test picture of {image.width} by {image.height} pixels", subject="a test picture")


@dataclass
class FakeStoryWriter:
    """Writes the same three sentences; with `streams`, hands each over `sentence_delay_s` apart, like llama."""

    name: str = "fake-story"
    behaviour: Behaviour = field(default_factory=Behaviour)
    facts_seen: list[PhotoFacts] = field(default_factory=list)
    options_seen: list[StoryOptions | None] = field(default_factory=list)
    streams: bool = False
    sentence_delay_s: float = 0.0

    def load(self) -> None:
        pass

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        await self.behaviour.act()
        self.facts_seen.append(facts)
        self.options_seen.append(options)
        story = f"Once upon a time there was {facts.caption}. Everyone loved it. The end."
        if self.streams and on_sentence is not None:
            for sentence in split_sentences(story):
                await asyncio.sleep(self.sentence_delay_s)
                on_sentence(sentence)
        return story


@dataclass
class FakeTranslator:
    """Marks a text as translated into `target` ("[pt] …"), keeping every word."""

    name: str = "fake-translate"
    behaviour: Behaviour = field(default_factory=Behaviour)
    target: str = "pt"

    def load(self) -> None:
        pass

    async def translate(self, text: str) -> str:
        await self.behaviour.act()
        return f"[{self.target}] {text}"


def tiny_ogg(seconds: float = 1.0, rate: int = 48000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    sf.write(buffer, (0.3 * np.sin(2 * np.pi * 220 * t)).astype("float32"), rate, format="OGG", subtype="OPUS")
    return buffer.getvalue()


@dataclass
class FakeSynthesizer:
    language: str
    name: str = "fake-voice"
    behaviour: Behaviour = field(default_factory=Behaviour)
    texts: list[str] = field(default_factory=list)

    def load(self) -> None:
        pass

    async def synthesize(self, text: str) -> Voice:
        await self.behaviour.act()
        self.texts.append(text)
        return Voice(ogg=tiny_ogg(), seconds=1.0, language=self.language, backend=self.name)


@dataclass
class FakeBackends(Backends):
    """Backends made of the fakes above, typed as such so that tests can set their behaviour."""

    captioner: FakeCaptioner
    story_writer: FakeStoryWriter
    translator: FakeTranslator
    words_translator: FakeTranslator
    synthesizers: Mapping[str, FakeSynthesizer]


def fake_backends() -> FakeBackends:
    return FakeBackends(
        captioner=FakeCaptioner(),
        story_writer=FakeStoryWriter(),
        translator=FakeTranslator(),
        words_translator=FakeTranslator(target="en"),
        synthesizers={"pt": FakeSynthesizer("pt"), "en": FakeSynthesizer("en")},
    )
