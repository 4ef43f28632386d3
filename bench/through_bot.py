"""The real bot (handlers, queue, media server, pipeline) against the fake Bot API on loopback.

Latencies are measured from the moment the update is queued at the fake Telegram to the moment the bot's
sendMessage / sendVoice request arrives there (both `time.monotonic()` in this process), so they include
polling, the photo download, the media server and the pipeline — what a user waits for, minus the network.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.backends import Backends
from tools.bot_harness import RunningBot, running_bot
from tools.fake_telegram import Call

from .ours import Photo, progress
from .stats import summarize

VOICE_TIMEOUT_S = 300.0


@dataclass
class ChatTimes:
    """Seconds from the update being queued to each reply arriving (None: never sent)."""

    first_reply: float | None = None
    caption_sent: float | None = None
    story_sent: float | None = None
    voice_sent: float | None = None


def chat_times(calls: list[Call], queued_at: float) -> ChatTimes:
    """When the status, caption, story and voice of one chat arrived, relative to `queued_at`."""
    times = ChatTimes()
    for call in calls:
        if not call.ok:
            continue
        elapsed = call.time - queued_at
        if call.method == "sendMessage":
            text = call.params.get("text", "")
            times.first_reply = times.first_reply if times.first_reply is not None else elapsed
            if text.startswith("📷") and times.caption_sent is None:
                times.caption_sent = elapsed
            elif text.startswith("📖") and times.story_sent is None:
                times.story_sent = elapsed
        elif call.method == "sendVoice" and times.voice_sent is None:
            times.voice_sent = elapsed
    return times


def summarize_chats(chats: list[ChatTimes]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("first_reply", "caption_sent", "story_sent", "voice_sent"):
        values = [getattr(c, key) for c in chats if getattr(c, key) is not None]
        out[key] = summarize(values) if values else None
    return out


@dataclass
class BotMeasurements:
    single: list[ChatTimes] = field(default_factory=list)
    concurrent: list[ChatTimes] = field(default_factory=list)
    concurrent_wall_s: float | None = None
    longest_line: int = 0
    running_slots: int = 0


async def _wait_done(bot: RunningBot, chats: list[int]) -> None:
    """Until the request of every chat has finished: its status message is deleted last, after the voice
    (or after the apology when a stage failed, so a failure does not hang the bench)."""

    def done() -> bool:
        return all(bot.tg.calls("deleteMessage", chat) for chat in chats)

    await bot.tg.wait_for(done, timeout=VOICE_TIMEOUT_S, what=f"answers in {len(chats)} chats")


async def measure_bot(backends: Backends, photos: list[Photo], concurrent: int, **overrides: Any) -> BotMeasurements:
    """One photo at a time over `photos`, then `concurrent` chats sending a photo at the same moment."""
    out = BotMeasurements()
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp:
        async with running_bot(Path(tmp), backends, **overrides) as bot:
            out.running_slots = bot.services.queue.max_running
            for index, photo in enumerate(photos):
                progress(f"bot: photo {index + 1}/{len(photos)} ({photo.name}), alone")
                chat = 5000 + index
                queued_at = time.monotonic()
                bot.tg.private_photo(chat, chat, photo.data)
                await _wait_done(bot, [chat])
                out.single.append(chat_times(bot.tg.calls(chat_id=chat), queued_at))

            progress(f"bot: {concurrent} chats at once")
            chats = [6000 + i for i in range(concurrent)]
            queued_at = time.monotonic()
            for i, chat in enumerate(chats):
                bot.tg.private_photo(chat, chat, photos[i % len(photos)].data)
            try:
                await _wait_done(bot, chats)
            except TimeoutError as exc:
                progress(f"bot: not every chat was answered: {exc}".splitlines()[0])
            out.concurrent = [chat_times(bot.tg.calls(chat_id=chat), queued_at) for chat in chats]
            voices = [c.voice_sent for c in out.concurrent if c.voice_sent is not None]
            out.concurrent_wall_s = max(voices) if voices else None
            out.longest_line = bot.services.queue.longest_line
    return out
