"""One story request, from a photo in a chat to caption, story and voice messages in that chat.

The handlers only decide *what* photo to use; everything after that lives here. A request is written to the
store before anything else happens, and every step is written there as it happens (the caption and story
made, each part sent), so a bot killed at any moment resumes it on start (handlers/recovery.py) without
sending a part twice.

Two phases, so that every user sees what the bot saw within a second even when many send at once:
1. ahead of the queue (a small bound of its own): download the photo, caption it, send the caption;
2. in the fair, bounded work queue: write the story, translate it, read it aloud, send each part.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError

from app.errors import KeyLimitReached, LeaseLost, QueueClosed, QueueFull
from app.failures import EXPLAINED, failure
from app.records import Part, SavedStory, StoryRequest, mark_sent
from app.work_queue import Ticket
from pipeline.errors import FetchError, InvalidImageError
from pipeline.events import (
    CaptionReady,
    Event,
    PipelineInput,
    Stage,
    StageFailed,
    StageStarted,
    StoryReady,
    StorySentence,
    VoiceReady,
)

from . import texts
from .context import Context, Services, chat_of, get_services
from .draft import StoryDraft
from .errors import StoryFailed
from .formatting import caption_text, story_buttons, story_text
from .retries import with_retries
from .status import ChatActions, StatusMessage

log = logging.getLogger(__name__)
T = TypeVar("T")

QUEUE_POLL_S = 2.0


class StoryRun:
    """A stored request on its way: its status message, its two phases, and each part sent once."""

    def __init__(self, bot: Bot, services: Services, request: StoryRequest) -> None:
        self.bot, self.services, self.request = bot, services, request
        self.status = StatusMessage(bot, request.chat_id, request.reply_to)
        self.draft = StoryDraft(self.reply, group=request.reply_to is not None)
        self.described: asyncio.Future[CaptionReady | None] = asyncio.get_running_loop().create_future()
        self.log_extra = {"request_id": request.id, "chat_id": request.chat_id}

    # --- the two phases ---------------------------------------------------------------------------

    async def admit(self) -> Ticket | None:
        """Put the story phase in line; None (after saying why, when there is something to say) if not."""
        keys = [("chat", self.request.chat_id)] + ([("user", self.request.user_id)] if self.request.user_id else [])
        try:
            return await self.services.queue.submit(self.narrate, keys)
        except QueueFull:
            await self.finish_with(texts.BUSY)
        except KeyLimitReached:
            await self.finish_with(texts.USER_LIMIT)
        except QueueClosed:
            log.info("story kept for the next start", extra=self.log_extra)  # the bot is stopping
        return None

    async def follow(self, ticket: Ticket, photo: bytes | None = None, *, resumed: bool = False) -> None:
        """Caption ahead of the queue, then keep the user informed until the story phase is done."""
        try:
            caption = None
            try:
                caption = await self.describe(photo, resumed=resumed)
            finally:  # the story phase waits for this, whatever happened
                self.described.set_result(caption)
                if caption is None:
                    self.services.queue.withdraw(ticket)  # no caption, no story: its place goes to the next one
            if caption is None:
                return
            await self.show_place_in_line(ticket)
            await ticket.result
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not ticket.result.cancelled() or (current is not None and current.cancelling()):
                raise
            log.info("story kept for the next start", extra=self.log_extra)  # dropped from line at shutdown
        except LeaseLost:  # this replica stalled past its lease: another one answers now
            log.warning("request taken over by another replica", extra=self.log_extra)
        except Exception as exc:
            await self.finish()
            raise StoryFailed(self.request.id, self.request.chat_id) from exc

    async def describe(self, photo: bytes | None, *, resumed: bool) -> CaptionReady | None:
        """Phase 1: the caption (made once, sent once); None when the photo could not be used (user told)."""
        try:
            if self.request.caption is None:
                await self.show_status(texts.STATUS[Stage.DECODE.value])
                data = photo if photo is not None else await self.download()
                async with self.services.captions:  # the CPU part has its own small bound, not the download
                    await self.show_status(texts.STATUS[Stage.CAPTION.value])
                    await self.save(caption=await self.services.pipeline.describe(data, self.request.options))
        except EXPLAINED as exc:
            fetch_failed = texts.RESUME_APOLOGY if resumed else texts.DOWNLOAD_FAILED
            limit = self.services.settings.max_image_bytes
            await self.give_up(failure(exc).text(limit, invalid_image=texts.INVALID_IMAGE, fetch_failed=fetch_failed))
            return None
        caption = self.request.caption
        assert caption is not None, "saved above"
        await self.send_part("caption", lambda: self.reply(caption_text(caption)))
        return caption

    async def narrate(self) -> None:
        """Phase 2, in the work queue: the story and its voice, each sent as soon as it exists."""
        caption = await self.described
        if caption is None:
            return
        log.info("story started", extra=self.log_extra)
        async with ChatActions(self.bot, self.request.chat_id) as actions:
            try:
                asked = PipelineInput(
                    caption=caption,
                    story=self.request.story,
                    voice_language=self.request.voice_language,
                    options=self.request.options,
                )
                async for event in self.services.pipeline.stream(asked):
                    await self.deliver(event, actions)
            finally:
                await self.status.remove()
        await self.finish()
        log.info("story finished", extra=self.log_extra)

    async def deliver(self, event: Event, actions: ChatActions) -> None:
        """Send each part as soon as the pipeline produces it (and note it as sent)."""
        match event:
            case StageStarted(Stage.STORY):
                await self.show_status(texts.STATUS[Stage.STORY.value])
            case StorySentence(_, sentence_pt) if not self.request.sent("story"):
                await self.draft.add(sentence_pt)
                if self.draft.message is not None and self.request.story_message_id is None:
                    await self.save(story_message_id=self.draft.message.message_id)
            case StoryReady(_, story_pt):
                if self.request.story is None:
                    await self.save(story=event)
                    await self.services.store.add_story(self.saved_story(event))
                await self.send_part("story", lambda: self.show_story(story_pt))
            case StageStarted(Stage.SPEECH):
                await self.show_status(texts.STATUS[Stage.SPEECH.value])
                await actions.switch(ChatAction.RECORD_VOICE)
            case VoiceReady(voice):
                sent = await self.send_part(
                    "voice",
                    lambda: self.bot.send_voice(
                        self.request.chat_id,
                        voice.ogg,
                        duration=max(1, round(voice.seconds)),
                        caption=texts.VOICE_CAPTION[voice.language],
                        reply_parameters=self.reply_parameters(),
                    ),
                )
                if sent is not None and sent.voice is not None:
                    await self.services.store.set_voice(self.request.id, sent.voice.file_id)
            case StageFailed(Stage.STORY, _):
                await self.draft.discard()  # half a story is no story
                await self.reply(texts.STAGE_FAILED[Stage.STORY.value])
            case StageFailed(stage, _) if stage.value in texts.STAGE_FAILED:
                await self.reply(texts.STAGE_FAILED[stage.value])

    # --- the user's side ----------------------------------------------------------------------------

    async def show_place_in_line(self, ticket: Ticket) -> None:
        """While the story phase waits, keep the status message telling its (shrinking) place in line."""
        while not ticket.result.done():
            position = self.services.queue.position(ticket)
            if position == 0:
                return
            await self.show_status(texts.STATUS_QUEUED.format(position=position))
            await asyncio.wait({ticket.result}, timeout=QUEUE_POLL_S)

    async def show_status(self, text: str) -> None:
        """Show what the bot is doing now; the status message's id is stored, for a restart to clean it up."""
        await self.status.show(text)
        if self.status.message_id != self.request.status_message_id:
            await self.save(status_message_id=self.status.message_id)

    async def download(self) -> bytes:
        """The photo from Telegram, within our size limit; network hiccups are retried."""
        settings = self.services.settings
        file_id = self.request.file_id
        if file_id is None:
            raise InvalidImageError("empty", "no file")

        async def fetch() -> bytes:
            async with asyncio.timeout(settings.download_timeout_s):
                tg_file = await self.bot.get_file(file_id)
                if tg_file.file_size and tg_file.file_size > settings.max_image_bytes:
                    raise InvalidImageError("too_large", f"{tg_file.file_size} bytes")
                return bytes(await tg_file.download_as_bytearray())

        try:
            return await with_retries(fetch)
        except (NetworkError, TimeoutError) as exc:
            raise FetchError(f"telegram download failed: {type(exc).__name__}") from exc

    async def send_part(self, part: Part, send: Callable[[], Awaitable[Message]]) -> Message | None:
        """Send a part unless it was sent before a restart; note it as sent right after.

        The request's lease is renewed just before (LeaseLost if another replica holds it now), so a replica
        that stalled past its lease never sends a part that the one taking over sends too.
        """
        if self.request.sent(part):
            return None
        await self.services.store.hold(self.request.id)
        message = await with_retries(send)
        self.request = mark_sent(self.request, part)
        await self.services.store.save(self.request)
        return message

    async def show_story(self, story_pt: str) -> Message:
        """The whole story with its buttons: the draft message finished, or a new message if there was none."""
        buttons = story_buttons("en", self.request.id)
        try:
            finished = await self.draft.finish(story_pt, buttons)
        except BadRequest:  # the draft was deleted meanwhile
            finished = None
        return finished or await self.reply(story_text("pt", story_pt), buttons)

    async def reply(self, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        """Send a short HTML message for this request (a reply in groups)."""
        return await self.bot.send_message(
            self.request.chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_parameters=self.reply_parameters(),
            reply_markup=markup,
        )

    def reply_parameters(self) -> ReplyParameters | None:
        """Answer as a reply to the user's message in groups; plainly in private chats."""
        return reply_parameters(self.request.reply_to)

    # --- the stored record ----------------------------------------------------------------------------

    def saved_story(self, story: StoryReady) -> SavedStory:
        """The story as /historias keeps it."""
        caption = self.request.caption
        assert caption is not None, "a story is written from its caption"
        r = self.request
        return SavedStory(r.id, r.chat_id, r.options, caption, story, r.voice_language)

    async def save(self, **changes: Any) -> None:
        self.request = replace(self.request, **changes)
        await self.services.store.save(self.request)

    async def give_up(self, text: str) -> None:
        """Tell the user why there will be no story, and close the request."""
        await self.status.remove()
        await self.finish_with(text)

    async def finish_with(self, text: str) -> None:
        await with_retries(lambda: self.reply(text))
        await self.finish()

    async def finish(self) -> None:
        await self.save(state="finished")


def reply_parameters(reply_to: int | None) -> ReplyParameters | None:
    """Reply parameters for a message that answers `reply_to` (groups), if any."""
    return None if reply_to is None else ReplyParameters(reply_to, allow_sending_without_reply=True)


async def new_request(
    context: Context, update: Update, file_id: str | None, caption: CaptionReady | None = None, hint: str = ""
) -> StoryRequest:
    """A request for the photo `file_id` (or a known caption), with the chat's choices and the user's words about
    the photo (`hint`), answering this update."""
    services = get_services(context)
    chat = chat_of(update)
    choices = await services.store.chat_settings(chat.id)
    message = update.effective_message
    return StoryRequest(
        id=secrets.token_hex(6),
        update_id=update.update_id,
        chat_id=chat.id,
        user_id=update.effective_user.id if update.effective_user else None,
        reply_to=None if chat.type == chat.PRIVATE or message is None else message.message_id,
        file_id=file_id,
        voice_language=choices.voice_language or services.settings.voice_language,
        options=replace(choices.options, hint=hint),
        caption=caption,
        parts_sent=frozenset() if caption is None else frozenset({"caption"}),
    )


async def tell_story(context: Context, request: StoryRequest, photo: bytes | None = None) -> None:
    """Store a new request, put it in line (or say why not), caption it first, then tell the rest."""
    services = get_services(context)
    if not await services.store.accept(request):
        log.info("update already has its request", extra={"update_id": request.update_id})
        return
    run = StoryRun(context.bot, services, request)
    ticket = await run.admit()
    if ticket is not None:
        await run.follow(ticket, photo)
