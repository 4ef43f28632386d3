"""Our pipeline, warm: every stage on its own (one call at a time), then photo → voice end to end.

Stages are called through the same backend objects and methods the pipeline uses. Two seams are timed
inside the real calls (see instrument.py): llama.cpp's chat completion (generated tokens, attempts) and
speech.encode_opus / speech.assemble inside each voice synthesis.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pipeline.speech.synthesizers as speech_module
from pipeline.config import Language
from pipeline.core import Pipeline
from pipeline.events import CaptionReady, Event, PipelineInput, StoryReady
from pipeline.images import decode_image

from .instrument import TimedCall, record_calls, timed_sync
from .system import own_cpu_seconds

T = TypeVar("T")
_STARTED = time.perf_counter()


def progress(message: str) -> None:
    print(f"[bench {time.perf_counter() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Photo:
    name: str
    data: bytes


def load_photos(paths: list[Path]) -> list[Photo]:
    return [Photo(path.name, path.read_bytes()) for path in paths]


@dataclass
class Texts:
    """What one photo became; later phases (baseline) reuse the stories."""

    photo: str
    caption_en: str
    caption_pt: str
    story_en: str
    story_pt: str
    story_tokens: int | None  # llama tokenizer; None when the story backend is not llama.cpp
    voice_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class StageMeasurements:
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    texts: list[Texts] = field(default_factory=list)
    generated_tokens: list[int] = field(default_factory=list)  # per story, every attempt included
    attempts: list[int] = field(default_factory=list)
    speech_parts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    llama_parts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # per story


async def timed(awaitable: Awaitable[T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = await awaitable
    return time.perf_counter() - started, result


async def measure_stages(pipeline: Pipeline, photos: list[Photo], repeats: int) -> StageMeasurements:
    """Each stage on each photo; cheap stages `repeats` times, the story and voices once per photo."""
    b, s = pipeline.backends, pipeline.settings
    out = StageMeasurements()
    for index, photo in enumerate(photos, 1):
        progress(f"stages: photo {index}/{len(photos)} ({photo.name})")
        for _ in range(repeats):
            seconds, loaded = timed_sync(
                partial(decode_image, photo.data, max_bytes=s.max_image_bytes, max_pixels=s.max_image_pixels)
            )
            out.samples["decode"].append(seconds)
        for _ in range(repeats):
            seconds, facts = await timed(b.captioner.caption(loaded.image))
            caption_en = facts.caption
            out.samples["caption"].append(seconds)
        for _ in range(repeats):
            seconds, caption_pt = await timed(b.translator.translate(caption_en))
            out.samples["translate_caption"].append(seconds)

        llm = getattr(b.story_writer, "_llm", None)  # the llama.cpp backend: look inside its generation
        with _watch_llama(llm) as (attempts, evals, samples):
            seconds, story_en = await timed(b.story_writer.write(facts))
        out.samples["story"].append(seconds)
        tokens = None
        if llm is not None:
            tokens = len(llm.tokenize(story_en.encode(), add_bos=False))
            out.attempts.append(len(attempts))
            out.generated_tokens.append(len(samples))  # Llama.sample runs once per generated token
            out.llama_parts["prompt_eval"].append(_total([e for e in evals if e.detail > 1]))
            out.llama_parts["token_eval"].append(_total([e for e in evals if e.detail == 1]))
            out.llama_parts["sampling"].append(_total(samples))

        for _ in range(repeats):
            seconds, story_pt = await timed(b.translator.translate(story_en))
            out.samples["translate_story"].append(seconds)

        texts = Texts(photo.name, caption_en, caption_pt, story_en, story_pt, tokens)
        for language, text in (("pt", story_pt), ("en", story_en)):
            await _measure_voice(pipeline, language, text, out, texts)
        out.texts.append(texts)
    return out


async def _measure_voice(pipeline: Pipeline, language: str, text: str, out: StageMeasurements, texts: Texts) -> None:
    synthesizer = pipeline.backends.synthesizers[language]
    with (
        record_calls(speech_module, "encode_opus") as encodes,
        record_calls(speech_module, "assemble") as assembles,
    ):
        seconds, voice = await timed(synthesizer.synthesize(text))
    out.samples[f"speech_{language}"].append(seconds)
    texts.voice_seconds[language] = voice.seconds
    encode, assemble = _total(encodes), _total(assembles)
    if language == "pt":
        out.samples["opus_encode"].append(encode)
    out.speech_parts[f"encode_{language}"].append(encode)
    out.speech_parts[f"assemble_{language}"].append(assemble)
    out.speech_parts[f"render_{language}"].append(seconds - encode - assemble)
    out.speech_parts[f"audio_seconds_{language}"].append(voice.seconds)


def _total(calls: list[TimedCall]) -> float:
    return sum(call.seconds for call in calls)


@contextmanager
def _watch_llama(llm: Any) -> Iterator[tuple[list[TimedCall], list[TimedCall], list[TimedCall]]]:
    """Chat completions (attempts), evals (with how many tokens each) and samplings (one per generated
    token) of a llama_cpp.Llama; three empty lists when there is none."""
    if llm is None:
        yield [], [], []
        return
    with (
        record_calls(llm, "create_chat_completion") as attempts,
        record_calls(llm, "eval", describe=len) as evals,
        record_calls(llm, "sample") as samples,
    ):
        yield attempts, evals, samples


@dataclass
class EndToEnd:
    total: list[float] = field(default_factory=list)
    caption_ready: list[float] = field(default_factory=list)
    story_ready: list[float] = field(default_factory=list)
    stage_timings: list[dict[str, float]] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)  # ours + the speech programs', per photo
    failures: list[str] = field(default_factory=list)


async def measure_end_to_end(pipeline: Pipeline, photos: list[Photo], language: Language = "pt") -> EndToEnd:
    """Pipeline.run on each photo (bytes in, voice out), one at a time, with when each part was ready."""
    out = EndToEnd()
    for index, photo in enumerate(photos, 1):
        progress(f"end to end: photo {index}/{len(photos)} ({photo.name})")
        ready: dict[type, float] = {}
        cpu_started = own_cpu_seconds()
        started = time.perf_counter()

        async def on_event(event: Event, ready: dict[type, float] = ready, started: float = started) -> None:
            ready.setdefault(type(event), time.perf_counter() - started)

        result = await pipeline.run(PipelineInput(photo.data, voice_language=language), on_event)
        out.total.append(time.perf_counter() - started)
        out.cpu_seconds.append(own_cpu_seconds() - cpu_started)
        out.caption_ready.append(ready.get(CaptionReady, float("nan")))
        out.story_ready.append(ready.get(StoryReady, float("nan")))
        out.stage_timings.append(dict(result.timings))
        if result.voice is None or result.errors:
            out.failures.append(f"{photo.name}: {result.errors or 'no voice'}")
    return out
