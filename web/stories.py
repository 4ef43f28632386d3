"""The web page's stories: what each one has produced so far, who may read it, and for how long.

A story is known only by its id, 192 random bits (`secrets.token_urlsafe`): holding the id is the only way to
read its events, its photo and its voice, and only until it expires (WEB_STORY_TTL_S). Ids are looked up in
memory and never joined into a path, so there is nothing to traverse and nothing to list. Photos and voices
live in memory, within WEB_MAX_STORED_MB: a new story first evicts the oldest finished ones, and is refused
(politely) when running and waiting stories alone fill it.

With a shared store (app/store.py, `web_stories`), each story is also written there as it goes: another
replica of the page, behind the same load balancer, finds an id it does not hold in the store and serves
it from there, following its events every REMOTE_POLL_S.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from app.store import Store, WebStoryRow
from app.work_queue import Ticket
from pipeline.config import Language
from pipeline.events import StoryOptions, Voice

log = logging.getLogger(__name__)

ID_BYTES = 24  # 192 random bits
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
REMOTE_POLL_S = 0.5  # how often a story told by another replica is looked up again


class StoreFull(Exception):
    """The stories in flight already hold as many bytes as the store may keep."""


@dataclass(eq=False)
class Story:
    """One photo's journey: the events sent so far (replayed to every follower) and the state they add up to."""

    id: str
    photo: bytes
    photo_type: str
    voice_language: Language
    expires_at: float
    credit: dict[str, Any] | None = None  # the random photo's credit (app.photos.Credit), for the page
    options: StoryOptions = field(default_factory=StoryOptions)  # the kind and length asked for
    request_id: str = field(default_factory=lambda: secrets.token_hex(4))
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stamps: dict[str, float] = field(default_factory=dict)  # time.monotonic() when it started and of each event
    state: dict[str, Any] = field(default_factory=dict)
    voice: Voice | None = None
    ticket: Ticket | None = None
    started: bool = False
    finished: bool = False
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    publish: Callable[[Story], Awaitable[None]] | None = None  # writes it to the shared store, when there is one
    reload: Callable[[Story], Awaitable[None]] | None = None  # a story told by another replica: read it again

    @property
    def size(self) -> int:
        return len(self.photo) + (len(self.voice.ogg) if self.voice else 0)

    @property
    def links(self) -> dict[str, str]:
        """Its id and where the API serves it: what it has so far, its events, its photo and its voice."""
        base = f"/api/stories/{self.id}"
        return {
            "id": self.id,
            "url": base,
            "events": f"{base}/events",
            "photo": f"{base}/photo",
            "voice": f"{base}/voice",
        }

    async def add(self, name: str, data: dict[str, Any]) -> None:
        """Record an event for every follower, present and future, and wake those who wait."""
        self.events.append((name, data))
        self.stamps.setdefault(name, time.monotonic())
        await self.changed_now()

    async def fail(self, reason: str, message: str) -> None:
        """The story ends without (all of) its parts: a `failed` event says why, in Portuguese."""
        await self.add("failed", {"reason": reason, "message": message})
        await self.finish()

    async def finish(self) -> None:
        self.finished = True
        await self.changed_now()

    async def changed_now(self) -> None:
        """A new event or its end: wake this replica's followers, and tell the shared store (when there is one)."""
        await self.wake()
        if self.publish is not None:
            await self.publish(self)

    async def wake(self) -> None:
        """Wake whoever waits on this story (a new event, its end, or the server closing)."""
        async with self.changed:
            self.changed.notify_all()

    async def wait(self, seen: int, timeout_s: float, stop: Callable[[], bool] = lambda: False) -> None:
        """Return when there are more than `seen` events, the story is finished, `stop()` (woken by `wake`), or
        after `timeout_s`. A story told by another replica is read again from the store, at most every REMOTE_POLL_S."""
        if self.reload is not None:
            await asyncio.sleep(min(timeout_s, REMOTE_POLL_S))
            await self.reload(self)
            return
        async with self.changed:
            try:
                async with asyncio.timeout(timeout_s):
                    await self.changed.wait_for(lambda: len(self.events) > seen or self.finished or stop())
            except TimeoutError:
                pass

    def page_fields(self) -> dict[str, Any]:
        """What another replica needs to serve it (JSON-able): all but the photo's and the voice's bytes."""
        voice = None if self.voice is None else {"seconds": self.voice.seconds, "language": self.voice.language}
        return {
            "photo_type": self.photo_type,
            "voice_language": self.voice_language,
            "credit": self.credit,
            "options": dataclasses.asdict(self.options),
            "request_id": self.request_id,
            "events": self.events,
            "state": self.state,
            "voice": voice,
            "started": self.started,
            "finished": self.finished,
        }

    def take_fields(self, fields: dict[str, Any], voice: bytes | None) -> None:
        """What the store says the story has now (a story told by another replica)."""
        self.events = [(name, data) for name, data in fields["events"]]
        self.state, self.started, self.finished = fields["state"], fields["started"], fields["finished"]
        if voice is not None and fields["voice"] is not None:
            self.voice = Voice(voice, fields["voice"]["seconds"], fields["voice"]["language"], "shared")


class StoryStore:
    """Stories by id, each until it expires, within a bound on the bytes they hold; with `shared`, also in the
    store that every replica of the page reads."""

    def __init__(
        self, *, ttl_s: float, max_bytes: int, clock: Callable[[], float] = time.monotonic, shared: Store | None = None
    ) -> None:
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self.shared = shared
        self._clock = clock
        self._stories: OrderedDict[str, Story] = OrderedDict()
        self._voices_written: set[str] = set()

    def __len__(self) -> int:
        return len(self._stories)

    def __iter__(self) -> Iterator[Story]:
        return iter(list(self._stories.values()))

    @property
    def total_bytes(self) -> int:
        return sum(story.size for story in self._stories.values())

    def create(
        self,
        photo: bytes,
        photo_type: str,
        voice_language: Language,
        credit: dict[str, Any] | None,
        options: StoryOptions | None = None,
    ) -> Story:
        """A new story under a fresh id; raises StoreFull when even evicting finished stories leaves no room."""
        self.cleanup_expired()
        finished = [story.id for story in self._stories.values() if story.finished]
        while finished and self.total_bytes + len(photo) > self.max_bytes:
            self._stories.pop(finished.pop(0), None)
        if self.total_bytes + len(photo) > self.max_bytes:
            raise StoreFull(f"{self.total_bytes} bytes held")
        story = Story(
            id=secrets.token_urlsafe(ID_BYTES),
            photo=photo,
            photo_type=photo_type,
            voice_language=voice_language,
            expires_at=self._clock() + self.ttl_s,
            credit=credit,
            options=options or StoryOptions(),
        )
        self._stories[story.id] = story
        return story

    async def share(self, story: Story) -> None:
        """With a shared store: write the story there, and from now on each of its events (a story refused before
        its turn is never shared). A store that fails costs only the other replicas' view of it."""
        if self.shared is None:
            return
        try:
            await self.shared.add_web_story(story.id, time.time() + self.ttl_s, story.page_fields(), story.photo)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("web story not shared", extra={"request_id": story.request_id, "error": repr(exc)})
            return
        story.publish = self._publish
        await self._publish(story)  # what it did meanwhile

    async def _publish(self, story: Story) -> None:
        """Write what the story has now to the shared store (its voice once). A store that fails costs only the
        other replicas' view of it: this replica's followers have it already."""
        assert self.shared is not None
        voice = None
        if story.voice is not None and story.id not in self._voices_written:
            voice = story.voice.ogg
        try:
            await self.shared.update_web_story(story.id, story.page_fields(), voice)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("web story not shared", extra={"request_id": story.request_id, "error": repr(exc)})
            return
        if voice is not None:
            self._voices_written.add(story.id)

    async def find(self, story_id: str) -> Story | None:
        """The story, from this replica's memory or else from the shared store; None when the id is malformed,
        unknown or expired."""
        if (story := self.get(story_id)) is not None or self.shared is None or not ID_PATTERN.match(story_id):
            return story
        try:
            row = await self.shared.web_story(story_id, photo=True, voice=True)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("shared web stories unreadable", extra={"error": repr(exc)})
            return None
        return None if row is None else self._told_elsewhere(story_id, row)

    def _told_elsewhere(self, story_id: str, row: WebStoryRow) -> Story:
        """A story another replica tells, as the store has it, that reads itself again as it waits."""
        fields = row.story
        assert row.photo is not None, "asked with its photo"
        story = Story(
            id=story_id,
            photo=row.photo,
            photo_type=fields["photo_type"],
            voice_language=fields["voice_language"],
            expires_at=self._clock() + (row.expires_at - time.time()),
            credit=fields["credit"],
            options=StoryOptions(**fields["options"]),
            request_id=fields["request_id"],
            reload=self._reload,
        )
        story.take_fields(fields, row.voice)
        return story

    async def _reload(self, story: Story) -> None:
        """Read a story told by another replica again (a store that fails now is tried again at the next poll)."""
        assert self.shared is not None
        try:
            row = await self.shared.web_story(story.id, voice=story.voice is None)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("shared web stories unreadable", extra={"error": repr(exc)})
            return
        if row is None:  # expired meanwhile
            story.expires_at = self._clock()
            return
        story.take_fields(row.story, row.voice)

    def get(self, story_id: str) -> Story | None:
        """The story, or None when the id is malformed, unknown or expired."""
        story = self._stories.get(story_id) if ID_PATTERN.match(story_id) else None
        if story is None or story.expires_at <= self._clock():
            return None
        return story

    def expires_in(self, story: Story) -> float:
        return max(0.0, story.expires_at - self._clock())

    def discard(self, story_id: str) -> None:
        self._stories.pop(story_id, None)

    def cleanup_expired(self) -> int:
        """Forget expired stories (their followers are told by their own wait loop); returns how many."""
        now = self._clock()
        expired = [story_id for story_id, story in self._stories.items() if story.expires_at <= now]
        for story_id in expired:
            del self._stories[story_id]
            self._voices_written.discard(story_id)
        return len(expired)
