"""Faults, floods, isolation, shutdown and secrets: the bot keeps serving, loses nothing, leaks nothing."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest

from app.logs import configure_logging
from handlers import texts
from tools.bot_harness import jpeg_bytes, running_bot
from tools.fake_backends import Behaviour, fake_backends
from tools.fake_telegram import DEFAULT_TOKEN
from tools.loadtest import light_backends, run_load

from ..pipeline.test_images import png_bomb
from .test_bot import CHAT, USER, texts_sent, wait_until_nothing_is_held, wait_voice


@pytest.mark.slow  # three 429s, each waits Telegram's retry_after of 1 s (the least there is)
async def test_telegram_429_is_retried_and_nothing_is_lost(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.fail_next("sendVoice", status=429, retry_after=1)
        bot.tg.fail_next("sendMessage", status=429, retry_after=1, times=2)
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)
        assert len(bot.tg.calls("sendVoice", CHAT, ok=False)) == 1
        assert any(t.startswith("📷") for t in texts_sent(bot, CHAT))


async def test_download_dropped_mid_file_is_retried(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.drop_next_file_download()
        bot.tg.private_photo(CHAT, USER, jpeg_bytes(500, 400))
        await wait_voice(bot, CHAT)
        assert any("500 by 400" in t for t in texts_sent(bot, CHAT))


async def test_telegram_500_on_getfile_is_retried(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.fail_next("getFile", status=500)
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)


@pytest.mark.slow  # waits the download backoff, 1 s + 2 s
async def test_download_that_keeps_failing_gets_an_apology(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.drop_next_file_download(times=10)
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await bot.tg.wait_for(lambda: texts.DOWNLOAD_FAILED in texts_sent(bot, CHAT), timeout=20)
        await wait_until_nothing_is_held(bot)  # the apology closes the request: no retry after a restart


async def test_stage_slower_than_its_timeout_yields_what_was_made(tmp_path: Path) -> None:
    backends = fake_backends()
    backends.synthesizers["pt"].behaviour = Behaviour(delay=5)
    async with running_bot(tmp_path, backends, stage_timeout_s=0.5) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await bot.tg.wait_for(lambda: texts.STAGE_FAILED["speech"] in texts_sent(bot, CHAT), timeout=10)
        assert any("A história" in t for t in texts_sent(bot, CHAT))


async def test_caption_backend_raising_gets_an_apology_and_others_are_served(tmp_path: Path) -> None:
    backends = fake_backends()
    original = backends.captioner.caption

    async def caption(image):
        if image.size == (333, 333):
            raise RuntimeError("backend bug")
        return await original(image)

    backends.captioner.caption = caption  # type: ignore[method-assign]
    async with running_bot(tmp_path, backends) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes(333, 333))
        bot.tg.private_photo(CHAT + 1, USER + 1, jpeg_bytes(400, 300))
        await wait_voice(bot, CHAT + 1)
        await bot.tg.wait_for(lambda: texts.PIPELINE_FAILED in texts_sent(bot, CHAT), timeout=10)
        assert not bot.tg.calls("sendVoice", CHAT)
        await wait_until_nothing_is_held(bot)  # both requests closed, the failed one too


async def test_unexpected_error_gets_apology_with_request_id_and_logged(tmp_path: Path, caplog) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.fail_next("sendVoice", status=400, description="Bad Request: wrong file")
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        apology = await bot.tg.wait_for(
            lambda: [t for t in texts_sent(bot, CHAT) if "código" in t], timeout=10, what="apology"
        )
        request_id = apology[0].split("<code>")[1].split("</code>")[0]
        assert any(getattr(r, "request_id", None) == request_id for r in caplog.records if r.levelno >= logging.ERROR)
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())  # and the next request works
        await wait_voice(bot, CHAT)


async def test_secrets_never_reach_the_logs(tmp_path: Path) -> None:
    unsplash_key = "unsplash-secret-key-0123456789"
    buffer = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging(level="DEBUG", secrets=[DEFAULT_TOKEN, unsplash_key], stream=buffer)
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # httpx logs full request URLs, token included
    try:
        async with running_bot(tmp_path) as bot:
            bot.tg.fail_next("getFile", status=500)
            bot.tg.private_photo(CHAT, USER, jpeg_bytes())
            bot.tg.document(CHAT + 1, USER + 1, b"garbage", "x.jpg", "image/jpeg")
            await wait_voice(bot, CHAT)
            logging.getLogger("test").error("url was %s/bot%s/getMe", bot.tg.root, DEFAULT_TOKEN)
            try:
                raise RuntimeError(f"key {unsplash_key}")
            except RuntimeError:
                logging.getLogger("test").exception("failure")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    logs = buffer.getvalue()
    assert "getUpdates" in logs and "[REDACTED]" in logs  # the run was really logged
    assert DEFAULT_TOKEN not in logs and DEFAULT_TOKEN.split(":")[1] not in logs
    assert unsplash_key not in logs


@pytest.mark.slow  # 60 updates through the bot: about 10 s
async def test_small_load_run(tmp_path: Path) -> None:
    """The CI-sized load test; `python -m tools.loadtest` runs the full one (200 updates, 50 chats)."""
    report = await run_load(tmp_path, updates=60, chats=15, backends=light_backends(), timeout_s=120)
    assert report.ok, report.problems
    assert report.voices > 0 and report.valid_photos > 0
    assert report.bad_inputs_answered == report.bad_inputs
    assert report.media_files_left == 0


@pytest.mark.slow  # ~100 Bot API calls through PTB's rate limiter (30 a second): about 3 s
async def test_many_chats_at_once_each_answered_once(tmp_path: Path) -> None:
    backends = light_backends()
    async with running_bot(tmp_path, backends, max_waiting=50) as bot:
        for i in range(10):
            bot.tg.private_photo(CHAT + i, USER + i, jpeg_bytes(100 + i, 100))
        for i in range(10):
            await wait_voice(bot, CHAT + i)
        await asyncio.sleep(0.3)
        assert all(len(bot.tg.calls("sendVoice", CHAT + i)) == 1 for i in range(10))


def bomb_png(side: int = 30000) -> bytes:
    """A tiny file that claims to be a huge picture (a decompression bomb), built without its pixels in memory."""
    return png_bomb(side, side)


async def test_input_limits_each_get_their_own_message(tmp_path: Path) -> None:
    async with running_bot(tmp_path, max_image_bytes=200_000) as bot:
        bot.tg.document(CHAT, USER, jpeg_bytes(1200, 1200) + b"\0" * 300_000, "big.jpg", "image/jpeg")
        bot.tg.document(CHAT + 1, USER + 1, bomb_png(), "bomb.png", "image/png")
        bot.tg.text(CHAT + 2, USER + 2, "/voz " + "x" * 4000)
        for chat in range(CHAT, CHAT + 3):
            await bot.tg.wait_for_call("sendMessage", chat_id=chat, timeout=10)
        assert texts_sent(bot, CHAT)[0] == texts.INVALID_IMAGE["too_large"].format(max_mb="0,2")
        await bot.tg.wait_for(lambda: texts.INVALID_IMAGE["too_many_pixels"] in texts_sent(bot, CHAT + 1))
        assert texts_sent(bot, CHAT + 2)[0].startswith("🎙️ Em que idioma")  # a nonsense argument: the question
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())  # still serving
        await wait_voice(bot, CHAT)


async def test_a_status_message_telegram_fails_to_take_does_not_break_the_story(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.fail_next("sendMessage", status=500)  # the first status ("📥 Recebendo a foto…")
        bot.tg.fail_next("editMessageText", status=502, times=2)
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)
        sent = texts_sent(bot, CHAT)
        assert any(t.startswith("📷") for t in sent) and any(t.startswith("📖") for t in sent)
        assert not any("Ops" in t for t in sent)  # no apology: nothing was lost
