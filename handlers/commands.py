"""Command handlers: /start, /ajuda, /sobre, /voz, /aleatorio, and the story language button."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from app.photos import Credit, license_label, load_gallery

from . import texts
from .context import Context, get_services
from .story import StoryRequest, reply_parameters, story_button, story_text, submit_story, voice_language

log = logging.getLogger(__name__)


async def start(update: Update, context: Context) -> None:
    """/start — greet the user and say what the bot does."""
    user = update.effective_user
    name = html.escape(user.first_name) if user else "tudo bem"
    await update.effective_message.reply_html(texts.WELCOME.format(name=name))


async def help_command(update: Update, context: Context) -> None:
    """/ajuda (and /help) — how to use the bot, in private chats and groups."""
    await update.effective_message.reply_html(texts.HELP)


async def about(update: Update, context: Context) -> None:
    """/sobre — where the models, voices and photos come from, and their licences."""
    gallery = load_gallery()
    licenses = ", ".join(sorted({license_label(entry.license) for entry in gallery}))
    await update.effective_message.reply_html(
        texts.ABOUT.format(photo_count=len(gallery), licenses=html.escape(licenses)),
        disable_web_page_preview=True,
    )


async def voice(update: Update, context: Context) -> None:
    """/voz pt|en — the narration language of this chat, kept across restarts by persistence."""
    choice = (context.args[0].lower() if context.args else "")[:2]
    if choice not in texts.LANGUAGE_NAMES:
        current = texts.LANGUAGE_NAMES[voice_language(context)]
        await update.effective_message.reply_html(texts.VOICE_USAGE.format(current=current))
        return
    context.chat_data.voice = choice
    await update.effective_message.reply_html(texts.VOICE_SET.format(language=texts.LANGUAGE_NAMES[choice]))


async def random_photo(update: Update, context: Context) -> None:
    """/aleatorio — send a landscape with its credit, then tell its story like any other photo."""
    services = get_services(context)
    chat = update.effective_chat
    message = update.effective_message
    photo = await services.photos.random_photo(str(chat.id))
    request = StoryRequest(
        chat_id=chat.id,
        user_id=update.effective_user.id if update.effective_user else None,
        reply_to=message.message_id if chat.type != chat.PRIVATE else None,
        data=photo.data,
    )
    await context.bot.send_photo(
        chat.id,
        photo.data if photo.data is not None else photo.url,
        caption=texts.RANDOM_PHOTO_CAPTION.format(credit=credit_html(photo.credit)),
        parse_mode=ParseMode.HTML,
        reply_parameters=reply_parameters(request),
    )
    await services.photos.mark_shown(photo)
    await submit_story(context, request)


def credit_html(credit: Credit) -> str:
    """The photo's credit line, its author, licence and source as links."""

    def link(text: str, url: str | None) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(text)}</a>' if url else html.escape(text)

    return credit.line_pt(link)


async def story_language_button(update: Update, context: Context) -> None:
    """Switch a story message between Portuguese and English (callback data 'story:<lang>:<key>')."""
    query = update.callback_query
    _, show, key = (query.data or "::").split(":", 2)
    stories = context.chat_data.stories
    story = stories.get(key)
    if story is None or show not in story:
        await query.answer(texts.STORY_EXPIRED, show_alert=False)
        return
    await query.answer()
    other = "pt" if show == "en" else "en"
    try:
        await query.edit_message_text(
            story_text(show, story[show]), parse_mode=ParseMode.HTML, reply_markup=story_button(other, key)
        )
    except BadRequest as exc:  # double tap: the text is already the requested one
        if "not modified" not in str(exc).lower():
            raise
