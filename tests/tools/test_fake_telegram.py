"""The fake Bot API against the real python-telegram-bot 22: if PTB is happy here, bot tests can trust it."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile
from aiohttp import web
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.context import callback_query_of, message_of
from tools.fake_telegram import FakeTelegram, command_entities, parse_html, parse_markdown_v2
from tools.loopback import serve_on_loopback

pytestmark = pytest.mark.timeout(30)

USER = 4242
GROUP = -100123


def jpeg(width: int = 1000, height: int = 600) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def ogg_opus(seconds: float) -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, np.zeros(int(48000 * seconds), dtype="float32"), 48000, format="OGG", subtype="OPUS")
    return buf.getvalue()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as b:
        yield b


def build_app(tg: FakeTelegram, **builder_options: Any) -> Application:
    builder = Application.builder().token(tg.token).base_url(tg.base_url).base_file_url(tg.base_file_url)
    for name, value in builder_options.items():
        builder = getattr(builder, name)(value)
    return builder.build()


async def test_application_polls_replies_and_downloads(tg: FakeTelegram) -> None:
    downloaded: list[bytes] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await message_of(update).reply_text("olá")

    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        data = await (await message_of(update).photo[-1].get_file()).download_as_bytearray()
        downloaded.append(bytes(data))
        await message_of(update).reply_text(str(len(data)), do_quote=True)

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = callback_query_of(update)
        await query.answer("ok")
        await query.edit_message_text(f"escolheu {query.data}")

    app = build_app(tg)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.PHOTO, photo))
    app.add_handler(CallbackQueryHandler(button))
    image = jpeg()

    assert app.updater is not None
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            tg.text(USER, USER, "/start")
            tg.private_photo(USER, USER, image)
            tg.text(GROUP, USER, "/start@ContaHistoriasBot", chat_type="supergroup")
            tg.text(GROUP, USER, "/start@OutroBot", chat_type="supergroup")  # not for us: ignored
            await tg.wait_for_call("sendMessage", chat_id=USER, count=2)
            await tg.wait_for_call("sendMessage", chat_id=GROUP)

            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
            menu = await app.bot.send_message(USER, "escolha", reply_markup=keyboard)
            tg.callback_query(USER, USER, menu.to_dict(), "a")
            await tg.wait_for_call("editMessageText", chat_id=USER)
        finally:
            await app.updater.stop()
            await app.stop()

    texts = [m["text"] for m in tg.sent_messages(USER)]
    assert texts[:2] == ["olá", str(len(image))]
    assert texts[2] == "escolheu a"  # edited in place; the inline keyboard is gone with the edit
    assert "reply_markup" not in tg.sent_messages(USER)[2]
    assert [m["text"] for m in tg.sent_messages(GROUP)] == ["olá"]
    assert downloaded == [image]
    assert tg.calls("answerCallbackQuery", ok=True)
    assert tg.pending_updates == 0  # PTB confirmed every update on shutdown
    replied = tg.sent_messages(USER)[1]["reply_to_message"]
    assert replied["photo"][-1]["width"] == 1000


async def test_photo_sizes_increase_and_all_download(tg: FakeTelegram, bot: Bot) -> None:
    message = tg.private_photo(USER, USER, jpeg(1200, 900), caption="/historia")["message"]
    sizes = message["photo"]
    assert [s["width"] for s in sizes] == [90, 320, 800, 1200]
    assert message["caption_entities"] == [{"type": "bot_command", "offset": 0, "length": 9}]
    for size in sizes:
        data = await (await bot.get_file(size["file_id"])).download_as_bytearray()
        assert Image.open(io.BytesIO(data)).width == size["width"]
        assert len(data) == size["file_size"]


async def test_retry_after_surfaces_and_rate_limiter_retries(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter, match=r"Retry in (7|0:00:07)"):
        await bot.send_message(USER, "a")
    assert (await bot.send_message(USER, "b")).text == "b"

    app = build_app(tg, rate_limiter=AIORateLimiter(max_retries=1))
    async with app:
        tg.fail_next("sendMessage", 429, retry_after=1)
        sent = await app.bot.send_message(USER, "c")
    assert sent.text == "c"
    assert [c.status for c in tg.calls("sendMessage")] == [429, 200, 429, 200]


async def test_server_errors_delays_and_broken_downloads(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(USER, "x")

    tg.delay_next("sendMessage", 0.6)  # well past the read timeout; the fixture waits for it at teardown
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "lento", read_timeout=0.2)

    file_id = tg.add_file(b"0123456789" * 100, "documents/story.txt")
    tg.drop_next_file_download()
    file = await bot.get_file(file_id)
    with pytest.raises(NetworkError):
        await file.download_as_bytearray()
    assert await file.download_as_bytearray() == b"0123456789" * 100
    assert tg.downloads == ["documents/story.txt", "documents/story.txt"]


async def test_telegram_validation(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "<b>Título</b> &amp; <i>história</i>", parse_mode="HTML")
    assert sent.text == "Título & história"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 6), ("italic", 9, 8)]

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>Título</b> &amp; <i>história</i>", USER, sent.message_id, parse_mode="HTML")
    edited = await bot.edit_message_text("Título", USER, sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Título" and not edited.entities

    cases = [
        (lambda: bot.send_message(USER, " "), "message text is empty"),
        (lambda: bot.send_message(USER, "x" * 4097), "message is too long"),
        (lambda: bot.send_message(USER, "<b>a</i>", parse_mode="HTML"), "can't parse entities: unmatched end tag"),
        (lambda: bot.send_message(USER, "1 < 2", parse_mode="HTML"), "can't parse entities"),
        (lambda: bot.send_message(USER, "<br>", parse_mode="HTML"), 'unsupported start tag "br"'),
        (lambda: bot.send_message(USER, "Fim.", parse_mode="MarkdownV2"), "character '.' is reserved"),
        (lambda: bot.send_photo(USER, jpeg(), caption="y" * 1025), "caption is too long"),
        (lambda: bot.send_photo(USER, b"not an image"), "image_process_failed"),
        (lambda: bot.edit_message_text("z", USER, 999), "message to edit not found"),
        (lambda: bot.delete_message(USER, 999), "message to delete not found"),
        (lambda: bot.send_message(USER, "r", reply_to_message_id=999), "message to be replied not found"),
        (lambda: bot.get_file("nope"), "invalid file_id"),
        (lambda: bot.answer_callback_query("nope"), "query is too old"),
        (lambda: bot.set_my_commands([("história", "acentos não")]), "bot_command_invalid"),
    ]
    for call, expected in cases:
        # PTB drops the "Bad Request: " prefix and capitalises the rest.
        with pytest.raises(BadRequest, match=f"(?i){re.escape(expected)}"):
            await call()
    assert (await bot.send_message(USER, "x" * 4096)).text == "x" * 4096


async def test_uploads_are_multipart_and_recorded(tg: FakeTelegram, bot: Bot) -> None:
    asked = tg.text(USER, USER, "/historia")["message"]
    await bot.send_chat_action(USER, "record_voice")
    voice_bytes = ogg_opus(2.0)
    voice = await bot.send_voice(
        USER, voice_bytes, caption="<i>ouça</i>", parse_mode="HTML", reply_to_message_id=asked["message_id"]
    )
    assert voice.voice is not None and voice.voice.mime_type == "audio/ogg"
    assert voice.voice.to_dict()["duration"] == 2  # read from the OGG granule position
    assert voice.caption == "ouça" and voice.reply_to_message is not None
    assert voice.reply_to_message.text == "/historia"
    assert tg.calls("sendVoice")[0].files == {"voice": voice_bytes}

    as_document = await bot.send_voice(USER, b"RIFF....WAVEfmt ")
    assert as_document.voice is None and as_document.document is not None

    doc = await bot.send_document(USER, b"%PDF-1.4 fake", filename="historia.pdf")
    assert doc.document is not None
    assert doc.document.file_name == "historia.pdf" and doc.document.mime_type == "application/pdf"
    photo = await bot.send_photo(USER, jpeg(640, 480), caption="Legenda")
    assert photo.photo[-1].width == 640 and photo.caption == "Legenda"
    recaptioned = await bot.edit_message_caption(USER, photo.message_id, caption="<b>Nova</b>", parse_mode="HTML")
    assert isinstance(recaptioned, Message)
    assert recaptioned.caption == "Nova" and recaptioned.caption_entities[0].type == "bold"
    resent = await bot.send_photo(USER, photo.photo[-1].file_id)  # by file_id: no upload
    assert tg.calls("sendPhoto")[-1].files == {} and resent.photo[-1].width == 640

    await bot.set_message_reaction(USER, asked["message_id"], "👍")
    assert await bot.delete_message(USER, voice.message_id)
    assert tg.is_deleted(USER, voice.message_id)
    assert len(tg.sent_messages(USER)) == 4
    assert await bot.set_my_commands([("historia", "Conta uma história")])
    assert [c.command for c in await bot.get_my_commands()] == ["historia"]


async def test_wire_formats_token_and_unknown_methods(tg: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{tg.root}/bot{tg.token}", timeout=5) as client:
        by_json = await client.post("/sendMessage", json={"chat_id": USER, "text": "123"})
        by_form = await client.post("/sendMessage", data={"chat_id": str(USER), "text": "true"})
        by_query = await client.get("/sendMessage", params={"chat_id": USER, "text": "q"})
        unknown = await client.post("/sendDice", json={"chat_id": USER})
        missing = await client.get(f"{tg.root}/file/bot{tg.token}/photos/none.jpg")
    assert [r.json()["result"]["text"] for r in (by_json, by_form, by_query)] == ["123", "true", "q"]
    assert unknown.json() == {"ok": True, "result": True} and tg.calls("sendDice")
    assert missing.status_code == 404

    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=tg.base_url):  # initialize() calls getMe
            pass
    assert tg.calls("getMe")[-1].status == 401
    assert tg.token not in repr(tg) and tg.token not in tg.summary()


async def test_get_updates_long_poll_offset_and_webhook(tg: FakeTelegram, bot: Bot) -> None:
    assert await bot.get_updates(timeout=30) == ()  # capped long poll: returns within ~1 s

    first = tg.text(USER, USER, "um")["update_id"]
    tg.text(USER, USER, "dois")
    assert [message_of(u).text for u in await bot.get_updates(limit=1)] == ["um"]
    assert [message_of(u).text for u in await bot.get_updates(offset=first + 1)] == ["dois"]

    waiting = asyncio.create_task(bot.get_updates(offset=first + 2, timeout=5))
    await asyncio.sleep(0.1)
    tg.text(USER, USER, "três")
    assert [message_of(u).text for u in await asyncio.wait_for(waiting, 3)] == ["três"]

    received: list[tuple[dict[str, Any], str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner, root = await serve_on_loopback(receiver, access_log=None)
    try:
        await bot.set_webhook(f"{root}/hook", secret_token="s3cret", drop_pending_updates=True)
        with pytest.raises(Exception, match="Conflict"):
            await bot.get_updates()
        tg.text(USER, USER, "via webhook")
        await tg.wait_for(lambda: received, timeout=5, what="webhook delivery")
        assert received[0][0]["message"]["text"] == "via webhook" and received[0][1] == "s3cret"
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_wait_for_call_times_out_with_summary(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER, "só isto")
    with pytest.raises(TimeoutError, match=r"(?s)1 x sendPhoto.*sendMessage chat=4242"):
        await tg.wait_for_call("sendPhoto", chat_id=USER, timeout=0.2)


def test_builders_and_parsers() -> None:
    tg = FakeTelegram()
    assert command_entities("olá /historia@ContaHistoriasBot já") == [
        {"type": "bot_command", "offset": 4, "length": 27}
    ]
    assert parse_html("😀 <b>x</b>") == ("😀 x", [{"type": "bold", "offset": 3, "length": 1}])
    assert parse_html('<pre><code class="language-python">p</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 1, "language": "python"}
    ]
    assert parse_markdown_v2(r"*a* \- ||s||")[0] == "a - s"
    group = tg.group_photo(GROUP, USER, b"garbage", caption="/historia")["message"]
    assert group["chat"]["type"] == "supergroup" and len(group["photo"]) == 3
    reply = tg.text(GROUP, USER, "/historia", chat_type="supergroup", reply_to=group)["message"]
    via_update = tg.text(GROUP, USER, "eu", "supergroup", reply_to=tg.text(GROUP, USER, "oi", "supergroup"))
    assert via_update["message"]["reply_to_message"]["text"] == "oi"
    assert reply["reply_to_message"]["message_id"] == group["message_id"] == reply["message_id"] - 1
    document = tg.document(USER, USER, b"img", "foto.png", "image/png")["message"]["document"]
    stored = tg.file(document["file_id"])
    assert stored is not None and stored.data == b"img"
    assert "sticker" in tg.sticker(USER, USER)["message"]
    animation = tg.animation(USER, USER, b"GIF89a")["message"]
    assert animation["animation"]["file_id"] == animation["document"]["file_id"]
    with pytest.raises(ValueError, match="negative"):
        tg.group_photo(7, USER, b"x")
