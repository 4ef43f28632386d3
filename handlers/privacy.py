"""/privacidade says what the bot keeps about a chat, where and for how long; /esquecer erases it all."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from . import texts
from .choices import may_choose
from .context import Context, callback_query_of, chat_of, get_services, message_of

FORGET_CALLBACK = r"^forget:(yes|no)$"


async def privacy(update: Update, context: Context) -> None:
    """/privacidade — what is stored about this chat, where, and for how long (LGPD)."""
    settings = get_services(context).settings
    where = texts.PRIVACY_WHERE["sqlite" if settings.store_url().startswith("sqlite") else "other"]
    hours = settings.finished_requests_kept_s / 3600
    request_hours = f"{hours:g} hora" + ("s" if hours != 1 else "")
    character = (await get_services(context).store.chat_settings(chat_of(update).id)).options.main_character
    await message_of(update).reply_html(
        texts.PRIVACY.format(
            story_days=f"{settings.stories_kept_days:g}",
            request_hours=request_hours,
            where=where,
            main_character=f"<b>{html.escape(character)}</b>" if character else texts.MAIN_CHARACTER_NONE,
        )
    )


async def forget(update: Update, context: Context) -> None:
    """/esquecer — ask before erasing everything kept about this chat."""
    if not await may_choose(update, context):
        await message_of(update).reply_html(texts.ADMINS_ONLY)
        return
    buttons = [
        [
            InlineKeyboardButton(texts.FORGET_YES, callback_data="forget:yes"),
            InlineKeyboardButton(texts.FORGET_NO, callback_data="forget:no"),
        ]
    ]
    await message_of(update).reply_html(texts.FORGET_CONFIRM, reply_markup=InlineKeyboardMarkup(buttons))


async def forget_button(update: Update, context: Context) -> None:
    """The answer to /esquecer's question: erase the chat's stories, choices and requests, or nothing."""
    query = callback_query_of(update)
    if not await may_choose(update, context):
        await query.answer(texts.ADMINS_ONLY, show_alert=True)
        return
    await query.answer()
    if query.data == "forget:yes":
        await get_services(context).store.forget_chat(chat_of(update).id)
        await query.edit_message_text(texts.FORGOTTEN)
    else:
        await query.edit_message_text(texts.NOT_FORGOTTEN)
