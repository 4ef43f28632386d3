"""Nothing lost when the bot dies: a SIGKILL at any stage, a stop with photos in line, an update received but
never handled — each photo gets exactly one full answer after the restart, or one apology.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.records import StoryRequest
from app.store import Store
from handlers import texts
from handlers.config import BotSettings
from handlers.recovery import DurableBot
from pipeline.events import CaptionReady
from pipeline.facts import PhotoFacts
from tools.bot_harness import jpeg_bytes, running_bot
from tools.bot_process import STAGES
from tools.fake_backends import Behaviour, fake_backends
from tools.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tools.loopback import free_port

from .test_bot import CHAT, USER, texts_sent

ROOT = Path(__file__).resolve().parents[2]


def parts_sent(tg: FakeTelegram, chat_id: int) -> dict[str, int]:
    """How many captions, stories, voices and 'I restarted' lines the chat received."""
    sent = texts_sent_to(tg, chat_id)
    return {
        "caption": sum(text.startswith("📷") for text in sent),
        "story": sum(text.startswith("📖") for text in sent),
        "voice": len(tg.calls("sendVoice", chat_id, ok=True)),
        "resumed": sent.count(texts.RESUMED),
    }


def texts_sent_to(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [call.params.get("text", "") for call in tg.calls("sendMessage", chat_id) if call.ok]


@contextlib.asynccontextmanager
async def bot_process(
    tg: FakeTelegram, data_dir: Path, *args: str, **env: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The bot in a child process (fake backends) polling `tg`; killed at the end if still alive."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tools.bot_process",
        "--api",
        tg.root,
        "--data",
        str(data_dir),
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def wait_for_line(process: asyncio.subprocess.Process, expected: str) -> None:
    assert process.stdout is not None
    async with asyncio.timeout(60):
        while (line := await process.stdout.readline()) and line.decode().strip() != expected:
            pass
    assert line, f"the bot exited before printing {expected!r}"


@pytest.mark.processes  # two bot processes per stage, a few seconds each
@pytest.mark.parametrize(
    ("stage", "mode"), [(stage, "polling") for stage in STAGES] + [("story", "webhook"), ("sending", "webhook")]
)
async def test_sigkill_during_each_stage_then_exactly_one_full_answer(tmp_path: Path, stage: str, mode: str) -> None:
    webhook = ("--webhook", str(free_port())) if mode == "webhook" else ()
    async with FakeTelegram(DEFAULT_TOKEN) as tg:
        async with bot_process(tg, tmp_path, "--hang", stage, *webhook) as first:
            tg.private_photo(CHAT, USER, jpeg_bytes())
            await wait_for_line(first, f"hanging at {stage}")
            first.kill()
        stale_status: int = tg.calls("sendMessage", CHAT)[0].result["message_id"]  # "📥 Recebendo a foto…"
        async with bot_process(tg, tmp_path, *webhook):
            await tg.wait_for_call("sendVoice", chat_id=CHAT, timeout=60)
            await asyncio.sleep(1.0)  # a part sent twice would arrive now
        assert parts_sent(tg, CHAT) == {"caption": 1, "story": 1, "voice": 1, "resumed": 1}
        assert tg.is_deleted(CHAT, stale_status)  # no "📥 Recebendo a foto…" left behind


@pytest.mark.processes
async def test_a_request_too_old_to_resume_gets_one_apology(tmp_path: Path) -> None:
    async with FakeTelegram(DEFAULT_TOKEN) as tg:
        async with bot_process(tg, tmp_path, "--hang", "story") as first:
            tg.private_photo(CHAT, USER, jpeg_bytes())
            await wait_for_line(first, "hanging at story")
            first.kill()
        async with bot_process(tg, tmp_path, RESUME_MAX_AGE_H="0"):
            await tg.wait_for(lambda: texts.RESUME_APOLOGY in texts_sent_to(tg, CHAT), timeout=60)
            await asyncio.sleep(1.0)
        assert texts_sent_to(tg, CHAT).count(texts.RESUME_APOLOGY) == 1
        assert parts_sent(tg, CHAT) == {"caption": 1, "story": 0, "voice": 0, "resumed": 0}


async def wait_until_all_answered(store: Store) -> None:
    """The store has no open request left (the last write follows the last message by a moment)."""
    async with asyncio.timeout(5):
        while await store.unfinished():  # noqa: ASYNC110 — a database row, not an event we could await
            await asyncio.sleep(0.05)


async def store_gone_photo_request(data_dir: Path) -> None:
    """What a dead process left in the store: a request for a photo Telegram no longer has."""
    store = Store(BotSettings(_env_file=None, data_dir=data_dir).store_url())
    await store.open()
    await store.accept(StoryRequest("dead0001", CHAT, USER, None, "pt", file_id="FAKE-gone"))
    await store.close()


async def test_a_photo_telegram_no_longer_has_gets_one_apology(tmp_path: Path) -> None:
    await store_gone_photo_request(tmp_path)
    async with running_bot(tmp_path) as bot:
        await bot.tg.wait_for(lambda: texts.RESUME_APOLOGY in texts_sent(bot, CHAT), timeout=20)
        await wait_until_all_answered(bot.services.store)


async def test_a_stop_keeps_the_photos_in_line_for_the_next_start(tmp_path: Path) -> None:
    backends = fake_backends()
    backends.story_writer.behaviour = Behaviour(delay=3)
    async with FakeTelegram(DEFAULT_TOKEN) as tg:
        async with running_bot(tmp_path, backends, tg=tg, running_jobs=1, shutdown_deadline_s=0.2) as bot:
            for i in range(3):
                tg.private_photo(CHAT + i, USER + i, jpeg_bytes())
            await tg.wait_for(lambda: all(parts_sent(tg, CHAT + i)["caption"] for i in range(3)), timeout=10)
            await bot.services.queue.close(0.2)  # what SIGTERM does first (bot.install_graceful_stop)
        assert not any(texts.SHUTTING_DOWN in texts_sent_to(tg, CHAT + i) for i in range(3))  # nobody asked to resend
        async with running_bot(tmp_path, tg=tg) as bot:
            await tg.wait_for(lambda: all(parts_sent(tg, CHAT + i)["voice"] for i in range(3)), timeout=20)
            await asyncio.sleep(0.5)
            answers = [parts_sent(tg, CHAT + i) for i in range(3)]
            assert all(
                answer | {"resumed": 1} == {"caption": 1, "story": 1, "voice": 1, "resumed": 1} for answer in answers
            ), answers
            assert sum(answer["resumed"] for answer in answers) >= 2  # those still in line when the bot stopped
            await wait_until_all_answered(bot.services.store)


async def test_an_update_received_but_never_handled_is_handled_after_a_restart(tmp_path: Path) -> None:
    async with FakeTelegram(DEFAULT_TOKEN) as tg:
        store = Store(BotSettings(_env_file=None, data_dir=tmp_path).store_url())
        await store.open()
        tg.private_photo(CHAT, USER, jpeg_bytes())
        # What a bot killed right after getUpdates leaves: the update written down, then confirmed to Telegram.
        async with DurableBot(DEFAULT_TOKEN, base_url=f"{tg.root}/bot", base_file_url=f"{tg.root}/file/bot") as dead:
            dead.keep_updates_in(store)
            received = await dead.get_updates(timeout=1)
            await dead.get_updates(offset=received[-1].update_id + 1, timeout=0)
        kept = await store.claim_updates(own=True)
        assert [json.loads(body)["update_id"] for body in kept] == [received[0].update_id]
        await store.close()
        assert tg.pending_updates == 0  # Telegram will not deliver it again
        async with running_bot(tmp_path, tg=tg) as bot:
            await tg.wait_for_call("sendVoice", chat_id=CHAT, timeout=20)
            assert await bot.services.store.claim_updates(own=True) == []


async def test_answered_requests_are_purged(tmp_path: Path) -> None:
    store = Store(BotSettings(_env_file=None, data_dir=tmp_path).store_url())
    await store.open()
    await store.accept(StoryRequest("old", CHAT, USER, None, "pt", state="finished"))
    await store.accept(StoryRequest("open", CHAT, USER, None, "pt"))
    assert await store.purge(requests_older_than_s=3600, stories_older_than_s=3600) == 0
    assert await store.purge(requests_older_than_s=-1, stories_older_than_s=3600) == 1
    assert [request.id for request in await store.unfinished()] == ["open"]
    await store.close()


async def test_the_migrations_build_the_schema_the_code_uses(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.store import metadata

    store = Store(BotSettings(_env_file=None, data_dir=tmp_path).store_url())
    await store.open()
    async with store.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    await store.close()
    assert differences == []


@pytest.mark.slow  # the notice fails three times: the retries' backoff (~3 s)
async def test_a_failed_restart_notice_does_not_stop_the_story(tmp_path: Path) -> None:
    caption = CaptionReady("a cat", "um gato", PhotoFacts("a cat", subject="a cat"))
    store = Store(BotSettings(_env_file=None, data_dir=tmp_path).store_url())
    await store.open()  # what a process killed after sending the caption left
    await store.accept(
        StoryRequest("dead0002", CHAT, USER, None, "pt", caption=caption, parts_sent=frozenset({"caption"}))
    )
    await store.close()
    async with FakeTelegram(DEFAULT_TOKEN) as tg:
        tg.fail_next("sendMessage", status=500, times=3)  # the notice, and both of its retries
        async with running_bot(tmp_path, tg=tg):
            await tg.wait_for_call("sendVoice", chat_id=CHAT, timeout=20)
        assert parts_sent(tg, CHAT) == {"caption": 0, "story": 1, "voice": 1, "resumed": 0}
