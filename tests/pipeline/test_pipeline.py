"""Orchestration (event order, overlap, partial results) and the CLI contract with the real offline models."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from pipeline.config import Language, PipelineSettings
from pipeline.core import Pipeline
from pipeline.errors import InvalidImageError, StageError
from pipeline.events import CaptionReady, Event, PipelineInput, Stage, StageFailed, StageStarted, StoryReady, VoiceReady
from pipeline.facts import PhotoFacts
from tools.bot_harness import jpeg_bytes
from tools.fake_backends import Behaviour, FakeBackends, fake_backends

DATA = Path(__file__).parents[1] / "data"
REPO = Path(__file__).parents[2]


def fake_pipeline(**overrides: Any) -> tuple[Pipeline, FakeBackends]:
    backends = fake_backends()
    return Pipeline(PipelineSettings(_env_file=None, **overrides), backends), backends


async def test_events_come_in_order_and_result_is_complete() -> None:
    pipeline, _ = fake_pipeline()
    events = [event async for event in pipeline.stream(PipelineInput(jpeg_bytes(320, 240)))]
    kinds = [type(e).__name__ if not isinstance(e, StageStarted) else e.stage.value for e in events]
    assert kinds == ["decode", "caption", "CaptionReady", "story", "StoryReady", "speech", "VoiceReady", "Finished"]
    result = await pipeline.run(PipelineInput(jpeg_bytes(320, 240)))
    assert result.caption_en == "a test picture of 320 by 240 pixels"
    assert result.caption_pt == "[pt] a test picture of 320 by 240 pixels"
    assert result.facts is not None and result.facts.subject == "a test picture"  # the story's input, kept
    assert result.story_pt is not None and result.story_pt.startswith("[pt] Once upon a time")
    assert result.voice is not None and result.voice.language == "pt"
    assert set(result.timings) == {s.value for s in Stage} - {"translate_words"}  # the user told nothing
    assert result.errors == {}


async def test_caption_arrives_while_the_story_is_still_being_written() -> None:
    pipeline, backends = fake_pipeline()
    backends.story_writer.behaviour = Behaviour(delay=0.5)
    started = time.perf_counter()
    async for event in pipeline.stream(PipelineInput(jpeg_bytes())):
        if isinstance(event, CaptionReady):
            assert time.perf_counter() - started < 0.4
            break


async def test_english_narration_overlaps_the_story_translation() -> None:
    pipeline, backends = fake_pipeline()
    backends.translator.behaviour = Behaviour(delay=0.3)
    backends.synthesizers["en"].behaviour = Behaviour(delay=0.3)
    result = await pipeline.run(PipelineInput(jpeg_bytes(), voice_language="en"))
    assert result.voice is not None and result.voice.language == "en"
    assert backends.synthesizers["en"].texts == [result.story_en]
    # speech ran during the translation: their sum is well above what the whole story part took
    assert result.timings["speech"] + result.timings["translate_story"] > 0.55


async def test_failed_translation_falls_back_to_english_and_english_voice() -> None:
    pipeline, backends = fake_pipeline()
    backends.translator.behaviour = Behaviour(fail=True)
    result = await pipeline.run(PipelineInput(jpeg_bytes()))
    assert result.caption_pt == result.caption_en and result.story_pt == result.story_en
    assert result.voice is not None and result.voice.language == "en"
    assert set(result.errors) == {"translate_caption", "translate_story"}


async def test_failed_story_means_no_voice_but_caption_is_kept() -> None:
    pipeline, backends = fake_pipeline()
    backends.story_writer.behaviour = Behaviour(crash=True)
    events = [e async for e in pipeline.stream(PipelineInput(jpeg_bytes()))]
    assert any(isinstance(e, CaptionReady) for e in events)
    assert [e.stage for e in events if isinstance(e, StageFailed)] == [Stage.STORY]
    assert not any(isinstance(e, StoryReady | VoiceReady) for e in events)


async def test_stage_timeout_is_reported_not_hung() -> None:
    pipeline, backends = fake_pipeline(stage_timeout_s=0.2)
    backends.synthesizers["pt"].behaviour = Behaviour(delay=3)
    result = await asyncio.wait_for(pipeline.run(PipelineInput(jpeg_bytes())), 2)
    assert result.errors == {"speech": "stage_timeout"} and result.story_pt


async def test_bad_input_and_failed_caption_raise() -> None:
    pipeline, backends = fake_pipeline()
    with pytest.raises(InvalidImageError):
        await pipeline.run(PipelineInput(b"not an image at all"))
    backends.captioner.behaviour = Behaviour(fail=True)
    with pytest.raises(StageError):
        await pipeline.run(PipelineInput(jpeg_bytes()))


async def test_consumer_stopping_early_cancels_the_rest() -> None:
    pipeline, backends = fake_pipeline()
    backends.story_writer.behaviour = Behaviour(delay=5)
    stream = pipeline.stream(PipelineInput(jpeg_bytes()))
    assert isinstance(stream, AsyncGenerator)
    async for event in stream:
        if isinstance(event, CaptionReady):
            break
    await stream.aclose()
    await asyncio.sleep(0)  # nothing left running: the story task was cancelled
    assert not [t for t in asyncio.all_tasks() if "_Run.timed" in repr(t.get_coro())]


def kinds(events: list[Event]) -> list[str]:
    """Each event's class name, or its stage for StageStarted."""
    return [e.stage.value if isinstance(e, StageStarted) else type(e).__name__ for e in events]


def test_photo_facts_round_trip_through_json() -> None:
    for facts in (PhotoFacts("a lake at dusk", "a lake", 0, "outdoors", "dusk"), PhotoFacts("a photo")):
        assert PhotoFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts


async def test_describe_gives_the_caption_alone_with_its_facts() -> None:
    pipeline, backends = fake_pipeline()
    caption = await pipeline.describe(jpeg_bytes(320, 240))
    assert caption == CaptionReady(
        "a test picture of 320 by 240 pixels",
        "[pt] a test picture of 320 by 240 pixels",
        PhotoFacts("a test picture of 320 by 240 pixels", "a test picture"),
    )
    assert backends.synthesizers["pt"].texts == [] and not [t for t in asyncio.all_tasks() if "_Run" in repr(t)]


async def test_describe_raises_for_bad_input_and_a_failed_caption_but_not_for_its_translation() -> None:
    pipeline, backends = fake_pipeline()
    with pytest.raises(InvalidImageError):
        await pipeline.describe(b"not an image at all")
    backends.translator.behaviour = Behaviour(fail=True)
    caption = await pipeline.describe(jpeg_bytes())
    assert caption.caption_pt == caption.caption_en and caption.facts is not None
    slow, slow_backends = fake_pipeline(stage_timeout_s=0.2)
    slow_backends.captioner.behaviour = Behaviour(delay=3)
    with pytest.raises(StageError) as timed_out:
        await slow.describe(jpeg_bytes())
    assert timed_out.value.stage == "caption"


async def test_stream_from_a_caption_needs_no_photo() -> None:
    pipeline, backends = fake_pipeline()
    caption = await pipeline.describe(jpeg_bytes(320, 240))
    events = [e async for e in pipeline.stream(PipelineInput(caption=caption))]
    assert kinds(events) == ["CaptionReady", "story", "StoryReady", "speech", "VoiceReady", "Finished"]
    assert events[0] is caption and backends.captioner.seen_sizes == [(320, 240)]  # captioned once, by describe
    story = events[2]
    assert isinstance(story, StoryReady) and "a test picture of 320 by 240 pixels" in story.story_en
    assert backends.synthesizers["pt"].texts == [story.story_pt]


@pytest.mark.parametrize(
    ("language", "translated", "voice"), [("pt", True, "pt"), ("en", True, "en"), ("pt", False, "en")]
)
async def test_stream_from_a_caption_and_its_story_only_speaks(
    language: Language, translated: bool, voice: str
) -> None:
    pipeline, backends = fake_pipeline()
    backends.story_writer.behaviour = backends.translator.behaviour = Behaviour(fail=True)  # must not be asked
    caption = CaptionReady("a lake", "um lago", PhotoFacts("a lake", "a lake"))
    story = StoryReady("The lake slept.", "O lago dormia." if translated else "The lake slept.")
    events = [e async for e in pipeline.stream(PipelineInput(voice_language=language, caption=caption, story=story))]
    assert kinds(events) == ["CaptionReady", "StoryReady", "speech", "VoiceReady", "Finished"]
    assert events[:2] == [caption, story]
    read = story.story_pt if voice == "pt" else story.story_en
    assert backends.synthesizers[voice].texts == [read]
    assert isinstance(events[3], VoiceReady) and events[3].voice.language == voice


async def test_stream_without_a_photo_or_with_a_story_alone_is_a_mistake() -> None:
    pipeline, _ = fake_pipeline()
    with pytest.raises(ValueError):
        [e async for e in pipeline.stream(PipelineInput())]
    with pytest.raises(ValueError):
        [e async for e in pipeline.stream(PipelineInput(jpeg_bytes(), story=StoryReady("Once.", "Era uma vez.")))]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.models
@pytest.mark.processes  # `python -m app`
def test_cli_json_contract_with_the_real_offline_models(tmp_path: Path) -> None:
    done = run_cli(str(DATA / "mountain.jpg"), "--json", "--out", str(tmp_path), "--seed", "5")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    for key in ("caption_pt", "caption_en", "story_pt", "story_en", "timings", "voice_path", "voice_seconds"):
        assert payload[key], key
    assert "mountain" in payload["caption_en"] or "peak" in payload["caption_en"]
    assert payload["facts"]["setting"] == "outdoors" and payload["facts"]["people"] == 0
    assert "montanha" in payload["caption_pt"] or "pico" in payload["caption_pt"]
    assert 90 <= len(payload["story_en"].split()) <= 160
    ogg = Path(payload["voice_path"]).read_bytes()
    assert ogg.startswith(b"OggS") and b"OpusHead" in ogg
    assert sf.info(io.BytesIO(ogg)).duration == pytest.approx(payload["voice_seconds"], rel=0.05)
    assert json.loads((tmp_path / "result.json").read_text())["story_pt"] == payload["story_pt"]


@pytest.mark.processes  # `python -m app` processes
@pytest.mark.parametrize(
    ("name", "content"), [("texto.jpg", b"just some text, not a photo"), ("vazio.jpg", b""), ("nada.jpg", None)]
)
def test_cli_rejects_unusable_input_with_exit_code_2(tmp_path: Path, name: str, content: bytes | None) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    done = run_cli(str(path), "--json", timeout=120)
    assert done.returncode == 2
    assert "erro:" in done.stderr and not done.stdout
