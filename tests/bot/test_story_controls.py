"""Stories your way, through the fake Bot API: /estilo, /tamanho, /voz with buttons (admins only in groups),
"Outra história", /historias with read and replay, /privacidade and /esquecer.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.store import metadata
from handlers import texts
from tools.bot_harness import RunningBot, jpeg_bytes, running_bot
from tools.fake_backends import FakeBackends, fake_backends

from .test_bot import CHAT, GROUP, USER, texts_sent, wait_voice

OWNER, MEMBER = 501, 502


def fakes(bot: RunningBot) -> FakeBackends:
    assert isinstance(bot.backends, FakeBackends)
    return bot.backends


def buttons(call_or_message: Any) -> list[dict[str, str]]:
    markup = (call_or_message.params if hasattr(call_or_message, "params") else call_or_message)["reply_markup"]
    return [button for row in markup["inline_keyboard"] for button in row]


def last_message_with(bot: RunningBot, chat_id: int, prefix: str) -> dict[str, Any]:
    """The last message the bot sent to the chat whose text starts with `prefix` (as it is now)."""
    calls = [c for c in bot.tg.calls("sendMessage", chat_id) if c.ok and c.params["text"].startswith(prefix)]
    assert calls, f"no message starting with {prefix!r}: {texts_sent(bot, chat_id)}"
    message = bot.tg.message(chat_id, calls[-1].result["message_id"])
    assert message is not None
    return message


async def press(bot: RunningBot, chat_id: int, user_id: int, message: dict[str, Any], data: str) -> None:
    """Press a button and wait until the bot has answered the press."""
    update = bot.tg.callback_query(chat_id, user_id, message, data)
    query_id = update["callback_query"]["id"]
    await bot.tg.wait_for(
        lambda: any(c.params.get("callback_query_id") == query_id for c in bot.tg.calls("answerCallbackQuery")),
        timeout=5,
    )


async def choose(bot: RunningBot, command: str, data: str, chat_id: int = CHAT, user_id: int = USER) -> None:
    """Send a choice command and press one of its buttons."""
    count = len(texts_sent(bot, chat_id))
    bot.tg.text(chat_id, user_id, command, chat_type="private" if chat_id > 0 else "supergroup")
    await bot.tg.wait_for(lambda: len(texts_sent(bot, chat_id)) > count, timeout=5)
    question = bot.tg.message(chat_id, bot.tg.calls("sendMessage", chat_id)[-1].result["message_id"])
    assert question is not None and data in [b["callback_data"] for b in buttons(question)]
    await press(bot, chat_id, user_id, question, data)


async def test_kind_and_length_reach_the_story_writer(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await choose(bot, "/estilo", "choose:kind:poem")
        kinds = [b["callback_data"] for b in buttons(bot.tg.calls("sendMessage", CHAT)[-1])]
        assert len(kinds) >= 6 and "choose:kind:bedtime" in kinds
        await choose(bot, "/tamanho", "choose:length:long")
        settings = await bot.services.store.chat_settings(CHAT)
        assert (settings.options.kind, settings.options.length) == ("poem", "long")
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)
        assert fakes(bot).story_writer.options_seen[-1] == settings.options
        (story,) = await bot.services.store.recent_stories(CHAT)
        assert story.options == settings.options


async def test_in_groups_only_admins_change_the_choices(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.set_owner(GROUP, OWNER)
        await choose(bot, "/estilo", "choose:kind:fable", GROUP, MEMBER)
        assert (await bot.services.store.chat_settings(GROUP)).options.kind == "classic"
        refusal = [c for c in bot.tg.calls("answerCallbackQuery") if c.params.get("text") == texts.ADMINS_ONLY]
        assert refusal and refusal[0].params.get("show_alert")
        await choose(bot, "/estilo", "choose:kind:fable", GROUP, OWNER)
        assert (await bot.services.store.chat_settings(GROUP)).options.kind == "fable"


async def test_voice_command_with_buttons_and_with_an_argument(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await choose(bot, "/voz", "choose:voice:en")
        assert (await bot.services.store.chat_settings(CHAT)).voice_language == "en"
        bot.tg.text(CHAT, USER, "/voz pt")
        await bot.tg.wait_for(lambda: texts_sent(bot, CHAT)[-1].startswith("🎙️ Pronto"), timeout=5)
        assert (await bot.services.store.chat_settings(CHAT)).voice_language == "pt"


async def test_another_story_reuses_the_caption_never_the_old_text(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)
        story_message = last_message_with(bot, CHAT, "📖")
        again = next(b["callback_data"] for b in buttons(story_message) if b["callback_data"].startswith("again:"))
        downloads = len(bot.tg.calls("getFile"))
        await press(bot, CHAT, USER, story_message, again)
        await wait_voice(bot, CHAT, count=2)
        sent = texts_sent(bot, CHAT)
        assert sum(t.startswith("📷") for t in sent) == 1  # the caption is not sent again...
        assert sum(t.startswith("📖") for t in sent) == 2  # ...a second story is
        assert len(bot.tg.calls("getFile")) == downloads  # and the photo was not fetched again
        assert len(fakes(bot).story_writer.facts_seen) == 2
        assert fakes(bot).story_writer.facts_seen[0] == fakes(bot).story_writer.facts_seen[1]
        assert len(await bot.services.store.recent_stories(CHAT)) == 2


async def test_history_lists_reads_and_replays_without_a_new_synthesis(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.text(CHAT, USER, "/historias")
        await bot.tg.wait_for(lambda: texts.HISTORY_EMPTY in texts_sent(bot, CHAT), timeout=5)
        for voices in (1, 2):
            bot.tg.private_photo(CHAT, USER, jpeg_bytes())
            await wait_voice(bot, CHAT, count=voices)
        bot.tg.text(CHAT, USER, "/historias")
        await bot.tg.wait_for(lambda: texts_sent(bot, CHAT)[-1].startswith("📚"), timeout=5)
        listing = last_message_with(bot, CHAT, "📚")
        assert "1. " in listing["text"] and "2. " in listing["text"] and "Clássica" in listing["text"]
        datas = [b["callback_data"] for b in buttons(listing)]
        assert [d.split(":")[0] for d in datas] == ["read", "play", "read", "play"]
        synthesized = len(fakes(bot).synthesizers["pt"].texts)
        first_voice = bot.tg.calls("sendVoice", CHAT)[-1].result["voice"]["file_id"]
        await press(bot, CHAT, USER, listing, datas[1])  # play the newest story
        await wait_voice(bot, CHAT, count=3)
        replay = bot.tg.calls("sendVoice", CHAT)[-1]
        assert replay.params["voice"] == first_voice and not replay.files  # Telegram's copy, no upload
        assert len(fakes(bot).synthesizers["pt"].texts) == synthesized
        stories = len([t for t in texts_sent(bot, CHAT) if t.startswith("📖")])
        await press(bot, CHAT, USER, listing, datas[0])  # read it again
        await bot.tg.wait_for(lambda: len([t for t in texts_sent(bot, CHAT) if t.startswith("📖")]) > stories)


async def test_privacy_says_what_is_kept_and_forget_erases_every_row(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)
        await choose(bot, "/estilo", "choose:kind:mystery")
        bot.tg.text(CHAT, USER, "/privacidade")
        await bot.tg.wait_for(lambda: texts_sent(bot, CHAT)[-1].startswith("🔒"), timeout=5)
        assert "30 dias" in texts_sent(bot, CHAT)[-1] and "/esquecer" in texts_sent(bot, CHAT)[-1]
        bot.tg.text(CHAT, USER, "/esquecer")
        await bot.tg.wait_for(lambda: texts_sent(bot, CHAT)[-1] == texts.FORGET_CONFIRM, timeout=5)
        await press(bot, CHAT, USER, last_message_with(bot, CHAT, "🗑️"), "forget:yes")
        await bot.tg.wait_for(
            lambda: any(c.params.get("text") == texts.FORGOTTEN for c in bot.tg.calls("editMessageText", CHAT))
        )
        async with bot.services.store.engine.connect() as connection:
            for table in metadata.sorted_tables:
                if "chat_id" in table.c:
                    query = select(func.count()).where(table.c.chat_id == CHAT)
                    assert (await connection.execute(query)).scalar() == 0, table.name


async def test_the_story_message_grows_sentence_by_sentence_then_gets_its_buttons(tmp_path: Path) -> None:
    backends = fake_backends()
    backends.story_writer.streams, backends.story_writer.sentence_delay_s = True, 0.6
    async with running_bot(tmp_path, backends) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await wait_voice(bot, CHAT)
        draft = next(c for c in bot.tg.calls("sendMessage", CHAT) if c.params["text"].startswith("📖"))
        assert draft.params["text"].endswith("✍️") and "reply_markup" not in draft.params  # the first sentence
        edits = [
            c for c in bot.tg.calls("editMessageText", CHAT) if c.params.get("message_id") == draft.result["message_id"]
        ]
        assert len(edits) >= 2  # it grew, then was finished
        assert all(b.time - a.time >= 0.9 for a, b in itertools.pairwise(edits[:-1]))  # ≤ 1 edit a second
        final = edits[-1].params
        assert not final["text"].endswith("✍️") and "The end" in final["text"] and final["reply_markup"]
        assert sum(t.startswith("📖") for t in texts_sent(bot, CHAT)) == 1  # one story message, edited


async def test_a_draft_telegram_fails_to_take_does_not_fail_the_story(tmp_path: Path) -> None:
    """Found by `make chaos`: a 500 on the story's first sentence made the whole story fail (and apologise)."""
    backends = fake_backends()
    backends.story_writer.streams, backends.story_writer.sentence_delay_s = True, 0.6
    async with running_bot(tmp_path, backends) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await bot.tg.wait_for(lambda: any(t.startswith("📷") for t in texts_sent(bot, CHAT)), timeout=10)
        bot.tg.fail_next("sendMessage", status=500)  # the draft's first version
        await wait_voice(bot, CHAT)
        stories = [m["text"] for m in bot.tg.sent_messages(CHAT) if m.get("text", "").startswith("📖")]
        assert len(stories) == 1 and "The end" in stories[0] and not stories[0].endswith("✍️")
        assert texts.PIPELINE_FAILED not in texts_sent(bot, CHAT)
        assert not [t for t in texts_sent(bot, CHAT) if t in texts.STAGE_FAILED.values()]


async def test_a_story_that_fails_half_written_leaves_no_draft(tmp_path: Path) -> None:
    backends = fake_backends()
    backends.story_writer.streams, backends.story_writer.sentence_delay_s = True, 1.0
    async with running_bot(tmp_path, backends, stage_timeout_s=1.5) as bot:
        bot.tg.private_photo(CHAT, USER, jpeg_bytes())
        await bot.tg.wait_for(lambda: texts.STAGE_FAILED["story"] in texts_sent(bot, CHAT), timeout=10)
        draft = next(c for c in bot.tg.calls("sendMessage", CHAT) if c.params["text"].startswith("📖"))
        assert bot.tg.is_deleted(CHAT, draft.result["message_id"])
