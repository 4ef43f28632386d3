"""Photo intake: which messages become stories, and a friendly word for everything else.

Private chats: any photo or image document. Groups (privacy mode on by default): a photo captioned
/historia, or /historia as a reply to a photo. Other input gets a short explanation in private chats
and silence in groups, where the bot must not talk over people.

The words that come with the photo are the story's facts (who is in it, where): a private photo's caption, or
what follows /historia ("/historia vovô Antônio no sítio"), as a caption or as a reply.
"""

from __future__ import annotations

import re

from telegram import Message, Update

from app.failures import invalid_image_text
from pipeline.names import words_problem

from . import texts
from .choices import words_problem_text
from .context import Context, get_services, message_of
from .story import new_request, tell_story

HISTORIA = re.compile(r"^/historia(@\w+)?\b", re.IGNORECASE)  # the command before a photo's words
ACCEPTED_DOCUMENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def photo_file_id(message: Message, max_bytes: int) -> str | None:
    """The best photo in a message: the largest PhotoSize within our limit, or an image document."""
    if message.photo:
        fitting = [size for size in message.photo if (size.file_size or 0) <= max_bytes]
        best = max(fitting or message.photo[:1], key=lambda size: size.width * size.height)
        return best.file_id
    if message.document and message.document.mime_type in ACCEPTED_DOCUMENT_TYPES:
        return message.document.file_id
    return None


def is_private(update: Update) -> bool:
    """True for a one-to-one chat with the bot."""
    return update.effective_chat is not None and update.effective_chat.type == "private"


async def story_from_message(update: Update, context: Context, source: Message, hint: str = "") -> None:
    """Tell the story of the photo in `source` (the message itself, or the one replied to), with the user's words."""
    settings = get_services(context).settings
    message = message_of(update)
    if problem := words_problem(hint):
        await message.reply_html(words_problem_text(problem))
        return
    document = source.document
    if document and document.file_size and document.file_size > settings.max_image_bytes:
        await message.reply_html(invalid_image_text("too_large", settings.max_image_bytes, texts.INVALID_IMAGE))
        return
    if document and document.mime_type not in ACCEPTED_DOCUMENT_TYPES:
        await message.reply_html(texts.INVALID_IMAGE["unsupported_format"])
        return
    file_id = photo_file_id(source, settings.max_image_bytes)
    if file_id is None:
        await message.reply_html(texts.HISTORIA_NOT_A_PHOTO)
        return
    await tell_story(context, await new_request(context, update, file_id, hint=hint))


async def photo(update: Update, context: Context) -> None:
    """A photo or image document in a private chat, or captioned /historia anywhere; its caption's words with it."""
    message = message_of(update)
    await story_from_message(update, context, message, HISTORIA.sub("", message.caption or "", count=1).strip())


async def historia(update: Update, context: Context) -> None:
    """/historia as a reply to a photo (groups), or a hint on how to use it."""
    message = message_of(update)
    target = message.reply_to_message
    if target is None:
        usage = texts.HISTORIA_USAGE_PRIVATE if is_private(update) else texts.HISTORIA_USAGE_GROUP
        await message.reply_html(usage)
        return
    if not (target.photo or target.document):
        await message.reply_html(texts.HISTORIA_NOT_A_PHOTO)
        return
    await story_from_message(update, context, target, " ".join(context.args or []))


async def sticker(update: Update, context: Context) -> None:
    """A sticker in a private chat: explain that a photo is needed."""
    await message_of(update).reply_html(texts.STICKER)


async def animation(update: Update, context: Context) -> None:
    """A GIF or a video in a private chat: explain that a still photo is needed."""
    await message_of(update).reply_html(texts.ANIMATION)


async def unsupported_document(update: Update, context: Context) -> None:
    """A document that is not a usable image: say which kind of file works."""
    message = message_of(update)
    document = message.document
    if document and (document.mime_type or "").startswith("image/"):
        await message.reply_html(texts.INVALID_IMAGE["unsupported_format"])
    else:
        await message.reply_html(texts.INVALID_IMAGE["not_image"])


async def anything_else(update: Update, context: Context) -> None:
    """Any other message in a private chat: point to the photo and the commands."""
    await message_of(update).reply_html(texts.UNSUPPORTED_MESSAGE)
