"""Chat choices from before the store: python-telegram-bot's pickle file (DATA_DIR/bot_state.pickle), whose
per-chat data held the /voz language. Imported into the store once at start, then renamed `.imported`.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

from app.records import ChatSettings
from app.store import Store

log = logging.getLogger(__name__)

PICKLE_NAME = "bot_state.pickle"


class _OldChatData:
    """Stands in for the removed `handlers.context.ChatData` while reading the old file."""

    voice: str | None = None


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("handlers.context", "ChatData"):
            return _OldChatData
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> None:
        return None  # the Bot object PTB pickles by reference: not needed here


async def import_pickled_choices(data_dir: Path, store: Store) -> int:
    """Copy each chat's /voz language from the old pickle file into the store; returns how many chats."""
    path = data_dir / PICKLE_NAME
    if not path.exists():
        return 0
    with path.open("rb") as file:
        state = _Unpickler(file).load()
    chats = 0
    for chat_id, data in (state.get("chat_data") or {}).items():
        voice = getattr(data, "voice", None)
        if voice in ("pt", "en"):
            choices = await store.chat_settings(int(chat_id))
            await store.save_chat_settings(ChatSettings(int(chat_id), voice, choices.options))
            chats += 1
    path.rename(path.with_name(PICKLE_NAME + ".imported"))
    log.info("chat choices imported from the pickle file", extra={"chats": chats})
    return chats
