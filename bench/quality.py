"""The quality story tier in `make bench`: what a user of the default waits for, measured in the same run as the
light tier (whose figures, and `speedup` against the original models, are the bench's main table).

- `quality_first_sentence_p90_s`: from the caption to the first model-written Portuguese sentence (one photo at
  a time; the quality tier writes every sentence itself);
- `quality_end_to_end_s`: photo → Portuguese voice, median, one photo at a time;
- `quality_photos_per_minute`: N chats sending a photo at the same moment, through the bot and the fake Bot API;
- `quality_rss_both_voices_mb`: a fresh process on the quality tier after a Portuguese and an English voice.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.events import CaptionReady, Event, PipelineInput, StorySentence, VoiceReady

from .coldstart import cold_start_once
from .ours import Photo, progress
from .stats import median, summarize
from .through_bot import measure_bot


@dataclass
class QualityRun:
    first_sentence: list[float] = field(default_factory=list)  # seconds after the caption
    end_to_end: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@contextlib.contextmanager
def story_tier(tier: str) -> Iterator[None]:
    """STORY_TIER for the processes started meanwhile (the cold-start child)."""
    before = os.environ.get("STORY_TIER")
    os.environ["STORY_TIER"] = tier
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("STORY_TIER", None)
        else:
            os.environ["STORY_TIER"] = before


async def _one_at_a_time(pipeline: Pipeline, photos: list[Photo]) -> QualityRun:
    out = QualityRun()
    for index, photo in enumerate(photos, 1):
        progress(f"quality tier: photo {index}/{len(photos)} ({photo.name})")
        started, seen = time.perf_counter(), dict[type, float]()

        async def on_event(event: Event, seen: dict[type, float] = seen, started: float = started) -> None:
            seen.setdefault(type(event), time.perf_counter() - started)

        result = await pipeline.run(PipelineInput(photo.data), on_event)
        if StorySentence in seen and CaptionReady in seen:
            out.first_sentence.append(seen[StorySentence] - seen[CaptionReady])
        if VoiceReady in seen:
            out.end_to_end.append(seen[VoiceReady])
        if result.voice is None or result.errors:
            out.failures.append(f"{photo.name}: {result.errors or 'no voice'}")
    return out


async def measure_quality(photos: list[Photo], chats: int, seed: int | None, rss_photo: Path) -> dict[str, Any]:
    """The quality tier's keys (see the module), with the samples behind them."""
    pipeline = Pipeline(PipelineSettings(story_tier="quality", story_seed=seed))
    progress("quality tier: loading models")
    await pipeline.warm_up()
    run = await _one_at_a_time(pipeline, photos)
    progress(f"quality tier: {chats} chats at once through the bot")
    bot = await measure_bot(pipeline.backends, photos[:1], chats, story_seed=seed)
    answered = sum(1 for chat in bot.concurrent if chat.voice_sent is not None)
    wall = bot.concurrent_wall_s
    progress("quality tier: a fresh process, both voices")
    with story_tier("quality"):
        cold = cold_start_once(rss_photo)
    first = summarize(run.first_sentence)
    return {
        "quality_first_sentence_p90_s": first["p90"],
        "quality_end_to_end_s": median(run.end_to_end),
        "quality_photos_per_minute": round(answered / wall * 60, 2) if wall else None,
        "quality_rss_both_voices_mb": cold.get("after_en_rss_mb"),
        "quality": {
            "first_sentence_after_caption_s": first,
            "end_to_end_s": summarize(run.end_to_end),
            "chats": chats,
            "answered": answered,
            "failures": run.failures + [f"bot chat {c}" for c in bot.concurrent if c.voice_sent is None],
            "note": "first sentence: the first StorySentence (Portuguese, model-written: the quality tier has no "
            "opener of ours) after CaptionReady; one photo at a time, then the chats through the bot",
        },
    }
