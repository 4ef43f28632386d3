"""The typed context every handler gets, after python-telegram-bot's `contexttypesbot.py` example: what the bot
keeps per chat (persisted), and what it built at start-up (not persisted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, Chat, Message, Update
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from app.media_server import MediaServer
from app.photos import PhotoSource
from app.work_queue import WorkQueue
from pipeline.config import Language
from pipeline.events import StoryPipeline

from .config import BotSettings

if TYPE_CHECKING:
    from app.metrics import Monitor


@dataclass
class ChatData:
    """Per chat, kept across restarts by the persistence."""

    voice: Language | None = None  # /voz: this chat's narration language; None = the default setting
    stories: dict[str, dict[str, str]] = field(default_factory=dict)  # recent stories, for the language button


@dataclass
class Services:
    """What the handlers need, built once at start-up."""

    settings: BotSettings
    pipeline: StoryPipeline
    photos: PhotoSource
    media: MediaServer
    queue: WorkQueue


class BotData:
    """The application's own objects, set at start-up (never persisted)."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.monitor: Monitor | None = None


Context = CallbackContext[ExtBot[None], dict[Any, Any], ChatData, BotData]
CONTEXT_TYPES = ContextTypes(context=CallbackContext, chat_data=ChatData, bot_data=BotData)


def get_services(context: Context) -> Services:
    """The services, once the bot has started (handlers only run after that)."""
    services = context.bot_data.services
    if services is None:
        raise RuntimeError("the bot has not started: no services yet")
    return services


def chat_data(context: Context) -> ChatData:
    """This chat's data (every handler here answers an update from a chat, so there is one)."""
    data = context.chat_data
    if data is None:
        raise RuntimeError("an update without a chat: no chat data")
    return data


def message_of(update: Update) -> Message:
    """The update's message (the message and command handlers only see updates that have one)."""
    message = update.effective_message
    if message is None:
        raise RuntimeError("an update without a message")
    return message


def chat_of(update: Update) -> Chat:
    """The update's chat (the message and command handlers only see updates that have one)."""
    chat = update.effective_chat
    if chat is None:
        raise RuntimeError("an update without a chat")
    return chat


def callback_query_of(update: Update) -> CallbackQuery:
    """The update's button press (the callback query handler only sees updates that have one)."""
    query = update.callback_query
    if query is None:
        raise RuntimeError("an update without a callback query")
    return query
