"""What the handlers need, built once at start-up and reached through `context.bot_data`."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes

from app.media_server import MediaServer
from app.photos import PhotoSource
from app.work_queue import WorkQueue
from pipeline.events import StoryPipeline

from .config import BotSettings

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: BotSettings
    pipeline: StoryPipeline
    photos: PhotoSource
    media: MediaServer
    queue: WorkQueue


def get_services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data[SERVICES_KEY]
