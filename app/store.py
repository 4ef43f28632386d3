"""The store: what the bot keeps about chats, and what it must not forget when its process dies.

Tables (schema in `app/migrations`, applied by Alembic at start):
- `updates`: Telegram updates received but not yet handled. The bot writes them here *before* it confirms
  them to Telegram (the next getUpdates offset), so a crash in between never loses one.
- `story_requests`: every story request the bot accepted, with what was made (the caption and its facts,
  the story) and sent (caption, story, voice), until its answer is out. A restarted bot resumes the
  unfinished ones; answered ones are kept briefly (to recognise a redelivered update), then purged.
- `stories`: the stories told, for /historias and "Outra história", kept STORIES_KEPT_DAYS.
- `chat_settings`: each chat's narration language, kind and length of story, and main character.
- `web_stories`: the web page's stories while they live (WEB_STORY_TTL_S), so that any replica of the page
  serves any story's events, photo and voice (web/stories.py writes them, the page drops the expired ones).

`forget_chat` erases a chat from every table (/esquecer). SQLite under DATA_DIR by default (one file, WAL
journal: a killed process loses nothing committed); PostgreSQL (or any SQLAlchemy async URL) in DATABASE_URL
for deployments with several bot replicas, on the same code path.

Leases, for several bot replicas on one store: each open request and each kept update has an `owner` (the
replica's REPLICA_ID) and a `lease_until`. The owner renews its leases while it lives (`renew_leases`, and
every `save`); another replica takes over a request or an update only once its lease ran out (`claim_requests`,
`claim_updates`: one compare-and-set UPDATE per row, so two replicas never both win). A replica that lost a
request (it stalled past its lease) learns it at its next `save` or `hold`: `LeaseLost`, and it stops there.
A restarted replica with the same REPLICA_ID takes its own requests back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    delete,
    event,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from pipeline.events import StoryOptions, StoryReady

from .errors import LeaseLost
from .records import (
    ChatSettings,
    SavedStory,
    StoryRequest,
    caption_json,
    caption_of,
    story_json,
    story_of,
)

MIGRATIONS = Path(__file__).with_name("migrations")

metadata = MetaData()

updates_table = Table(
    "updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),  # the update as Telegram sent it (JSON)
    Column("received_at", Float, nullable=False),
    Column("owner", String(64)),  # the replica handling it (REPLICA_ID)...
    Column("lease_until", Float),  # ... until then, unless it renews
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
    Column("parts_sent", Text, nullable=False),  # "caption,story,voice"
    Column("caption", Text),  # JSON: caption_en, caption_pt, facts
    Column("story", Text),  # JSON: story_en, story_pt
    Column("created_at", Float, nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
    Column("story_kind", String(16)),
    Column("story_length", String(16)),
    Column("story_message_id", BigInteger),  # the story message while it is being written
    Column("story_hint", Text),  # the user's own words about the photo, as written
    Column("main_character", Text),  # the chat's main character when the request was made
    Column("owner", String(64)),  # the replica answering it (REPLICA_ID)...
    Column("lease_until", Float),  # ... until then, unless it renews
)

stories_table = Table(
    "stories",
    metadata,
    Column("id", String(32), primary_key=True),  # the request's id
    Column("chat_id", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("story_kind", String(16), nullable=False),
    Column("story_length", String(16), nullable=False),
    Column("caption", Text, nullable=False),  # JSON, as in story_requests: what "Outra história" starts from
    Column("story_en", Text, nullable=False),
    Column("story_pt", Text, nullable=False),
    Column("voice_language", String(8), nullable=False),
    Column("voice_file_id", Text),  # the voice on Telegram: replayed without a new synthesis
    Index("ix_stories_chat_created", "chat_id", "created_at"),
)

chat_settings_table = Table(
    "chat_settings",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("voice_language", String(8)),
    Column("story_kind", String(16)),
    Column("story_length", String(16)),
    Column("updated_at", Float, nullable=False),
    Column("main_character", Text),
)

web_stories_table = Table(
    "web_stories",
    metadata,
    Column("id", String(64), primary_key=True),  # the story's secret id (web/stories.py)
    Column("expires_at", Float, nullable=False, index=True),  # time.time()
    Column("story", Text, nullable=False),  # JSON: what the page shows (events so far, state, options...)
    Column("photo", LargeBinary, nullable=False),
    Column("voice", LargeBinary),  # OGG/Opus, once read aloud
)

# Every table with rows about a chat. (`updates` holds an update only until it is handled: milliseconds.)
CHAT_TABLES = (requests_table, stories_table, chat_settings_table)


def _request_row(request: StoryRequest) -> dict[str, Any]:
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
        "caption": caption_json(request.caption),
        "story": story_json(request.story),
        "created_at": request.created_at,
        "updated_at": time.time(),
        **_option_columns(request.options),
        "story_message_id": request.story_message_id,
        "story_hint": request.options.hint or None,
    }


def _request(row: Any) -> StoryRequest:
    parts: frozenset[Any] = frozenset(part for part in row.parts_sent.split(",") if part)
    return StoryRequest(
        id=row.id,
        update_id=row.update_id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        reply_to=row.reply_to,
        file_id=row.file_id,
        voice_language=row.voice_language,
        options=_options(row, hint=row.story_hint),
        status_message_id=row.status_message_id,
        story_message_id=row.story_message_id,
        state=row.state,
        parts_sent=parts,
        caption=caption_of(row.caption),
        story=story_of(row.story),
        created_at=row.created_at,
    )


def _options(row: Any, *, hint: str | None = None) -> StoryOptions:
    """Options from a row's columns (a story's have no main character); a missing value is the default."""
    default = StoryOptions()
    return StoryOptions(
        kind=row.story_kind or default.kind,
        length=row.story_length or default.length,
        main_character=getattr(row, "main_character", None) or "",
        hint=hint or "",
    )


def _option_columns(options: StoryOptions) -> dict[str, Any]:
    """The columns of a chat's or a request's options."""
    return {
        "story_kind": options.kind,
        "story_length": options.length,
        "main_character": options.main_character or None,
    }


def _story(row: Any) -> SavedStory:
    caption = caption_of(row.caption)
    assert caption is not None, "the column is NOT NULL"
    return SavedStory(
        id=row.id,
        chat_id=row.chat_id,
        created_at=row.created_at,
        options=_options(row),
        caption=caption,
        story=StoryReady(row.story_en, row.story_pt),
        voice_language=row.voice_language,
        voice_file_id=row.voice_file_id,
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
    """Async access to the store's tables: `Store(url)`, then `await store.open()` before use.

    `owner` names this replica in the leases (REPLICA_ID; default: the host name, as the setting's); a lease
    lasts `lease_s` unless renewed.
    """

    def __init__(self, url: str, *, owner: str | None = None, lease_s: float = 30.0) -> None:
        self.owner, self.lease_s = owner or socket.gethostname(), lease_s
        self.engine: AsyncEngine = create_async_engine(url)
        self._writer: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            self._writer = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write. SQLite has one writer at a time: they take turns here, not in SQLite's
        busy handler, which sleeps 1-100 ms between tries (measured with 10 photos arriving at once: their first
        replies spread over 0.30 s before, 0.06 s with turns)."""
        async with self._writer, self.engine.begin() as connection:
            yield connection

    async def open(self) -> None:
        """Create the SQLite folder if needed, and migrate the schema to the newest version."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.begin() as connection:  # at start, before any other use
            await connection.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()

    # --- updates not yet handled --------------------------------------------------------------------

    def _lease(self) -> dict[str, Any]:
        """The columns of a lease held by this replica from now."""
        return {"owner": self.owner, "lease_until": time.time() + self.lease_s}

    async def save_updates(self, updates: Iterable[tuple[int, str]]) -> None:
        """Record (update_id, JSON body) pairs, leased to this replica; an update already recorded is kept as it is."""
        rows = [{"update_id": uid, "body": body, "received_at": time.time(), **self._lease()} for uid, body in updates]
        if not rows:
            return
        async with self._transaction() as connection:
            ids = [row["update_id"] for row in rows]
            query = select(updates_table.c.update_id).where(updates_table.c.update_id.in_(ids))
            known = set((await connection.execute(query)).scalars())
            fresh = [row for row in rows if row["update_id"] not in known]
            if fresh:
                await connection.execute(insert(updates_table), fresh)

    async def forget_update(self, update_id: int) -> None:
        """The update was handled: drop it."""
        async with self._transaction() as connection:
            await connection.execute(delete(updates_table).where(updates_table.c.update_id == update_id))

    async def claim_updates(self, *, own: bool) -> list[str]:
        """The JSON bodies of the updates received but not handled whose lease ran out (and, with `own`, this
        replica's from before a restart), now leased to this replica; oldest first."""
        query = select(updates_table.c.update_id, updates_table.c.body).order_by(updates_table.c.update_id)
        claimable = self._claimable(updates_table, own=own)
        async with self._transaction() as connection:
            rows = list(await connection.execute(query.where(claimable)))
            return [
                row.body
                for row in rows
                if await self._claim(connection, updates_table.c.update_id, row.update_id, claimable)
            ]

    def _claimable(self, table: Table, *, own: bool) -> Any:
        """Rows of `table` whose lease ran out (or that never had one), and with `own` this replica's."""
        expired = or_(table.c.owner.is_(None), table.c.lease_until < time.time())
        return (
            or_(expired, table.c.owner == self.owner)
            if own
            else and_(expired, table.c.owner.is_distinct_from(self.owner))
        )

    async def _claim(self, connection: AsyncConnection, key: Column[Any], value: Any, claimable: Any) -> bool:
        """Lease one row to this replica if it is still claimable (compare-and-set: one replica wins)."""
        query = update(key.table).where(key == value, claimable).values(self._lease())
        return (await connection.execute(query)).rowcount == 1

    # --- story requests ---------------------------------------------------------------------------------

    async def accept(self, request: StoryRequest) -> bool:
        """Record a new request (and forget its update, in the same transaction).

        False when the update already made a request: a redelivered update, which the first one answers.
        """
        try:
            async with self._transaction() as connection:
                await connection.execute(insert(requests_table), [{**_request_row(request), **self._lease()}])
                if request.update_id is not None:
                    await connection.execute(
                        delete(updates_table).where(updates_table.c.update_id == request.update_id)
                    )
        except IntegrityError:
            return False
        return True

    async def save(self, request: StoryRequest) -> None:
        """Write the request's current state and renew its lease (a request erased by /esquecer stays erased).

        Raises LeaseLost when another replica has taken the request over.
        """
        await self._held(_request_row(request) | self._lease(), request.id)

    async def hold(self, request_id: str) -> None:
        """Renew the lease of a request about to send a part; LeaseLost if another replica has it now."""
        await self._held(self._lease(), request_id)

    async def _held(self, values: dict[str, Any], request_id: str) -> None:
        """Write `values` to a request this replica holds; LeaseLost if another one holds it."""
        async with self._transaction() as connection:
            mine = and_(requests_table.c.id == request_id, requests_table.c.owner == self.owner)
            written = (await connection.execute(update(requests_table).where(mine).values(values))).rowcount
            if written == 0 and await _has_request(connection, request_id):
                raise LeaseLost(request_id)

    async def renew_leases(self) -> int:
        """Renew the leases of every open request and kept update this replica holds; how many there were."""
        renewed = 0
        async with self._transaction() as connection:
            for table in (requests_table, updates_table):
                query = update(table).where(table.c.owner == self.owner).values(lease_until=time.time() + self.lease_s)
                if table is requests_table:
                    query = query.where(table.c.state == "open")
                renewed += (await connection.execute(query)).rowcount or 0
        return renewed

    async def unfinished(self) -> list[StoryRequest]:
        """Requests whose answer is not all out yet, in the order they were received (whoever holds them)."""
        async with self.engine.connect() as connection:
            return [_request(row) for row in await connection.execute(self._open_requests())]

    async def claim_requests(self, *, own: bool) -> list[StoryRequest]:
        """The unfinished requests whose lease ran out (and, with `own`, this replica's from before a restart),
        now leased to this replica; in the order they were received."""
        claimable = self._claimable(requests_table, own=own)
        async with self._transaction() as connection:
            rows = list(await connection.execute(self._open_requests().where(claimable)))
            return [
                _request(row) for row in rows if await self._claim(connection, requests_table.c.id, row.id, claimable)
            ]

    @staticmethod
    def _open_requests() -> Select[Any]:
        return select(requests_table).where(requests_table.c.state == "open").order_by(requests_table.c.created_at)

    async def purge(self, *, requests_older_than_s: float, stories_older_than_s: float) -> int:
        """Delete answered requests and stories past their time; returns how many rows went."""
        now = time.time()
        async with self._transaction() as connection:
            old_requests = delete(requests_table).where(
                requests_table.c.state == "finished", requests_table.c.updated_at < now - requests_older_than_s
            )
            old_stories = delete(stories_table).where(stories_table.c.created_at < now - stories_older_than_s)
            erased = 0
            for query in (old_requests, old_stories):
                erased += (await connection.execute(query)).rowcount or 0
            return erased

    # --- stories told -------------------------------------------------------------------------------------

    async def add_story(self, story: SavedStory) -> None:
        """Keep a story for /historias, unless its request was erased meanwhile (/esquecer)."""
        async with self._transaction() as connection:
            if not await _has_request(connection, story.id):
                return
            await connection.execute(
                insert(stories_table),
                [
                    {
                        "id": story.id,
                        "chat_id": story.chat_id,
                        "created_at": story.created_at,
                        "story_kind": story.options.kind,
                        "story_length": story.options.length,
                        "caption": caption_json(story.caption),
                        "story_en": story.story.story_en,
                        "story_pt": story.story.story_pt,
                        "voice_language": story.voice_language,
                        "voice_file_id": story.voice_file_id,
                    }
                ],
            )

    async def set_voice(self, story_id: str, file_id: str) -> None:
        """The story's voice as Telegram keeps it, for replays."""
        async with self._transaction() as connection:
            query = update(stories_table).where(stories_table.c.id == story_id).values(voice_file_id=file_id)
            await connection.execute(query)

    async def story(self, chat_id: int, story_id: str) -> SavedStory | None:
        """One of this chat's stories (another chat's id finds nothing)."""
        query = select(stories_table).where(stories_table.c.id == story_id, stories_table.c.chat_id == chat_id)
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
            return None if row is None else _story(row)

    async def recent_stories(self, chat_id: int, limit: int = 10) -> list[SavedStory]:
        """The chat's last stories, newest first."""
        query = (
            select(stories_table)
            .where(stories_table.c.chat_id == chat_id)
            .order_by(stories_table.c.created_at.desc())
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            return [_story(row) for row in await connection.execute(query)]

    # --- chat settings ------------------------------------------------------------------------------------

    async def chat_settings(self, chat_id: int) -> ChatSettings:
        """The chat's choices (all defaults for a chat that made none)."""
        query = select(chat_settings_table).where(chat_settings_table.c.chat_id == chat_id)
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return ChatSettings(chat_id)
        return ChatSettings(chat_id, row.voice_language, _options(row))

    async def save_chat_settings(self, settings: ChatSettings) -> None:
        row = {
            "chat_id": settings.chat_id,
            "voice_language": settings.voice_language,
            **_option_columns(settings.options),
            "updated_at": time.time(),
        }
        async with self._transaction() as connection:
            where = chat_settings_table.c.chat_id == settings.chat_id
            if (await connection.execute(update(chat_settings_table).where(where).values(row))).rowcount == 0:
                await connection.execute(insert(chat_settings_table), [row])

    # --- the web page's stories --------------------------------------------------------------------------

    async def add_web_story(self, story_id: str, expires_at: float, story: dict[str, Any], photo: bytes) -> None:
        """A new web story: what it has so far (JSON-able), its photo, and when it expires (time.time())."""
        row = {"id": story_id, "expires_at": expires_at, "story": json.dumps(story), "photo": photo}
        async with self._transaction() as connection:
            await connection.execute(insert(web_stories_table), [row])

    async def update_web_story(self, story_id: str, story: dict[str, Any], voice: bytes | None = None) -> None:
        """What the web story has now (and its voice, once: it is not written again)."""
        values: dict[str, Any] = {"story": json.dumps(story)} | ({} if voice is None else {"voice": voice})
        async with self._transaction() as connection:
            query = update(web_stories_table).where(web_stories_table.c.id == story_id)
            await connection.execute(query.values(values))

    async def forget_expired_web_stories(self) -> int:
        """Delete the web stories past their time; returns how many went."""
        async with self._transaction() as connection:
            query = delete(web_stories_table).where(web_stories_table.c.expires_at <= time.time())
            return (await connection.execute(query)).rowcount or 0

    async def web_story(self, story_id: str, *, photo: bool = False, voice: bool = False) -> WebStoryRow | None:
        """A web story that has not expired (with its photo's and voice's bytes when asked); None otherwise."""
        table = web_stories_table
        columns = [
            table.c.expires_at,
            table.c.story,
            *([table.c.photo] if photo else []),
            *([table.c.voice] if voice else []),
        ]
        query = select(*columns).where(table.c.id == story_id, table.c.expires_at > time.time())
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        return WebStoryRow(
            row.expires_at, json.loads(row.story), row.photo if photo else None, row.voice if voice else None
        )

    # --- privacy --------------------------------------------------------------------------------------------

    async def forget_chat(self, chat_id: int) -> None:
        """Erase everything kept about a chat, from every table (/esquecer)."""
        async with self._transaction() as connection:
            for table in CHAT_TABLES:
                await connection.execute(delete(table).where(table.c.chat_id == chat_id))


@dataclass(frozen=True)
class WebStoryRow:
    """A web story as the store keeps it (the photo and voice only when asked for)."""

    expires_at: float  # time.time()
    story: dict[str, Any]
    photo: bytes | None
    voice: bytes | None


async def _has_request(connection: AsyncConnection, request_id: str) -> bool:
    query = select(exists().where(requests_table.c.id == request_id))
    return bool((await connection.execute(query)).scalar())


__all__ = ["Store", "WebStoryRow", "metadata"]
