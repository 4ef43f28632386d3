"""What the store keeps, as plain values: a story request on its way, a story told, a chat's settings.

The store (`app/store.py`) turns them into rows and back; nothing here touches a database.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Literal

from pipeline.config import Language
from pipeline.events import CaptionReady, StoryOptions, StoryReady

Part = Literal["caption", "story", "voice"]
State = Literal["open", "finished"]


@dataclass(frozen=True)
class StoryRequest:
    """One accepted story request: where to answer, the photo, the options, and how far the answer got."""

    id: str
    chat_id: int
    user_id: int | None
    reply_to: int | None
    voice_language: Language
    options: StoryOptions = field(default_factory=StoryOptions)
    file_id: str | None = None  # the photo on Telegram's side; None when the caption is known ("outra história")
    update_id: int | None = None
    status_message_id: int | None = None
    story_message_id: int | None = None  # the story's message while it is being written
    state: State = "open"
    parts_sent: frozenset[Part] = frozenset()
    caption: CaptionReady | None = None
    story: StoryReady | None = None
    created_at: float = field(default_factory=time.time)

    def sent(self, part: Part) -> bool:
        return part in self.parts_sent


def mark_sent(request: StoryRequest, part: Part) -> StoryRequest:
    """The request with one more part sent."""
    return replace(request, parts_sent=request.parts_sent | {part})


@dataclass(frozen=True)
class SavedStory:
    """A story told in a chat, kept for /historias: its texts, what it was about, and its voice on Telegram."""

    id: str
    chat_id: int
    options: StoryOptions
    caption: CaptionReady
    story: StoryReady
    voice_language: Language
    voice_file_id: str | None = None
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ChatSettings:
    """A chat's choices; None means the bot's default."""

    chat_id: int
    voice_language: Language | None = None
    options: StoryOptions = field(default_factory=StoryOptions)


def caption_json(caption: CaptionReady | None) -> str | None:
    return None if caption is None else json.dumps(caption.to_dict())


def caption_of(text: str | None) -> CaptionReady | None:
    return None if text is None else CaptionReady.from_dict(json.loads(text))


def story_json(story: StoryReady | None) -> str | None:
    return None if story is None else json.dumps(story.to_dict())


def story_of(text: str | None) -> StoryReady | None:
    return None if text is None else StoryReady.from_dict(json.loads(text))
