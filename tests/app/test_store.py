"""The store, on SQLite (always) and on a real PostgreSQL (Debian's, started on loopback; CI installs it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.errors import LeaseLost
from app.records import ChatSettings, SavedStory, StoryRequest, mark_sent
from app.store import Store, metadata
from pipeline.events import CaptionReady, StoryOptions, StoryReady
from pipeline.facts import PhotoFacts
from tools.postgres import PostgresServer, postgres_bin, postgres_server

CHAT, OTHER_CHAT, USER = 111, 222, 7
CAPTION = CaptionReady("a cat on a sofa", "um gato num sofá", PhotoFacts("a cat on a sofa", subject="a cat"))
STORY = StoryReady("Once upon a time, a cat.", "Era uma vez um gato.")
LEASE_S = 0.3
Replicas = Callable[[str], Awaitable[Store]]


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer | None]:
    if postgres_bin() is None:
        yield None
        return
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    if (postgres := request.getfixturevalue("postgres")) is None:  # started only for the PostgreSQL runs
        pytest.skip("PostgreSQL is not installed here (CI installs it: scripts/setup-system.sh)")
    return postgres.new_database()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    store = Store(store_url)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def replicas(store_url: str) -> AsyncIterator[Replicas]:
    """Stores for bot replicas on one database, by name, with a 0.3 s lease."""
    opened: list[Store] = []

    async def replica(name: str) -> Store:
        opened.append(Store(store_url, owner=name, lease_s=LEASE_S))
        await opened[-1].open()
        return opened[-1]

    yield replica
    for store in opened:
        await store.close()


def saved_story(story_id: str, chat_id: int = CHAT, created_at: float | None = None) -> SavedStory:
    return SavedStory(
        story_id, chat_id, StoryOptions("poem", "short"), CAPTION, STORY, "pt", created_at=created_at or time.time()
    )


async def test_a_request_round_trips_with_what_was_made_and_sent(store: Store) -> None:
    options = StoryOptions("bedtime", "long", main_character="Thor, nosso cachorro", hint="vovô Antônio em São Paulo")
    request = StoryRequest("r1", CHAT, USER, 42, "en", options, file_id="F", update_id=9)
    assert await store.accept(request)
    assert not await store.accept(StoryRequest("r2", CHAT, USER, 43, "pt", update_id=9))  # the same update again
    request = mark_sent(mark_sent(request, "caption"), "story")
    facts = PhotoFacts("a dog", "a dog", told="grandpa Antônio in São Paulo", hero="Thor", names=("Thor", "Antônio"))
    request = replace(request, caption=replace(CAPTION, facts=facts), story=STORY, status_message_id=5)
    await store.save(request)
    assert await store.unfinished() == [request]  # the user's words too, accents and all
    await store.save(replace(request, state="finished"))
    assert await store.unfinished() == []


async def test_chat_settings_default_then_saved(store: Store) -> None:
    assert await store.chat_settings(CHAT) == ChatSettings(CHAT)
    chosen = ChatSettings(CHAT, "en", StoryOptions("fable", "short", main_character="Iara, a exploradora"))
    await store.save_chat_settings(chosen)
    await store.save_chat_settings(chosen)  # saving again updates, never duplicates
    assert await store.chat_settings(CHAT) == chosen
    assert await store.chat_settings(OTHER_CHAT) == ChatSettings(OTHER_CHAT)


async def test_stories_newest_first_per_chat_with_their_voice(store: Store) -> None:
    for i in range(12):
        await store.accept(StoryRequest(f"s{i}", CHAT, USER, None, "pt"))
        await store.add_story(saved_story(f"s{i}", created_at=1000.0 + i))
    await store.accept(StoryRequest("x", OTHER_CHAT, USER, None, "pt"))
    await store.add_story(saved_story("x", OTHER_CHAT))
    await store.set_voice("s11", "VOICE-FILE")
    recent = await store.recent_stories(CHAT, limit=10)
    assert [story.id for story in recent] == [f"s{i}" for i in range(11, 1, -1)]
    assert recent[0] == replace(saved_story("s11", created_at=1011.0), voice_file_id="VOICE-FILE")
    assert await store.story(OTHER_CHAT, "s11") is None  # another chat's id finds nothing


async def test_forget_chat_leaves_no_row_of_that_chat_in_any_table(store: Store) -> None:
    for chat in (CHAT, OTHER_CHAT):
        await store.accept(StoryRequest(f"r{chat}", chat, USER, None, "pt"))
        await store.add_story(saved_story(f"r{chat}", chat))
        await store.save_chat_settings(ChatSettings(chat, "en"))
    await store.forget_chat(CHAT)
    await store.add_story(saved_story(f"r{CHAT}", CHAT))  # a story finishing after /esquecer is not kept
    async with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if "chat_id" in table.c:
                count = (await connection.execute(select(func.count()).where(table.c.chat_id == CHAT))).scalar()
                others = (await connection.execute(select(func.count()).where(table.c.chat_id == OTHER_CHAT))).scalar()
                assert (table.name, count) == (table.name, 0)
                assert others == 1, table.name


async def test_purge_erases_old_stories_and_answered_requests(store: Store) -> None:
    await store.accept(StoryRequest("old", CHAT, USER, None, "pt", state="finished"))
    await store.add_story(saved_story("old", created_at=time.time() - 40 * 86400))
    await store.accept(StoryRequest("new", CHAT, USER, None, "pt"))
    await store.add_story(saved_story("new"))
    assert await store.purge(requests_older_than_s=3600, stories_older_than_s=30 * 86400) == 1
    assert await store.purge(requests_older_than_s=-1, stories_older_than_s=30 * 86400) == 1
    assert [story.id for story in await store.recent_stories(CHAT)] == ["new"]
    assert [request.id for request in await store.unfinished()] == ["new"]


async def test_voice_choices_from_the_old_pickle_file_are_imported_once(tmp_path: Path, monkeypatch) -> None:
    import pickle

    import handlers.context
    from handlers.pickled_choices import import_pickled_choices

    class ChatData:  # the shape python-telegram-bot pickled before the store existed
        def __init__(self, voice: str | None) -> None:
            self.voice, self.stories = voice, {"k": {"pt": "…", "en": "…"}}

    ChatData.__module__, ChatData.__qualname__ = "handlers.context", "ChatData"
    monkeypatch.setattr(handlers.context, "ChatData", ChatData, raising=False)
    state = {"chat_data": {CHAT: ChatData("en"), OTHER_CHAT: ChatData(None)}, "user_data": {}, "bot_data": {}}
    (tmp_path / "bot_state.pickle").write_bytes(pickle.dumps(state))
    monkeypatch.delattr(handlers.context, "ChatData")
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await store.open()
    assert await import_pickled_choices(tmp_path, store) == 1
    assert (await store.chat_settings(CHAT)).voice_language == "en"
    assert (await store.chat_settings(OTHER_CHAT)).voice_language is None
    assert await import_pickled_choices(tmp_path, store) == 0  # renamed: imported once
    assert (tmp_path / "bot_state.pickle.imported").exists()
    await store.close()


# --- leases: several bot replicas on one store ---------------------------------------------------------------


async def test_a_live_replicas_request_is_never_taken_and_a_dead_ones_is_taken_once(replicas: Replicas) -> None:
    a, b, c = await replicas("a"), await replicas("b"), await replicas("c")
    request = StoryRequest("r1", CHAT, USER, None, "pt", file_id="F", update_id=1)
    assert await a.accept(request)
    assert await b.claim_requests(own=True) == [] == await b.claim_requests(own=False)  # a's lease runs
    for _ in range(3):  # a lives: every save renews its lease
        await asyncio.sleep(LEASE_S / 2)
        await a.save(request)
    assert await b.claim_requests(own=False) == []
    await asyncio.sleep(LEASE_S * 1.5)  # a died
    taken = await asyncio.gather(b.claim_requests(own=False), c.claim_requests(own=False))
    assert sorted(len(requests) for requests in taken) == [0, 1]  # one replica wins, whatever the timing
    winner = b if taken[0] else c
    assert [r.id for r in await winner.claim_requests(own=True)] == ["r1"]  # its own, after its restart
    with pytest.raises(LeaseLost):  # a woke up: it may not send or write anything more
        await a.hold("r1")
    with pytest.raises(LeaseLost):
        await a.save(mark_sent(request, "caption"))
    await winner.save(mark_sent(request, "caption"))
    assert [r.parts_sent for r in await winner.unfinished()] == [frozenset({"caption"})]


async def test_renewed_leases_hold_and_a_finished_request_is_nobodys(replicas: Replicas) -> None:
    a, b = await replicas("a"), await replicas("b")
    for name in ("r1", "r2"):
        await a.accept(StoryRequest(name, CHAT, USER, None, "pt", file_id="F"))
    await a.save(StoryRequest("r2", CHAT, USER, None, "pt", file_id="F", state="finished"))
    for _ in range(3):
        await asyncio.sleep(LEASE_S / 2)
        assert await a.renew_leases() == 1  # the open one
    assert await b.claim_requests(own=False) == []
    await asyncio.sleep(LEASE_S * 1.5)
    assert [r.id for r in await b.claim_requests(own=False)] == ["r1"]


async def test_a_kept_update_is_handled_by_its_replica_or_once_its_lease_ran_out(replicas: Replicas) -> None:
    a, b, a_again = await replicas("a"), await replicas("b"), await replicas("a")
    await a.save_updates([(5, '{"update_id": 5}'), (6, '{"update_id": 6}')])
    await a.forget_update(6)
    assert await b.claim_updates(own=True) == []
    assert await a_again.claim_updates(own=True) == ['{"update_id": 5}']  # a restarted: at once
    assert await b.claim_updates(own=False) == []
    await asyncio.sleep(LEASE_S * 1.5)
    assert await b.claim_updates(own=False) == ['{"update_id": 5}']
    assert await a.claim_updates(own=False) == []  # b holds it now


async def test_a_request_erased_meanwhile_stays_erased_without_a_lease_error(replicas: Replicas) -> None:
    a = await replicas("a")
    request = StoryRequest("r1", CHAT, USER, None, "pt", file_id="F")
    await a.accept(request)
    await a.forget_chat(CHAT)
    await a.save(mark_sent(request, "caption"))
    await a.hold("r1")
    assert await a.unfinished() == []
