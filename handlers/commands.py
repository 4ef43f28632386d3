"""Command handlers: /start, /ajuda, /sobre and /aleatorio."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.constants import ParseMode

from app.photos import Credit, license_label, load_gallery

from . import texts
from .context import Context, chat_of, get_services, message_of
from .retries import with_retries
from .story import new_request, reply_parameters, tell_story

log = logging.getLogger(__name__)


async def start(update: Update, context: Context) -> None:
    """/start — greet the user and say what the bot does."""
    user = update.effective_user
    name = html.escape(user.first_name) if user else "tudo bem"
    await message_of(update).reply_html(texts.WELCOME.format(name=name))


async def help_command(update: Update, context: Context) -> None:
    """/ajuda (and /help) — how to use the bot, in private chats and groups."""
    await message_of(update).reply_html(texts.HELP)


async def about(update: Update, context: Context) -> None:
    """/sobre — where the models, voices and photos come from, and their licences."""
    gallery = load_gallery()
    licenses = ", ".join(sorted({license_label(entry.license) for entry in gallery}))
    await message_of(update).reply_html(
        texts.ABOUT.format(photo_count=len(gallery), licenses=html.escape(licenses)),
        disable_web_page_preview=True,
    )


async def random_photo(update: Update, context: Context) -> None:
    """/aleatorio — send a landscape with its credit, then tell its story like any other photo."""
    services = get_services(context)
    chat = chat_of(update)
    message = message_of(update)
    photo = await services.photos.random_photo(str(chat.id))
    content = photo.data if photo.data is not None else photo.url
    if content is None:
        raise RuntimeError(f"photo {photo.ident!r} has neither bytes nor a URL")
    sent = await with_retries(
        lambda: context.bot.send_photo(
            chat.id,
            content,
            caption=texts.RANDOM_PHOTO_CAPTION.format(credit=credit_html(photo.credit)),
            parse_mode=ParseMode.HTML,
            reply_parameters=reply_parameters(None if chat.type == chat.PRIVATE else message.message_id),
        )
    )
    await services.photos.mark_shown(photo)
    # The photo now lives on Telegram too: after a restart, the story is resumed from there.
    file_id = max(sent.photo, key=lambda size: size.width * size.height).file_id if sent.photo else None
    await tell_story(context, await new_request(context, update, file_id), photo.data)


def credit_html(credit: Credit) -> str:
    """The photo's credit line, its author, licence and source as links."""

    def link(text: str, url: str | None) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(text)}</a>' if url else html.escape(text)

    return credit.line_pt(link)
