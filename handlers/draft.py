"""The story message while the story is being written: sent with its first sentence, edited as sentences come
(at most one edit a second in a private chat, one every three seconds in a group, within Telegram's limits;
429s wait their retry_after in the rate limiter), and finished with the whole text and its buttons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from .formatting import story_text

log = logging.getLogger(__name__)

EDIT_INTERVAL_S = {"private": 1.0, "group": 3.0}
WRITING_MARK = " ✍️"


class StoryDraft:
    """One story message, growing sentence by sentence; `send` sends its first version (a reply in groups)."""

    def __init__(self, send: Callable[[str], Awaitable[Message]], *, group: bool) -> None:
        self.send = send
        self.interval_s = EDIT_INTERVAL_S["group" if group else "private"]
        self.message: Message | None = None
        self.sentences: list[str] = []
        self._shown = ""
        self._last_edit = 0.0
        self._flush: asyncio.Task[None] | None = None

    def text(self) -> str:
        return story_text("pt", " ".join(self.sentences)) + WRITING_MARK

    async def add(self, sentence: str) -> None:
        """One more sentence: shown now, or with the next edit the interval allows."""
        self.sentences.append(sentence)
        if self.message is None:
            try:
                self.message = await self.send(self.text())
            except TelegramError as exc:  # shown with the next sentence, or whole at the end: the story goes on
                log.info("story draft not sent", extra={"error": str(exc)})
                return
            self._shown, self._last_edit = self.text(), time.monotonic()
        elif self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._edit_when_allowed())

    async def finish(self, story_pt: str, buttons: InlineKeyboardMarkup) -> Message | None:
        """The whole story and its buttons in the message; None when no sentence was ever shown."""
        await self._stop_flushing()
        if self.message is None:
            return None
        await self.message.edit_text(story_text("pt", story_pt), parse_mode=ParseMode.HTML, reply_markup=buttons)
        return self.message

    async def discard(self) -> None:
        """The story failed: delete what was shown of it."""
        await self._stop_flushing()
        if self.message is not None:
            with contextlib.suppress(TelegramError):
                await self.message.delete()
            self.message = None

    async def _stop_flushing(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush

    async def _edit_when_allowed(self) -> None:
        await asyncio.sleep(max(0.0, self._last_edit + self.interval_s - time.monotonic()))
        text = self.text()
        if self.message is None or text == self._shown:
            return
        try:
            await self.message.edit_text(text, parse_mode=ParseMode.HTML)
            self._shown, self._last_edit = text, time.monotonic()
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.info("story draft not updated", extra={"error": str(exc)})
        except TelegramError as exc:  # the final edit still comes; a skipped draft edit loses nothing
            log.info("story draft not updated", extra={"error": str(exc)})
