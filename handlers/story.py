"""One story request, from a photo in a chat to caption, story and voice messages in that chat.

The handlers only decide *what* photo to use; everything after that lives here: the queue, the status
message, the download, the media server URL, the pipeline events, and the replies — each part sent the
moment it exists. Every request has its own id (in logs and in the error message a user sees) and its own
media item, which is revoked when the request ends, whatever happened.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import NetworkError, TimedOut

from app.errors import KeyLimitReached, QueueClosed, QueueFull
from app.work_queue import Ticket
from pipeline.config import Language
from pipeline.errors import FetchError, InvalidImageError, StageError
from pipeline.events import CaptionReady, Event, Stage, StageFailed, StageStarted, StoryReady, VoiceReady

from . import texts
from .context import Context, Services, chat_data, get_services
from .errors import StoryFailed
from .status import ChatActions, StatusMessage

log = logging.getLogger(__name__)

MAX_STORED_STORIES = 30  # per chat, for the "read in English" button
DOWNLOAD_ATTEMPTS = 3
QUEUE_POLL_S = 2.0
CAPTION_LIMIT = 1500  # per language: two of them and the markup stay under Telegram's 4096


@dataclass(frozen=True)
class StoryRequest:
    """What to narrate and where: a Telegram file id, or bytes we already have (/aleatorio)."""

    chat_id: int
    user_id: int | None
    reply_to: int | None
    file_id: str | None = None
    data: bytes | None = None
    request_id: str = field(default_factory=lambda: secrets.token_hex(4))


def voice_language(context: Context) -> Language:
    """This chat's narration language (/voz), or the default one."""
    return chat_data(context).voice or get_services(context).settings.voice_language


async def submit_story(context: Context, request: StoryRequest) -> None:
    """Put the request in line (or explain why not), keep the user informed, and wait for it."""
    services = get_services(context)
    status = StatusMessage(context.bot, request.chat_id, request.reply_to)
    keys = [("chat", request.chat_id)] + ([("user", request.user_id)] if request.user_id else [])
    try:
        ticket = await services.queue.submit(lambda: tell_story(context, request, status), keys)
    except QueueFull:
        await reply(context, request, texts.BUSY)
        return
    except KeyLimitReached:
        await reply(context, request, texts.USER_LIMIT)
        return
    except QueueClosed:
        await reply(context, request, texts.SHUTTING_DOWN)
        return
    log.info("story queued", extra={"request_id": request.request_id, "position": ticket.position})
    try:
        await show_place_in_line(services, ticket, status)
        await ticket.result
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if not ticket.result.cancelled() or (current is not None and current.cancelling()):
            raise
        await status.remove()  # the queue dropped the job at shutdown: say so, never leave silence
        await reply(context, request, texts.SHUTTING_DOWN)
    except Exception as exc:
        raise StoryFailed(request.request_id) from exc


async def show_place_in_line(services: Services, ticket: Ticket, status: StatusMessage) -> None:
    """While the job waits, keep the status message telling its (shrinking) place in line."""
    while not ticket.result.done():
        position = services.queue.position(ticket)
        if position == 0:
            return
        await status.show(texts.STATUS_QUEUED.format(position=position))
        await asyncio.wait({ticket.result}, timeout=QUEUE_POLL_S)


async def tell_story(context: Context, request: StoryRequest, status: StatusMessage) -> None:
    """Run one request: download the photo, stream the pipeline, deliver each part as it comes."""
    services = get_services(context)
    log_extra = {"request_id": request.request_id, "chat_id": request.chat_id}
    log.info("story started", extra=log_extra)
    async with ChatActions(context.bot, request.chat_id) as actions:
        try:
            await status.show(texts.STATUS_DOWNLOADING)
            data = request.data if request.data is not None else await download(context, request.file_id)
            await status.show(texts.STATUS_LOOKING)
            async for event in services.pipeline.stream(data, voice_language=voice_language(context)):
                await deliver(context, request, event, status, actions)
        except InvalidImageError as exc:
            await reply(context, request, invalid_image_text(exc.reason, services.settings.max_image_bytes))
        except FetchError:
            await reply(context, request, texts.DOWNLOAD_FAILED)
        except StageError:
            await reply(context, request, texts.PIPELINE_FAILED)
        finally:
            await status.remove()
    log.info("story finished", extra=log_extra)


async def deliver(
    context: Context,
    request: StoryRequest,
    event: Event,
    status: StatusMessage,
    actions: ChatActions,
) -> None:
    """Send each part as soon as the pipeline produces it."""
    match event:
        case CaptionReady(caption_en, caption_pt):
            # Each caption fits well within one message, even from a chatty vision model (OPENAI backend).
            text = texts.CAPTION.format(
                caption_pt=escaped_within("", caption_pt, CAPTION_LIMIT),
                caption_en=escaped_within("", caption_en, CAPTION_LIMIT),
            )
            await reply(context, request, text)
        case StageStarted(Stage.STORY):
            await status.show(texts.STATUS_WRITING)
        case StoryReady(story_en, story_pt):
            key = remember_story(context, story_pt, story_en)
            await reply(context, request, story_text("pt", story_pt), markup=story_button("en", key))
        case StageStarted(Stage.SPEECH):
            await status.show(texts.STATUS_RECORDING)
            await actions.switch(ChatAction.RECORD_VOICE)
        case VoiceReady(voice):
            await context.bot.send_voice(
                request.chat_id,
                voice.ogg,
                duration=max(1, round(voice.seconds)),
                caption=texts.VOICE_CAPTION[voice.language],
                reply_parameters=reply_parameters(request),
            )
        case StageFailed(stage, _) if stage.value in texts.STAGE_FAILED:
            await reply(context, request, texts.STAGE_FAILED[stage.value])


async def download(context: Context, file_id: str | None) -> bytes:
    """Fetch a Telegram file within our size limit, retrying network hiccups with backoff."""
    if file_id is None:
        raise InvalidImageError("empty", "no file")
    settings = get_services(context).settings
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            async with asyncio.timeout(settings.download_timeout_s):
                tg_file = await context.bot.get_file(file_id)
                if tg_file.file_size and tg_file.file_size > settings.max_image_bytes:
                    raise InvalidImageError("too_large", f"{tg_file.file_size} bytes")
                return bytes(await tg_file.download_as_bytearray())
        except (NetworkError, TimeoutError) as exc:
            if attempt == DOWNLOAD_ATTEMPTS or (isinstance(exc, NetworkError) and not is_transient(exc)):
                raise FetchError(f"telegram download failed: {type(exc).__name__}") from exc
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


def is_transient(exc: NetworkError) -> bool:
    """Timeouts and dropped connections are worth retrying; 'file is too big' and the like are not."""
    return isinstance(exc, TimedOut) or type(exc) is NetworkError


def invalid_image_text(reason: str, max_bytes: int) -> str:
    """The Portuguese explanation of why a file is not a usable photo."""
    max_mb = f"{max_bytes / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")  # "20", "0,2"
    return texts.INVALID_IMAGE.get(reason, texts.NOT_AN_IMAGE_DOCUMENT).format(max_mb=max_mb)


def reply_parameters(request: StoryRequest) -> ReplyParameters | None:
    """Answer as a reply to the user's message in groups; plainly in private chats."""
    if request.reply_to is None:
        return None
    return ReplyParameters(request.reply_to, allow_sending_without_reply=True)


async def reply(
    context: Context,
    request: StoryRequest,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send a short HTML message for this request (a reply in groups)."""
    await context.bot.send_message(
        request.chat_id,
        text,
        parse_mode=ParseMode.HTML,
        reply_parameters=reply_parameters(request),
        reply_markup=markup,
    )


MESSAGE_LIMIT = 4096  # Telegram's limit for a message's text; 1024 for a media caption


def story_text(language: str, story: str) -> str:
    """The story message: its title line and the escaped story, within Telegram's limit."""
    title = texts.STORY_TITLE_PT if language == "pt" else texts.STORY_TITLE_EN
    return escaped_within(title, story, MESSAGE_LIMIT)


_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s)")


def _utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def escaped_within(html_prefix: str, plain: str, limit: int) -> str:
    """`html_prefix` + the HTML-escaped `plain`, shortened so the whole fits `limit` (UTF-16 units).

    The plain text is cut *before* escaping, so no entity (&amp;) is ever split: at the last sentence end
    if that keeps at least three quarters of what fits, else after the last whole word (same proviso),
    else where the room ends; a shortened text ends in "…".
    """
    escaped = html.escape(plain)
    if _utf16_len(html_prefix) + _utf16_len(escaped) <= limit:
        return html_prefix + escaped
    room = limit - _utf16_len(html_prefix) - 2  # 2: " …"
    fits = 0
    for ch in plain:
        room -= _utf16_len(html.escape(ch))
        if room < 0:
            break
        fits += 1
    keep = fits * 3 // 4
    sentence_end = max((m.end() for m in _SENTENCE_END.finditer(plain, 0, fits + 1)), default=0)
    if sentence_end >= keep:
        return html_prefix + html.escape(plain[:sentence_end]) + " …"
    head = plain[:fits]
    if not plain[fits].isspace():  # the room ends inside a word: drop that word
        space = max(head.rfind(" "), head.rfind("\n"))
        head = head[:space] if space >= keep else head
    return html_prefix + html.escape(head.rstrip()) + "…"


def story_button(show: str, key: str) -> InlineKeyboardMarkup:
    """The button that shows the other language of a story."""
    label = texts.BUTTON_SHOW_EN if show == "en" else texts.BUTTON_SHOW_PT
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"story:{show}:{key}")]])


def remember_story(context: Context, story_pt: str, story_en: str) -> str:
    """Keep the last stories of a chat so the language button can switch between them."""
    stories = chat_data(context).stories
    key = secrets.token_hex(4)
    stories[key] = {"pt": story_pt, "en": story_en}
    while len(stories) > MAX_STORED_STORIES:
        stories.pop(next(iter(stories)))
    return key
