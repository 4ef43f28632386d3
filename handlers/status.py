"""Showing progress in a chat: one status message edited per stage, and chat actions while working.

Telegram rejects edits that change nothing ("message is not modified") and edits of deleted messages, and
any call can meet a 5xx or a dropped connection; none of that may break a story, so all are absorbed here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot, Message, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from .retries import with_retries

log = logging.getLogger(__name__)
ACTION_REFRESH_S = 4.5  # Telegram shows a chat action for about 5 seconds


class StatusMessage:
    """A single message that says what the bot is doing now; created on first `show`, edited after."""

    def __init__(self, bot: Bot, chat_id: int, reply_to: int | None = None) -> None:
        self.bot, self.chat_id, self.reply_to = bot, chat_id, reply_to
        self._message: Message | None = None
        self._text = ""
        self._lock = asyncio.Lock()

    @property
    def message_id(self) -> int | None:
        """The status message's id, once sent."""
        return None if self._message is None else self._message.message_id

    async def show(self, text: str) -> None:
        """Show `text` in the status message (sent the first time, edited after; unchanged text is skipped)."""
        async with self._lock:
            if text == self._text:
                return
            try:
                if self._message is None:
                    reply = ReplyParameters(self.reply_to, allow_sending_without_reply=True) if self.reply_to else None
                    self._message = await self.bot.send_message(self.chat_id, text, reply_parameters=reply)
                else:
                    await self._message.edit_text(text)
                self._text = text
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    log.info("status message not updated", extra={"error": str(exc)})
            except TelegramError as exc:  # a status is only a courtesy: the next one may get through
                log.info("status message not updated", extra={"error": str(exc)})

    async def remove(self) -> None:
        """Delete the status message, if one was sent."""
        async with self._lock:
            if self._message is not None:
                message = self._message
                with contextlib.suppress(TelegramError):
                    await with_retries(message.delete)
                self._message, self._text = None, ""


class ChatActions:
    """While inside `async with`, keep showing `typing…` / `recording voice…` in the chat."""

    def __init__(self, bot: Bot, chat_id: int, action: str = ChatAction.TYPING) -> None:
        self.bot, self.chat_id, self.action = bot, chat_id, action
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ChatActions:
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def switch(self, action: str) -> None:
        """Show another action now (e.g. from typing to recording a voice)."""
        if action != self.action:
            self.action = action
            with contextlib.suppress(TelegramError):
                await self.bot.send_chat_action(self.chat_id, action)

    async def _loop(self) -> None:
        """Repeat the chat action every few seconds until stopped (Telegram shows one for 5 s)."""
        while True:
            with contextlib.suppress(TelegramError):
                await self.bot.send_chat_action(self.chat_id, self.action)
            await asyncio.sleep(ACTION_REFRESH_S)
