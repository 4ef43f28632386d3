"""The stories told in a chat: /historias lists the last ones, and the buttons under a story or in the list
show it in the other language, read it again, play its voice again (Telegram's copy: no new synthesis), or
ask for another story of the same photo (its caption, never the old text, through the same queue).
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from app.records import SavedStory

from . import texts
from .context import Context, callback_query_of, chat_of, get_services, message_of
from .formatting import story_buttons, story_text
from .story import new_request, reply_parameters, tell_story

HISTORY_SIZE = 10
BEGINNING_WORDS = 8
STORY_CALLBACK = r"^(story:(pt|en)|read|play|again):\w+$"


async def history(update: Update, context: Context) -> None:
    """/historias — the chat's last stories: date, kind and first words, with buttons to read and to listen."""
    stories = await get_services(context).store.recent_stories(chat_of(update).id, HISTORY_SIZE)
    if not stories:
        await message_of(update).reply_html(texts.HISTORY_EMPTY)
        return
    lines = [history_line(number, story) for number, story in enumerate(stories, start=1)]
    buttons = [
        [
            InlineKeyboardButton(texts.HISTORY_READ.format(number=number), callback_data=f"read:{story.id}"),
            InlineKeyboardButton(texts.HISTORY_PLAY.format(number=number), callback_data=f"play:{story.id}"),
        ]
        for number, story in enumerate(stories, start=1)
    ]
    await message_of(update).reply_html(
        texts.HISTORY_TITLE + "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons)
    )


def history_line(number: int, story: SavedStory) -> str:
    """One line of the list: "3. 28/11 14:05 · Poema — <i>Era uma vez…</i>"."""
    when = datetime.fromtimestamp(story.created_at, ZoneInfo(texts.TIMEZONE)).strftime("%d/%m %H:%M")
    words = story.story.story_pt.split()
    beginning = " ".join(words[:BEGINNING_WORDS]) + ("…" if len(words) > BEGINNING_WORDS else "")
    kind = texts.KIND_NAMES[story.options.kind]
    return texts.HISTORY_LINE.format(number=number, date=when, kind=kind, beginning=html.escape(beginning))


async def story_button(update: Update, context: Context) -> None:
    """A button of a story (callback data '<action>:<story id>'): other language, read, play, or another one."""
    query = callback_query_of(update)
    action, story_id = (query.data or ":").rsplit(":", 1)
    story = await get_services(context).store.story(chat_of(update).id, story_id)
    if story is None:
        await query.answer(texts.STORY_EXPIRED)
        return
    match action:
        case "story:pt" | "story:en":
            await query.answer()
            await show_language(update, story, action.removeprefix("story:"))
        case "read":
            await query.answer()
            await message_of(update).reply_html(
                story_text("pt", story.story.story_pt), reply_markup=story_buttons("en", story.id)
            )
        case "play":
            await play(update, context, story)
        case "again":
            await query.answer(texts.ANOTHER_COMING)
            await tell_story(context, await new_request(context, update, None, caption=story.caption))


async def show_language(update: Update, story: SavedStory, show: str) -> None:
    """Switch the story message between Portuguese and English."""
    text = story.story.story_en if show == "en" else story.story.story_pt
    try:
        await callback_query_of(update).edit_message_text(
            story_text(show, text),
            parse_mode=ParseMode.HTML,
            reply_markup=story_buttons("pt" if show == "en" else "en", story.id),
        )
    except BadRequest as exc:  # double tap: the text is already the requested one
        if "not modified" not in str(exc).lower():
            raise


async def play(update: Update, context: Context, story: SavedStory) -> None:
    """Send the story's voice again, from Telegram's own copy."""
    query = callback_query_of(update)
    if story.voice_file_id is None:
        await query.answer(texts.NO_VOICE_KEPT)
        return
    await query.answer()
    chat = chat_of(update)
    reply_to = None if chat.type == chat.PRIVATE else message_of(update).message_id
    await context.bot.send_voice(
        chat.id,
        story.voice_file_id,
        caption=texts.VOICE_CAPTION[story.voice_language],
        reply_parameters=reply_parameters(reply_to),
    )
