"""The typed context every handler gets, after python-telegram-bot's `contexttypesbot.py` example: the
services the bot built at start-up. What the bot keeps about a chat lives in the store (app/store.py), not in
PTB's per-chat dictionaries.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import CallbackQuery, Chat, Message, Update
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from app.services import Services as AppServices
from app.store import Store

from .config import BotSettings

if TYPE_CHECKING:
    from app.metrics import Monitor

T = TypeVar("T")


@dataclass
class Services(AppServices):
    """What the handlers need, built once at start-up: the app's services (app/services.py) and the bot's own."""

    settings: BotSettings
    store: Store  # every accepted request until its answer is out
    captions: asyncio.Semaphore  # the caption phase, ahead of the queue: at most `running_captions` at once


class BotData:
    """The application's own objects, set at start-up (never persisted)."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.monitor: Monitor | None = None


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(context=CallbackContext, bot_data=BotData)


def required(value: T | None, what: str) -> T:
    """`value`, which the handler's filters guarantee; a None here is a bug in the filters, said plainly."""
    if value is None:
        raise RuntimeError(f"no {what} in this update or context")
    return value


def get_services(context: Context) -> Services:
    """The services, once the bot has started (handlers only run after that)."""
    return required(context.bot_data.services, "services (the bot has not started)")


def message_of(update: Update) -> Message:
    """The update's message (the message and command handlers only see updates that have one)."""
    return required(update.effective_message, "message")


def chat_of(update: Update) -> Chat:
    """The update's chat (the message and command handlers only see updates that have one)."""
    return required(update.effective_chat, "chat")


def callback_query_of(update: Update) -> CallbackQuery:
    """The update's button press (the callback query handler only sees updates that have one)."""
    return required(update.callback_query, "callback query")
