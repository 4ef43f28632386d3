"""Load test: a flood of mixed updates from many chats against the real bot and the fake Bot API.

    python -m tools.loadtest                  # 200 updates from 50 chats, real offline models
    python -m tools.loadtest --fake           # same traffic, light backends (what CI runs, smaller)

Every valid photo must be answered exactly once (a voice, or a polite "busy"/"limit" reply), every bad
input with its error message, with no unhandled exception, no media file left after the run, and a
bounded growth of resident memory. The run is bounded in time and talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from handlers import texts
from pipeline.backends import Backends

from .bot_harness import jpeg_bytes, running_bot
from .fake_backends import Behaviour, fake_backends

PHOTOS = sorted((Path(__file__).parent / "data").glob("*.jpg"))
KINDS = ("photo", "photo", "photo", "corrupt", "pdf", "sticker", "start", "text")
REJECTIONS = (texts.BUSY, texts.USER_LIMIT)
QUEUED_ANSWERS = (*REJECTIONS, texts.INVALID_IMAGE["corrupt"])
WARM_UP_CHAT = 999


@dataclass
class LoadReport:
    updates: int
    chats: int
    valid_photos: int = 0
    voices: int = 0
    rejected_busy: int = 0
    bad_inputs: int = 0
    bad_inputs_answered: int = 0
    duplicates: int = 0
    unanswered: int = 0
    unhandled_errors: int = 0
    longest_queue: int = 0
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_growth_mb: float = 0.0
    media_files_left: int = 0
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def plan_traffic(updates: int, chats: int, rng: random.Random) -> list[tuple[int, str]]:
    """(chat id, kind) pairs; every chat gets at least one photo."""
    plan = [(1000 + i, "photo") for i in range(chats)]
    plan += [(1000 + rng.randrange(chats), rng.choice(KINDS)) for _ in range(updates - chats)]
    rng.shuffle(plan)
    return plan


async def run_load(
    data_dir: Path,
    *,
    updates: int = 200,
    chats: int = 50,
    backends: Backends | None = None,
    real_models: bool = False,
    timeout_s: float = 900.0,
    seed: int = 7,
) -> LoadReport:
    rng = random.Random(seed)
    photos = [p.read_bytes() for p in PHOTOS] or [jpeg_bytes()]
    report = LoadReport(updates=updates, chats=chats)
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    valid: Counter[int] = Counter()
    corrupt: Counter[int] = Counter()
    bad: Counter[int] = Counter()
    try:
        async with running_bot(data_dir, backends, real_models=real_models) as bot:
            # First as many photos as run at once, so that one-time allocations (model caches, a first
            # voice per worker thread) are not counted as growth under the flood.
            for _ in range(bot.services.settings.running_jobs):
                bot.tg.private_photo(WARM_UP_CHAT, WARM_UP_CHAT, photos[0])
            await bot.tg.wait_for_call(
                "sendVoice", chat_id=WARM_UP_CHAT, count=bot.services.settings.running_jobs, timeout=timeout_s
            )
            report.rss_start_mb = report.rss_peak_mb = rss_mb()
            started = time.monotonic()
            for chat, kind in plan_traffic(updates, chats, rng):
                user = chat
                if kind == "photo":
                    bot.tg.private_photo(chat, user, rng.choice(photos))
                    valid[chat] += 1
                elif kind == "corrupt":
                    bot.tg.document(chat, user, b"\xff\xd8\xff\xe0 broken", "foto.jpg", "image/jpeg")
                    corrupt[chat] += 1
                elif kind == "pdf":
                    bot.tg.document(chat, user, b"%PDF-1.4", "doc.pdf", "application/pdf")
                    bad[chat] += 1
                elif kind == "sticker":
                    bot.tg.sticker(chat, user)
                    bad[chat] += 1
                elif kind == "start":
                    bot.tg.text(chat, user, "/start")
                else:
                    bot.tg.text(chat, user, "x" * rng.choice((5, 4000)))
                    bad[chat] += 1

            def settled() -> bool:
                report.rss_peak_mb = max(report.rss_peak_mb, rss_mb())
                queue = bot.services.queue
                flood = [c for c in bot.tg.calls() if c.chat_id != WARM_UP_CHAT]
                answered = sum(
                    c.method == "sendVoice" or (c.method == "sendMessage" and c.params.get("text") in QUEUED_ANSWERS)
                    for c in flood
                )
                return answered >= sum(valid.values()) + sum(corrupt.values()) and queue.running == queue.waiting == 0

            try:
                await bot.tg.wait_for(settled, timeout=timeout_s, what="all photos answered")
            except TimeoutError as exc:
                report.problems.append(f"timeout: {str(exc).splitlines()[0]}")
            await asyncio.sleep(0.5)  # late duplicates would show up here
            report.wall_s = round(time.monotonic() - started, 2)
            report.longest_queue = bot.services.queue.longest_line
            tally(report, bot, valid, corrupt, bad)
        report.media_files_left = sum(1 for p in (data_dir / "media").rglob("*") if p.is_file())
    finally:
        logging.getLogger().removeHandler(errors)
    report.unhandled_errors = errors.count
    report.rss_growth_mb = round(report.rss_peak_mb - report.rss_start_mb, 1)
    judge(report)
    return report


def tally(report: LoadReport, bot, valid: Counter[int], corrupt: Counter[int], bad: Counter[int]) -> None:
    """Per chat: photos and corrupt files are queued, so each gets a voice, its error, or a rejection."""
    bad_texts = {texts.INVALID_IMAGE["not_image"], texts.STICKER, texts.UNSUPPORTED_MESSAGE}
    report.valid_photos = sum(valid.values())
    report.bad_inputs = sum(corrupt.values()) + sum(bad.values())
    for chat in set(valid) | set(corrupt) | set(bad):
        voices = len(bot.tg.calls("sendVoice", chat))
        sent = [c.params.get("text", "") for c in bot.tg.calls("sendMessage", chat) if c.ok]
        rejected = sum(1 for t in sent if t in REJECTIONS)
        corrupt_answers = sum(1 for t in sent if t == texts.INVALID_IMAGE["corrupt"])
        other_answers = sum(1 for t in sent if t in bad_texts)
        queued, answered = valid[chat] + corrupt[chat], voices + corrupt_answers + rejected
        report.voices += voices
        report.rejected_busy += rejected
        report.duplicates += max(0, answered - queued) + max(0, voices - valid[chat])
        report.duplicates += max(0, corrupt_answers - corrupt[chat]) + max(0, other_answers - bad[chat])
        report.unanswered += max(0, queued - answered)
        report.bad_inputs_answered += min(corrupt[chat], corrupt_answers) + min(bad[chat], other_answers)
        report.bad_inputs_answered += max(0, min(corrupt[chat] - corrupt_answers, rejected))


def judge(report: LoadReport) -> None:
    if report.unanswered:
        report.problems.append(f"{report.unanswered} photos unanswered")
    if report.duplicates:
        report.problems.append(f"{report.duplicates} photos answered twice")
    if report.bad_inputs_answered < report.bad_inputs:
        report.problems.append(f"{report.bad_inputs - report.bad_inputs_answered} bad inputs unanswered")
    if report.unhandled_errors:
        report.problems.append(f"{report.unhandled_errors} errors logged")
    if report.media_files_left:
        report.problems.append(f"{report.media_files_left} media files left")
    if report.rss_growth_mb >= 100:
        report.problems.append(f"memory grew {report.rss_growth_mb} MB")


def light_backends() -> Backends:
    backends = fake_backends()
    backends.story_writer.behaviour = Behaviour(delay=0.05)
    return backends


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--fake", action="store_true", help="light backends instead of the real models")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        report = asyncio.run(
            run_load(
                Path(tmp),
                updates=args.updates,
                chats=args.chats,
                backends=light_backends() if args.fake else None,
                real_models=not args.fake,
            )
        )
    print(json.dumps({**asdict(report), "ok": report.ok}, indent=2, ensure_ascii=False))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
