"""The request store: what the bot must not forget when its process dies.

Two tables (schema in `app/migrations`, applied by Alembic at start):
- `updates`: Telegram updates received but not yet handled. The bot writes them here *before* it confirms
  them to Telegram (the next getUpdates offset), so a crash in between never loses one.
- `story_requests`: every story request the bot accepted, with what was already sent (caption, story,
  voice) and what was already made (the caption and its facts, the story), until its answer is out. A
  restarted bot resumes the unfinished ones; finished ones are kept briefly (to recognise a redelivered
  update), then purged.

SQLite under DATA_DIR by default (one file, WAL journal: a killed process loses nothing committed); any
SQLAlchemy async URL in DATABASE_URL for deployments with several bot replicas.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    MetaData,
    String,
    Table,
    Text,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pipeline.config import Language
from pipeline.events import CaptionReady, StoryReady
from pipeline.facts import PhotoFacts

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
Part = Literal["caption", "story", "voice"]
State = Literal["open", "finished"]

metadata = MetaData()

updates_table = Table(
    "updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),  # the update as Telegram sent it (JSON)
    Column("received_at", Float, nullable=False),
)

requests_table = Table(
    "story_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("update_id", BigInteger, unique=True),  # None for requests not made by an update
    Column("chat_id", BigInteger, nullable=False, index=True),
    Column("user_id", BigInteger),
    Column("reply_to", BigInteger),  # the message to answer (groups); None in private chats
    Column("file_id", Text),  # the photo on Telegram's side
    Column("voice_language", String(8), nullable=False),
    Column("status_message_id", BigInteger),
    Column("state", String(16), nullable=False, index=True),
    Column("parts_sent", Text, nullable=False, default=""),  # "caption,story,voice"
    Column("caption", Text),  # JSON: caption_en, caption_pt, facts
    Column("story", Text),  # JSON: story_en, story_pt
    Column("created_at", Float, nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
)


@dataclass(frozen=True)
class StoryRequest:
    """One accepted story request, as stored: where to answer, the photo, and how far the answer got."""

    id: str
    chat_id: int
    user_id: int | None
    reply_to: int | None
    voice_language: Language
    file_id: str | None = None
    update_id: int | None = None
    status_message_id: int | None = None
    state: State = "open"
    parts_sent: frozenset[Part] = frozenset()
    caption: CaptionReady | None = None
    story: StoryReady | None = None
    created_at: float = field(default_factory=time.time)

    def sent(self, part: Part) -> bool:
        return part in self.parts_sent


def _caption_json(caption: CaptionReady | None) -> str | None:
    if caption is None:
        return None
    facts = caption.facts.to_dict() if caption.facts else None
    return json.dumps({"caption_en": caption.caption_en, "caption_pt": caption.caption_pt, "facts": facts})


def _caption_of(text: str | None) -> CaptionReady | None:
    if text is None:
        return None
    data = json.loads(text)
    facts = PhotoFacts.from_dict(data["facts"]) if data.get("facts") else None
    return CaptionReady(data["caption_en"], data["caption_pt"], facts)


def _story_json(story: StoryReady | None) -> str | None:
    return None if story is None else json.dumps({"story_en": story.story_en, "story_pt": story.story_pt})


def _story_of(text: str | None) -> StoryReady | None:
    return None if text is None else StoryReady(**json.loads(text))


def _row(request: StoryRequest) -> dict[str, Any]:
    """The table row of a request."""
    return {
        "id": request.id,
        "update_id": request.update_id,
        "chat_id": request.chat_id,
        "user_id": request.user_id,
        "reply_to": request.reply_to,
        "file_id": request.file_id,
        "voice_language": request.voice_language,
        "status_message_id": request.status_message_id,
        "state": request.state,
        "parts_sent": ",".join(sorted(request.parts_sent)),
        "caption": _caption_json(request.caption),
        "story": _story_json(request.story),
        "created_at": request.created_at,
        "updated_at": time.time(),
    }


def _request(row: Any) -> StoryRequest:
    """A request from its table row."""
    parts: frozenset[Any] = frozenset(part for part in row.parts_sent.split(",") if part)
    return StoryRequest(
        id=row.id,
        update_id=row.update_id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        reply_to=row.reply_to,
        file_id=row.file_id,
        voice_language=row.voice_language,
        status_message_id=row.status_message_id,
        state=row.state,
        parts_sent=parts,
        caption=_caption_of(row.caption),
        story=_story_of(row.story),
        created_at=row.created_at,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL: readers never wait for the writer, and a killed process loses nothing committed."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _upgrade(connection: Connection) -> None:
    """Bring the schema to the newest migration (Alembic, on the given connection)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class Store:
    """Async access to the store's tables: `Store(url)`, then `await store.open()` before use."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    async def open(self) -> None:
        """Create the SQLite folder if needed, and migrate the schema to the newest version."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()

    # --- updates not yet handled --------------------------------------------------------------------

    async def save_updates(self, updates: Iterable[tuple[int, str]]) -> None:
        """Record (update_id, JSON body) pairs; an update already recorded is kept as it is."""
        rows = [{"update_id": uid, "body": body, "received_at": time.time()} for uid, body in updates]
        if not rows:
            return
        async with self.engine.begin() as connection:
            known = set(
                (
                    await connection.execute(
                        select(updates_table.c.update_id).where(
                            updates_table.c.update_id.in_([row["update_id"] for row in rows])
                        )
                    )
                ).scalars()
            )
            fresh = [row for row in rows if row["update_id"] not in known]
            if fresh:
                await connection.execute(insert(updates_table), fresh)

    async def forget_update(self, update_id: int) -> None:
        """The update was handled: drop it."""
        async with self.engine.begin() as connection:
            await connection.execute(delete(updates_table).where(updates_table.c.update_id == update_id))

    async def unhandled_updates(self) -> list[str]:
        """The JSON bodies of the updates received but not handled, oldest first."""
        async with self.engine.connect() as connection:
            result = await connection.execute(select(updates_table.c.body).order_by(updates_table.c.update_id))
            return list(result.scalars())

    # --- story requests ---------------------------------------------------------------------------------

    async def accept(self, request: StoryRequest) -> bool:
        """Record a new request (and forget its update, in the same transaction).

        False when the update already made a request: a redelivered update, which the first one answers.
        """
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(requests_table), [_row(request)])
                if request.update_id is not None:
                    await connection.execute(
                        delete(updates_table).where(updates_table.c.update_id == request.update_id)
                    )
        except IntegrityError:
            return False
        return True

    async def save(self, request: StoryRequest) -> None:
        """Write the request's current state."""
        row = _row(request)
        async with self.engine.begin() as connection:
            await connection.execute(update(requests_table).where(requests_table.c.id == request.id).values(row))

    async def get(self, request_id: str) -> StoryRequest | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(requests_table).where(requests_table.c.id == request_id))).first()
            return None if row is None else _request(row)

    async def unfinished(self) -> list[StoryRequest]:
        """Requests whose answer is not all out yet, in the order they were received."""
        query = select(requests_table).where(requests_table.c.state == "open").order_by(requests_table.c.created_at)
        async with self.engine.connect() as connection:
            return [_request(row) for row in await connection.execute(query)]

    async def purge_finished(self, older_than_s: float) -> int:
        """Delete finished requests last touched more than `older_than_s` ago; returns how many."""
        cutoff = time.time() - older_than_s
        query = delete(requests_table).where(requests_table.c.state == "finished", requests_table.c.updated_at < cutoff)
        async with self.engine.begin() as connection:
            return (await connection.execute(query)).rowcount or 0

    async def forget_chat(self, chat_id: int) -> None:
        """Erase every request of a chat (the privacy command)."""
        async with self.engine.begin() as connection:
            await connection.execute(delete(requests_table).where(requests_table.c.chat_id == chat_id))


def mark_sent(request: StoryRequest, part: Part) -> StoryRequest:
    """The request with one more part sent."""
    return replace(request, parts_sent=request.parts_sent | {part})


__all__ = ["Part", "Store", "StoryRequest", "mark_sent", "metadata"]
