"""Photo sources for /aleatorio: the bundled gallery (offline default) and Unsplash (with an access key).

The gallery is a couple of dozen real landscapes from Debian wallpaper packages, each with its author,
licence and source in `assets/gallery/credits.json` (rebuilt by `scripts/build_gallery.py`). A per-chat
shuffle bag makes a chat see every photo once before any repeats.

Unsplash follows its API guidelines: the key travels only in the Authorization header (never in a URL or
a log line), the photo is hot-linked from `urls.regular` (we download it, so that the bot sends the same
bytes the captioner sees), `links.download_location` is called when the photo is shown, and the credit links
carry `utm_source=<app>&utm_medium=referral`. Any failure (status, timeout, bad JSON, image download)
falls back to the gallery: /aleatorio always answers. When `X-Ratelimit-Remaining` reaches 0 (50 requests
an hour for demo keys) we stop asking until the hour turns.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from PIL import Image, UnidentifiedImageError

from pipeline.config import PipelineSettings
from pipeline.errors import FetchError, InvalidImageError
from pipeline.images import fetch_image_bytes
from pipeline.logonce import WarnOnce

from .errors import UnsplashFailure

log = logging.getLogger(__name__)

GALLERY_DIR = Path(__file__).resolve().parent.parent / "assets" / "gallery"
UNSPLASH = "Unsplash"


@dataclass(frozen=True)
class Credit:
    """Who made a photo and under which terms; the bot turns the URL fields into links."""

    title: str
    author: str
    author_url: str | None
    license: str
    license_url: str | None
    source: str
    source_url: str | None

    def line_pt(self, link: Callable[[str, str | None], str] | None = None) -> str:
        """The credit line in Portuguese: Unsplash's required wording, or title, author, licence and source.

        `link(text, url)` renders each part that may carry a URL: plain text by default (the CLI), HTML
        links in the bot (which also escapes the text there).
        """
        link = link or (lambda text, _url: text)
        author = link(self.author, self.author_url)
        if self.source == UNSPLASH:  # the wording Unsplash's guidelines ask for
            return f"Foto de {author} no {link(UNSPLASH, self.source_url)}"
        title = f"“{link(self.title, None)}” — foto" if self.title else "Foto"
        licence = link(license_label(self.license), self.license_url)
        return f"{title} de {author} · {licence} · {link(self.source, self.source_url)}"


def license_label(spdx: str) -> str:
    """'CC-BY-SA-4.0' → 'CC BY-SA 4.0' (how Creative Commons writes its names); other ids stay as they are."""
    if spdx.startswith("CC-"):
        *elements, version = spdx.split("-")[1:]
        return f"CC {'-'.join(elements)} {version}"
    if spdx.startswith("CC0-"):
        return spdx.replace("-", " ", 1)
    return spdx


@dataclass(frozen=True)
class Photo:
    credit: Credit
    width: int
    height: int
    data: bytes | None = None  # JPEG bytes (gallery, or downloaded Unsplash image)
    url: str | None = None  # remote URL when not downloaded
    ident: str = ""  # stable id (gallery file name / Unsplash id)


class PhotoSource(Protocol):
    name: str

    async def random_photo(self, chat_key: str) -> Photo: ...

    async def mark_shown(self, photo: Photo) -> None: ...

    async def aclose(self) -> None: ...


# --- gallery -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GalleryEntry:
    """One line of credits.json (the fields the bot needs; the file also keeps provenance details)."""

    file: str
    title: str
    author: str
    author_url: str | None
    license: str
    license_url: str | None
    source: str  # "Debian package NAME"
    source_url: str | None
    width: int
    height: int
    scene: str
    package: str
    path: Path

    def credit(self) -> Credit:
        return Credit(
            title=self.title,
            author=self.author,
            author_url=self.author_url,
            license=self.license,
            license_url=self.license_url,
            source=f"Debian {self.package}",
            source_url=self.source_url,
        )


def load_gallery(directory: Path = GALLERY_DIR) -> list[GalleryEntry]:
    """Read credits.json; the folder is found next to the package, so the CWD does not matter."""
    records = json.loads((directory / "credits.json").read_text(encoding="utf-8"))
    return [
        GalleryEntry(
            file=rec["file"],
            title=rec["title"],
            author=rec["author"],
            author_url=rec.get("author_url"),
            license=rec["license"],
            license_url=rec.get("license_url"),
            source=rec["source"],
            source_url=rec.get("source_url"),
            width=int(rec["width"]),
            height=int(rec["height"]),
            scene=rec.get("scene", ""),
            package=rec["package"],
            path=directory / rec["file"],
        )
        for rec in records
    ]


class ShuffleBag:
    """Per-chat random order without repeats: a chat sees every item once before any comes back.

    `state` maps a chat to the items it has still to see (plain lists of strings, so the bot can keep it in
    its persistence); by default an in-memory dict. Only the `max_chats` most recently active chats are
    kept (insertion order doubles as recency). Items that left the gallery are dropped from saved state.
    """

    def __init__(
        self,
        items: Sequence[str],
        *,
        state: MutableMapping[str, list[str]] | None = None,
        max_chats: int = 10_000,
        rng: random.Random | None = None,
    ) -> None:
        if not items:
            raise ValueError("a shuffle bag needs at least one item")
        self._items = list(dict.fromkeys(items))
        self._known = set(self._items)
        self._state: MutableMapping[str, list[str]] = {} if state is None else state
        self._max_chats = max_chats
        self._rng = rng or random.Random()

    def next(self, chat_key: str) -> str:
        remaining = [item for item in self._state.pop(chat_key, []) if item in self._known] or self._deal()
        item = remaining.pop()
        # Deal the next round now, so that its first item is never the one just shown.
        self._state[chat_key] = remaining or self._deal(avoid_first=item)
        while len(self._state) > self._max_chats:
            del self._state[next(iter(self._state))]
        return item

    def _deal(self, avoid_first: str | None = None) -> list[str]:
        deck = self._items.copy()
        self._rng.shuffle(deck)
        if len(deck) > 1 and deck[-1] == avoid_first:  # items are taken from the end
            deck[0], deck[-1] = deck[-1], deck[0]
        return deck


class GallerySource:
    """The bundled landscapes, in a per-chat shuffled order."""

    name = "gallery"

    def __init__(
        self,
        entries: Sequence[GalleryEntry] | None = None,
        *,
        bag_state: MutableMapping[str, list[str]] | None = None,
        max_chats: int = 10_000,
        rng: random.Random | None = None,
    ) -> None:
        self._entries = {entry.file: entry for entry in (load_gallery() if entries is None else entries)}
        self._bag = ShuffleBag(list(self._entries), state=bag_state, max_chats=max_chats, rng=rng)

    async def random_photo(self, chat_key: str) -> Photo:
        entry = self._entries[self._bag.next(chat_key)]
        data = await asyncio.to_thread(entry.path.read_bytes)
        return Photo(entry.credit(), entry.width, entry.height, data=data, ident=entry.file)

    async def mark_shown(self, photo: Photo) -> None:
        """Nothing to report for bundled photos."""

    async def aclose(self) -> None:
        """Nothing to release."""


# --- Unsplash ----------------------------------------------------------------------------------------------


class UnsplashSource:
    """Random landscapes from the Unsplash API, falling back to `fallback` whenever Unsplash fails.

    Back-off: a rate limit (X-Ratelimit-Remaining 0, 429) or a refused key (401/403) pauses Unsplash until
    the clock hour turns, as the hourly quota does; 5xx, timeouts, network errors and bad JSON pause it for
    COOLDOWN_S, so that an outage does not make every /aleatorio wait for a timeout.
    """

    name = "unsplash"
    COOLDOWN_S = 60.0
    MAX_PENDING = 1_000  # download_location URLs waiting for mark_shown

    def __init__(
        self,
        settings: PipelineSettings,
        fallback: PhotoSource,
        *,
        clock: Callable[[], float] = time.time,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if settings.unsplash_access_key is None:
            raise ValueError("UnsplashSource needs settings.unsplash_access_key")
        self._fallback = fallback
        self._clock = clock
        self._api = httpx.URL(settings.unsplash_api_url.rstrip("/") + "/")
        self._query = settings.unsplash_query
        self._utm = {"utm_source": settings.app_name, "utm_medium": "referral"}
        self._max_bytes = settings.max_image_bytes
        self._timeout_s = settings.unsplash_timeout_s
        # Only API requests carry the key; the image CDN gets a plain GET from the same client.
        self._api_headers = {
            "Authorization": f"Client-ID {settings.unsplash_access_key.get_secret_value()}",
            "Accept-Version": "v1",
        }
        self._client = client or httpx.AsyncClient(
            timeout=settings.unsplash_timeout_s,
            follow_redirects=True,
            max_redirects=settings.fetch_max_redirects,
        )
        self._paused_until = 0.0
        self._warnings = WarnOnce(log)
        self._pending: OrderedDict[str, str] = OrderedDict()

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._fallback.aclose()

    @property
    def paused(self) -> bool:
        return self._clock() < self._paused_until

    async def random_photo(self, chat_key: str) -> Photo:
        if self.paused:
            return await self._fallback.random_photo(chat_key)
        try:
            photo, download_location = await self._fetch_random()
        except UnsplashFailure as failure:
            self._note_failure(failure)
            return await self._fallback.random_photo(chat_key)
        self._warnings.reset()  # a later outage is worth a new log line
        self._pending[photo.ident] = download_location
        while len(self._pending) > self.MAX_PENDING:
            self._pending.popitem(last=False)
        return photo

    async def mark_shown(self, photo: Photo) -> None:
        """Trigger Unsplash's download event for a photo we showed (the guidelines require it)."""
        location = self._pending.pop(photo.ident, None) if photo.credit.source == UNSPLASH else None
        if location is None:
            await self._fallback.mark_shown(photo)
            return
        if not self._is_api_url(location):  # never hand the key to another host
            self._note_failure(UnsplashFailure("foreign_download_location", httpx.URL(location).host))
            return
        try:
            await self._api_get(httpx.URL(location))
        except UnsplashFailure as failure:
            self._note_failure(failure)

    async def _fetch_random(self) -> tuple[Photo, str]:
        response = await self._api_get(
            self._api.join("photos/random"),
            params={"query": self._query, "orientation": "landscape", "content_filter": "high"},
        )
        try:
            payload = response.json()
            ident = _text(payload, "id")
            image_url = _text(payload, "urls", "regular")
            download_location = _text(payload, "links", "download_location")
            author = _text(payload, "user", "name")
            author_page = _text(payload, "user", "links", "html")
        except (ValueError, TypeError, KeyError) as exc:
            raise UnsplashFailure("bad_json", type(exc).__name__, pause="cooldown") from exc
        title = payload.get("alt_description") or payload.get("description") or ""
        try:
            data = await fetch_image_bytes(
                image_url, max_bytes=self._max_bytes, timeout_s=self._timeout_s, client=self._client
            )
            width, height = _image_size(data)
        except (FetchError, InvalidImageError) as exc:
            raise UnsplashFailure("image_download", str(exc)) from exc
        credit = Credit(
            title=str(title).strip(),
            author=author,
            author_url=self._with_utm(author_page),
            license="Unsplash License",
            license_url=self._with_utm("https://unsplash.com/license"),
            source=UNSPLASH,
            source_url=self._with_utm("https://unsplash.com/"),
        )
        return Photo(credit, width, height, data=data, url=image_url, ident=ident), download_location

    async def _api_get(self, url: httpx.URL, params: dict[str, str] | None = None) -> httpx.Response:
        """GET with the key in the header; statuses and transport errors become `UnsplashFailure`."""
        try:
            response = await self._client.get(url, params=params, headers=self._api_headers)
        except httpx.TimeoutException as exc:
            raise UnsplashFailure("timeout", type(exc).__name__, pause="cooldown") from exc
        except httpx.HTTPError as exc:
            raise UnsplashFailure("network", type(exc).__name__, pause="cooldown") from exc
        remaining = response.headers.get("X-Ratelimit-Remaining", "")
        if remaining.strip().isdigit() and int(remaining) <= 0:
            self._pause_until_next_hour()
            self._note_failure(UnsplashFailure("rate_limited", "X-Ratelimit-Remaining: 0"))
        status = response.status_code
        if status == 200:
            return response
        if status in (401, 403):
            raise UnsplashFailure("unauthorized" if status == 401 else "forbidden", f"HTTP {status}", pause="hour")
        if status == 429:
            raise UnsplashFailure("rate_limited", "HTTP 429", pause="hour")
        if status >= 500:
            raise UnsplashFailure("server_error", f"HTTP {status}", pause="cooldown")
        raise UnsplashFailure("http_status", f"HTTP {status}", pause="cooldown")

    def _note_failure(self, failure: UnsplashFailure) -> None:
        if failure.pause == "hour":
            self._pause_until_next_hour()
        elif failure.pause == "cooldown":
            self._paused_until = max(self._paused_until, self._clock() + self.COOLDOWN_S)
        message = "Unsplash unavailable (%s: %s); using the gallery"
        self._warnings.warn(failure.kind, message, failure.kind, failure.detail)

    def _pause_until_next_hour(self) -> None:
        next_hour = (self._clock() // 3600 + 1) * 3600
        self._paused_until = max(self._paused_until, next_hour)

    def _is_api_url(self, url: str) -> bool:
        target = httpx.URL(url)
        return (target.scheme, target.host, target.port) == (self._api.scheme, self._api.host, self._api.port)

    def _with_utm(self, url: str) -> str:
        return str(httpx.URL(url).copy_merge_params(self._utm))


def _text(payload: Any, *keys: str) -> str:
    """payload[k1][k2]... as a non-empty string, or KeyError/TypeError."""
    value = payload
    for key in keys:
        value = value[key]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{'.'.join(keys)} is not a non-empty string")
    return value


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidImageError("not_image", "Unsplash image is not a picture") from exc


def build_photo_source(
    settings: PipelineSettings, *, bag_state: MutableMapping[str, list[str]] | None = None
) -> PhotoSource:
    """Unsplash (with the gallery as fallback) when a key is set, else the gallery alone.

    `bag_state` lets the bot persist the per-chat shuffle bags of the gallery.
    """
    gallery = GallerySource(bag_state=bag_state)
    key = settings.unsplash_access_key
    if key is None or not key.get_secret_value():
        return gallery
    return UnsplashSource(settings, fallback=gallery)
