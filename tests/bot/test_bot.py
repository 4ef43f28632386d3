"""The bot end to end against the fake Bot API, with light backends (the models are tested elsewhere)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
import soundfile as sf

from handlers import texts
from tools.bot_harness import RunningBot, jpeg_bytes, running_bot
from tools.fake_backends import Behaviour, fake_backends

USER = 111
CHAT = 111
GROUP = -100500


def texts_sent(bot: RunningBot, chat_id: int) -> list[str]:
    return [call.params.get("text", "") for call in bot.tg.calls("sendMessage", chat_id) if call.ok]


async def wait_voice(bot: RunningBot, chat_id: int, count: int = 1) -> None:
    await bot.tg.wait_for_call("sendVoice", chat_id=chat_id, count=count, timeout=20)


async def wait_until_nothing_is_held(bot: RunningBot, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Every request is over for good: no job running or waiting in the work queue (in-process, the jobs are what
    hold a photo's bytes, as the media server did for Redis workers) and none open in the store, which a restart
    would take up again. Fails after `timeout` s, saying what is still held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        queue, open_requests = bot.services.queue, await bot.services.store.unfinished()
        if queue.running == queue.waiting == 0 and not open_requests:
            return
        if loop.time() > deadline:
            held = f"{queue.running} running, {queue.waiting} waiting, open: {[r.id for r in open_requests]}"
            raise AssertionError(f"still held after {timeout} s: {held}")
        await asyncio.sleep(0.02)


async def test_start_and_command_menu(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        commands = bot.tg.calls("setMyCommands")
        assert {c["command"] for c in commands[0].params["commands"]} == set(texts.COMMANDS)
        bot.tg.text(CHAT, USER, "/start")
        await bot.tg.wait_for_call("sendMessage", chat_id=CHAT)
        assert "Conta-Histórias" in texts_sent(bot, CHAT)[0]


async def test_private_photo_gets_caption_story_and_voice(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes(1280, 960))
        await wait_voice(bot, CHAT)
        sent = texts_sent(bot, CHAT)
        caption = next(t for t in sent if t.startswith("📷"))
        assert "[pt] a test picture of 1280 by 960 pixels" in caption  # the largest PhotoSize was used
        assert "🇬🇧 a test picture" in caption
        story_call = next(c for c in bot.tg.calls("sendMessage", CHAT) if "A história" in c.params.get("text", ""))
        assert "[pt] Once upon a time" in story_call.params["text"]
        assert story_call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("story:en:")
        voice = bot.tg.calls("sendVoice", CHAT)[0]
        ogg = voice.files["voice"]
        assert ogg.startswith(b"OggS") and b"OpusHead" in ogg
        assert sf.info(io.BytesIO(ogg)).duration > 0.5
        assert voice.params["caption"] == texts.VOICE_CAPTION["pt"]
        # progress: chat actions and a status message that is gone at the end
        actions = {c.params["action"] for c in bot.tg.calls("sendChatAction", CHAT)}
        assert {"typing", "record_voice"} <= actions
        statuses = [c for c in bot.tg.calls("sendMessage", CHAT) if c.params.get("text") == texts.STATUS["decode"]]
        assert statuses and bot.tg.calls("editMessageText", CHAT)
        await bot.tg.wait_for_call("deleteMessage", chat_id=CHAT)
        # the order: caption before story before voice
        order = [c.method for c in bot.tg.calls(chat_id=CHAT) if c.method in ("sendMessage", "sendVoice")]
        assert order.index("sendVoice") > max(i for i, c in enumerate(sent) if "A história" in c)
        # in-process, the pipeline gets the photo's bytes: no media server at all; once answered, nothing is held
        assert bot.services.media is None
        await wait_until_nothing_is_held(bot)


async def test_image_sent_as_document(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.document(CHAT, USER, jpeg_bytes(300, 200), "foto.jpg", "image/jpeg")
        await wait_voice(bot, CHAT)
        assert any("300 by 200" in t for t in texts_sent(bot, CHAT))


async def test_group_reply_with_historia_at_botname(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        photo_update = bot.tg.group_photo(GROUP, USER, jpeg_bytes(400, 300))
        await asyncio.sleep(0.3)
        assert not bot.tg.calls("sendMessage", GROUP)  # an uncaptioned group photo is not ours to answer
        command = bot.tg.text(GROUP, USER, "/historia@ContaHistoriasBot", "supergroup", photo_update["message"])
        await wait_voice(bot, GROUP)
        command_id = command["message"]["message_id"]
        replies = [c for c in bot.tg.calls(chat_id=GROUP) if c.method in ("sendMessage", "sendVoice")]
        assert all(c.params["reply_parameters"]["message_id"] == command_id for c in replies)


async def test_group_photo_captioned_historia(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.group_photo(GROUP, USER, jpeg_bytes(), caption="/historia")
        await wait_voice(bot, GROUP)


async def test_historia_without_photo_explains(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.text(GROUP, USER, "/historia", "group")
        await bot.tg.wait_for_call("sendMessage", chat_id=GROUP)
        assert texts_sent(bot, GROUP) == [texts.HISTORIA_USAGE_GROUP]


async def test_bad_inputs_get_clear_messages(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.document(CHAT, USER, b"%PDF-1.4 not an image", "doc.pdf", "application/pdf")
        bot.tg.document(CHAT + 1, USER + 1, b"\xff\xd8\xff\xe0 corrupt", "broken.jpg", "image/jpeg")
        bot.tg.document(CHAT + 2, USER + 2, b"heic", "photo.heic", "image/heic")
        bot.tg.sticker(CHAT + 3, USER + 3)
        bot.tg.text(CHAT + 4, USER + 4, "oi, tudo bem?")
        for chat in range(CHAT, CHAT + 5):
            await bot.tg.wait_for_call("sendMessage", chat_id=chat)
        await asyncio.sleep(0.2)
        assert texts_sent(bot, CHAT) == [texts.INVALID_IMAGE["not_image"]]
        assert texts.INVALID_IMAGE["corrupt"] in texts_sent(bot, CHAT + 1)
        assert texts_sent(bot, CHAT + 2) == [texts.INVALID_IMAGE["unsupported_format"]]
        assert texts_sent(bot, CHAT + 3) == [texts.STICKER]
        assert texts_sent(bot, CHAT + 4) == [texts.UNSUPPORTED_MESSAGE]
        assert not bot.tg.calls("sendVoice")
        # and the bot keeps serving
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)


async def test_three_chats_at_once(tmp_path: Path) -> None:
    backends = fake_backends()
    backends.story_writer.behaviour = Behaviour(delay=0.2)
    async with running_bot(tmp_path, backends) as bot:
        for i in range(3):
            bot.tg.private_photo(CHAT + i, USER + i, jpeg_bytes(200 + i, 100))
        for i in range(3):
            await wait_voice(bot, CHAT + i)
            assert any(f"{200 + i} by 100" in t for t in texts_sent(bot, CHAT + i))
            assert len(bot.tg.calls("sendVoice", CHAT + i)) == 1


async def test_voz_switches_language_and_is_remembered(tmp_path: Path) -> None:
    backends = fake_backends()
    async with running_bot(tmp_path, backends) as bot:
        bot.tg.text(CHAT, USER, "/voz en")
        await bot.tg.wait_for_call("sendMessage", chat_id=CHAT)
        assert "inglês" in texts_sent(bot, CHAT)[0]
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)
        assert bot.tg.calls("sendVoice", CHAT)[0].params["caption"] == texts.VOICE_CAPTION["en"]
        assert backends.synthesizers["en"].texts[0].startswith("Once upon a time")  # the English story
        await bot.app.update_persistence()
    async with running_bot(tmp_path) as bot:  # restart: same data dir
        bot.tg.text(CHAT, USER, "/voz")
        await bot.tg.wait_for_call("sendMessage", chat_id=CHAT)
        assert "inglês" in texts_sent(bot, CHAT)[0]


async def test_story_button_shows_english(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)
        story_call = next(c for c in bot.tg.calls("sendMessage", CHAT) if "A história" in c.params.get("text", ""))
        message = bot.tg.message(CHAT, story_call.result["message_id"])
        assert message is not None
        data = story_call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        bot.tg.callback_query(CHAT, USER, message, data)

        def english_edits() -> list:
            return [c for c in bot.tg.calls("editMessageText", CHAT) if "The story" in c.params.get("text", "")]

        english = await bot.tg.wait_for(english_edits, timeout=5)
        assert "Once upon a time" in english[0].params["text"] and "[pt]" not in english[0].params["text"]
        assert english[0].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("story:pt:")
        assert bot.tg.calls("answerCallbackQuery")


async def test_failed_story_still_delivers_caption_with_apology(tmp_path: Path) -> None:
    backends = fake_backends()
    backends.story_writer.behaviour = Behaviour(fail=True)
    async with running_bot(tmp_path, backends) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await bot.tg.wait_for(lambda: texts.STAGE_FAILED["story"] in texts_sent(bot, CHAT), timeout=10)
        assert any(t.startswith("📷") for t in texts_sent(bot, CHAT))
        assert not bot.tg.calls("sendVoice")


async def test_failed_voice_still_delivers_story(tmp_path: Path) -> None:
    backends = fake_backends()
    backends.synthesizers["pt"].behaviour = Behaviour(crash=True)
    async with running_bot(tmp_path, backends) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await bot.tg.wait_for(lambda: texts.STAGE_FAILED["speech"] in texts_sent(bot, CHAT), timeout=10)
        assert any("A história" in t for t in texts_sent(bot, CHAT))


async def test_busy_bot_answers_politely(tmp_path: Path) -> None:
    backends = fake_backends()
    gate = asyncio.Event()  # stories wait until the bot has turned someone away (no timing to guess)
    original = backends.story_writer.write

    async def write(facts, *args, **kwargs):
        await gate.wait()
        return await original(facts, *args, **kwargs)

    backends.story_writer.write = write  # type: ignore[method-assign]
    async with running_bot(tmp_path, backends, running_jobs=1, max_waiting=1) as bot:
        for i in range(3):
            bot.tg.private_photo(CHAT + i, USER + i, jpeg_bytes())
            await asyncio.sleep(0.1)
        await bot.tg.wait_for(lambda: any(texts.BUSY in texts_sent(bot, CHAT + i) for i in range(3)), timeout=10)
        statuses = [call.params["text"] for call in bot.tg.calls("editMessageText", CHAT + 1) if call.ok]
        assert texts.STATUS_QUEUED.format(position=1) in statuses  # told their place in line
        # The caption comes ahead of the story queue: the one in line already knows what the bot saw.
        assert any(t.startswith("📷") for t in texts_sent(bot, CHAT + 1))
        gate.set()
        await bot.tg.wait_for(lambda: len(bot.tg.calls("sendVoice")) == 2, timeout=20)


async def test_aleatorio_sends_a_credited_landscape_then_its_story(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.text(CHAT, USER, "/aleatorio")
        await wait_voice(bot, CHAT)
        photo = bot.tg.calls("sendPhoto", CHAT)[0]
        assert photo.files["photo"].startswith(b"\xff\xd8")  # the gallery JPEG itself
        assert "foto de" in photo.params["caption"] and "Debian" in photo.params["caption"]
        assert photo.params["parse_mode"] == "HTML"
        assert any(t.startswith("📷") for t in texts_sent(bot, CHAT))
        first_photo_time = photo.time
        assert all(c.time >= first_photo_time for c in bot.tg.calls("sendVoice", CHAT))


async def test_sobre_lists_models_voices_and_photo_licences(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.text(CHAT, USER, "/sobre")
        await bot.tg.wait_for_call("sendMessage", chat_id=CHAT)
        about = texts_sent(bot, CHAT)[0]
        for expected in ("EfficientNet", "SmolLM2", "Letícia", "Piper", "CC BY 4.0"):
            assert expected in about


@pytest.mark.models
async def test_real_offline_models_through_the_bot(tmp_path: Path) -> None:
    async with running_bot(tmp_path, real_models=True, story_seed=3) as bot:
        bot.tg.private_photo(CHAT, USER, (Path(__file__).parents[1] / "data" / "lake_sunset.jpg").read_bytes())
        await bot.tg.wait_for_call("sendVoice", chat_id=CHAT, timeout=120)
        caption = next(t for t in texts_sent(bot, CHAT) if t.startswith("📷"))
        story_call = next(c for c in bot.tg.calls("sendMessage", CHAT) if "A história" in c.params.get("text", ""))
        story = bot.tg.message(CHAT, story_call.result["message_id"])  # as it is now: written sentence by sentence
        assert story is not None and "🇬🇧" in caption and len(story["text"].split()) > 60
        ogg = bot.tg.calls("sendVoice", CHAT)[0].files["voice"]
        assert ogg.startswith(b"OggS") and b"OpusHead" in ogg
        assert sf.info(io.BytesIO(ogg)).duration > 20  # a story read aloud, not a blip
