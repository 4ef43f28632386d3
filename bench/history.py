"""How fast /historias answers with many stories stored (issue 15's target: ≤ 0.3 s with 10 000).

    python -m bench.history [--stories 10000] [--postgres]

The real bot (light backends) against the fake Bot API; the store is filled directly, half the stories in
the chat asking and half spread over 500 other chats. Times are from the update being queued at the fake
Telegram to the bot's answer arriving there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import insert

from app.records import caption_json
from app.store import Store, requests_table, stories_table
from pipeline.events import CaptionReady
from pipeline.facts import PhotoFacts
from tools.bot_harness import running_bot
from tools.postgres import postgres_server

CHAT = 4242
ASKS = 20
CAPTION = caption_json(CaptionReady("a cat on a sofa", "um gato num sofá", PhotoFacts("a cat on a sofa", "a cat")))
STORY_PT = "Era uma vez um gato que morava num sofá azul e sonhava com peixes dourados. " * 3


async def fill(store: Store, count: int) -> None:
    """`count` stories (and their answered requests): half in CHAT, the rest over 500 other chats."""
    now = time.time()
    stories, requests = [], []
    for i in range(count):
        chat = CHAT if i % 2 == 0 else 10_000 + i % 500
        story_id = f"bench{i:06d}"
        stories.append(
            {
                "id": story_id,
                "chat_id": chat,
                "created_at": now - i * 60,
                "story_kind": "classic",
                "story_length": "medium",
                "caption": CAPTION,
                "story_en": "Once upon a time.",
                "story_pt": STORY_PT,
                "voice_language": "pt",
                "voice_file_id": f"VOICE-{i}",
            }
        )
        requests.append(
            {
                "id": story_id,
                "chat_id": chat,
                "voice_language": "pt",
                "state": "finished",
                "parts_sent": "caption,story,voice",
                "created_at": now - i * 60,
                "updated_at": now,
            }
        )
    async with store.engine.begin() as connection:
        await connection.execute(insert(requests_table), requests)
        await connection.execute(insert(stories_table), stories)


async def measure(data_dir: Path, count: int, database_url: str | None) -> dict[str, float]:
    overrides = {"database_url": database_url} if database_url else {}
    async with running_bot(data_dir, **overrides) as bot:  # type: ignore[arg-type]
        await fill(bot.services.store, count)
        times: list[float] = []
        for _ in range(ASKS):
            asked = time.monotonic()
            bot.tg.text(CHAT, CHAT, "/historias")
            (call,) = (await bot.tg.wait_for_call("sendMessage", chat_id=CHAT, count=len(times) + 1))[-1:]
            times.append(call.time - asked)
    return {
        "stories": count,
        "p50_s": round(statistics.median(times), 4),
        "max_s": round(max(times), 4),
    }


@contextlib.contextmanager
def database(postgres: bool) -> Iterator[str | None]:
    if not postgres:
        yield None
        return
    with postgres_server() as server:
        yield server.new_database()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, database(args.postgres) as url:
        result = asyncio.run(measure(Path(folder), args.stories, url))
    result["database"] = "postgresql" if args.postgres else "sqlite"  # type: ignore[assignment]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
