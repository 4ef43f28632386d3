"""Photo sources: the bundled gallery's integrity, the per-chat shuffle bag, and the Unsplash client
against a loopback fake (success, download event, every failure → gallery, rate limit, key hygiene)."""

from __future__ import annotations

import io
import itertools
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.photos import (
    GALLERY_DIR,
    UNSPLASH,
    Credit,
    GallerySource,
    Photo,
    ShuffleBag,
    UnsplashSource,
    build_photo_source,
    license_label,
    load_gallery,
)
from pipeline.config import PipelineSettings
from tools.fake_unsplash import AUTHOR, PHOTO_ID, FakeUnsplash

ALLOWED_LICENSES = {
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "GPL-2.0-or-later",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "BSD-2-Clause",
}
KEY = "sekret-access-key-0123456789"
HOUR = 3600.0


# --- gallery -----------------------------------------------------------------------------------------------


def test_gallery_files_and_credits_match() -> None:
    entries = load_gallery()
    listed = [entry.file for entry in entries]
    on_disk = sorted(path.name for path in GALLERY_DIR.glob("*.jpg"))
    assert 20 <= len(entries) <= 30
    assert len(set(listed)) == len(listed)
    assert sorted(listed) == on_disk
    assert not [p.name for p in GALLERY_DIR.iterdir() if p.suffix.lower() in {".png", ".jpeg", ".webp"}]


def test_gallery_photos_decode_within_limits() -> None:
    total = 0
    for entry in load_gallery():
        data = entry.path.read_bytes()
        total += len(data)
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            assert img.format == "JPEG", entry.file
            assert img.mode == "RGB", entry.file
            assert max(img.size) <= 1600, entry.file
            assert img.size == (entry.width, entry.height), entry.file
            assert img.width > img.height, f"{entry.file} is not landscape-oriented"
            assert not img.getexif(), f"{entry.file} keeps EXIF"
            assert "icc_profile" not in img.info and "comment" not in img.info, entry.file
    assert total < 8_000_000


def test_gallery_credits_are_complete_and_licences_allowed() -> None:
    for entry in load_gallery():
        assert entry.license in ALLOWED_LICENSES, entry.file
        assert entry.license_url and entry.license_url.startswith("https://"), entry.file
        assert entry.author.strip() and entry.title.strip() and entry.scene.strip(), entry.file
        assert entry.source == f"Debian package {entry.package}", entry.file
        assert entry.source_url == f"https://packages.debian.org/bookworm/{entry.package}", entry.file


def test_gallery_notices_cover_every_photo_and_ship_required_texts() -> None:
    notice = (GALLERY_DIR / "NOTICE.md").read_text(encoding="utf-8")
    entries = load_gallery()
    for entry in entries:
        assert f"## {entry.file} " in notice and entry.author in notice
    texts = {path.name for path in (GALLERY_DIR / "LICENSES").iterdir()}
    needs = {"GPL-2.0-or-later": "GPL-2.0.txt", "LGPL-3.0-only": "LGPL-3.0.txt", "BSD-2-Clause": "BSD-2-Clause.txt"}
    for entry in entries:
        if entry.license in needs:
            assert needs[entry.license] in texts, entry.license
    if any(entry.license == "LGPL-3.0-only" for entry in entries):
        assert "GPL-3.0.txt" in texts  # the LGPL-3.0 is additional permissions on the GPL-3.0


def test_load_gallery_does_not_depend_on_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_gallery()[0].path.is_file()


def test_credit_line_pt() -> None:
    gallery = Credit("Aitzgorri", "Aitzol Berasategi", None, "CC-BY-4.0", None, "Debian lomiri-wallpapers-16.04", None)
    assert gallery.line_pt() == "“Aitzgorri” — foto de Aitzol Berasategi · CC BY 4.0 · Debian lomiri-wallpapers-16.04"
    unsplash = Credit("", "Ana", "https://u/@ana", "Unsplash License", None, UNSPLASH, "https://unsplash.com/")
    assert unsplash.line_pt() == "Foto de Ana no Unsplash"
    assert license_label("CC-BY-SA-4.0") == "CC BY-SA 4.0"
    assert license_label("CC0-1.0") == "CC0 1.0"
    assert license_label("GPL-2.0-or-later") == "GPL-2.0-or-later"


async def test_gallery_source_returns_real_photos_with_credits() -> None:
    source = GallerySource(rng=random.Random(1))
    photo = await source.random_photo("chat")
    with Image.open(io.BytesIO(photo.data or b"")) as img:
        assert img.size == (photo.width, photo.height)
    assert photo.ident.endswith(".jpg") and photo.url is None
    assert photo.credit.source.startswith("Debian ") and photo.credit.license in ALLOWED_LICENSES
    assert " — foto de " in photo.credit.line_pt() or photo.credit.line_pt().startswith("Foto de ")
    await source.mark_shown(photo)  # a no-op that must not fail


# --- shuffle bag ---------------------------------------------------------------------------------------------


def test_a_chat_sees_every_item_before_a_repeat() -> None:
    items = [f"p{i}" for i in range(7)]
    bag = ShuffleBag(items, rng=random.Random(3))
    shown = [bag.next("chat") for _ in range(7 * 5)]
    for round_start in range(0, len(shown), 7):
        assert sorted(shown[round_start : round_start + 7]) == items
    assert all(a != b for a, b in itertools.pairwise(shown)), "no photo twice in a row"


def test_two_chats_are_independent() -> None:
    items = [f"p{i}" for i in range(5)]
    bag = ShuffleBag(items, rng=random.Random(4))
    seen: dict[str, list[str]] = {"a": [], "b": []}
    for chat in ["a", "a", "b", "a", "b", "b", "b", "a", "b", "a"]:
        seen[chat].append(bag.next(chat))
    assert sorted(seen["a"]) == items and sorted(seen["b"]) == items


def test_bag_state_is_bounded_and_persistable() -> None:
    items = ["x", "y", "z"]
    state: dict[str, list[str]] = {}
    bag = ShuffleBag(items, state=state, max_chats=2, rng=random.Random(5))
    seen_by_a = [bag.next("a")]
    bag.next("b")
    seen_by_a.append(bag.next("a"))  # "a" is now the most recently used chat
    bag.next("c")  # evicts "b"
    assert set(state) == {"a", "c"}
    assert all(isinstance(left, list) for left in state.values())
    # A new bag over the saved state (as after a restart) finishes a's round without repeats.
    again = ShuffleBag(items, state=state, max_chats=2, rng=random.Random(6))
    seen_by_a.append(again.next("a"))
    assert sorted(seen_by_a) == items


def test_bag_drops_items_that_left_the_gallery() -> None:
    state = {"a": ["gone.jpg", "old.jpg"]}
    bag = ShuffleBag(["new1", "new2"], state=state, rng=random.Random(7))
    assert {bag.next("a"), bag.next("a")} == {"new1", "new2"}


async def test_gallery_source_uses_the_bag_per_chat() -> None:
    entries = load_gallery()
    source = GallerySource(entries, rng=random.Random(8))
    idents = [(await source.random_photo("chat")).ident for _ in entries]
    assert sorted(idents) == sorted(entry.file for entry in entries)


# --- Unsplash ------------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeUnsplash]:
    async with FakeUnsplash() as server:
        yield server


def unsplash_settings(fake: FakeUnsplash, **overrides: Any) -> PipelineSettings:
    values: dict[str, Any] = {
        "unsplash_access_key": KEY,
        "unsplash_api_url": fake.url,
        "unsplash_timeout_s": 0.5,
        "app_name": "conta_test",
        **overrides,
    }
    return PipelineSettings(_env_file=None, **values)


@pytest.fixture
async def make_source(fake: FakeUnsplash) -> AsyncIterator:
    sources: list[UnsplashSource] = []

    def make(clock: FakeClock | None = None) -> UnsplashSource:
        gallery = GallerySource(rng=random.Random(9))
        source = UnsplashSource(unsplash_settings(fake), gallery, clock=clock or FakeClock(10 * HOUR + 60))
        sources.append(source)
        return source

    yield make
    for source in sources:
        await source.aclose()


def is_gallery(photo: Photo) -> bool:
    return photo.credit.source.startswith("Debian ") and (GALLERY_DIR / photo.ident).is_file()


def assert_key_hygiene(fake: FakeUnsplash, caplog: pytest.LogCaptureFixture) -> None:
    assert all(KEY not in r.url for r in fake.requests)
    assert KEY not in caplog.text


async def test_unsplash_success(fake: FakeUnsplash, make_source, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    photo = await make_source().random_photo("chat")
    assert photo.data == fake.image and (photo.width, photo.height) == (96, 64)
    assert photo.ident == PHOTO_ID and photo.url and photo.url.startswith(fake.url)
    credit = photo.credit
    assert credit.source == UNSPLASH and credit.author == AUTHOR
    assert credit.line_pt() == f"Foto de {AUTHOR} no Unsplash"
    assert credit.title == "green hills under a blue sky"
    assert credit.author_url == "https://unsplash.com/@ana?utm_source=conta_test&utm_medium=referral"
    assert credit.source_url == "https://unsplash.com/?utm_source=conta_test&utm_medium=referral"
    (api,) = fake.requests_to("/photos/random")
    assert api.query == {"query": "landscape", "orientation": "landscape", "content_filter": "high"}
    assert api.headers["Authorization"] == f"Client-ID {KEY}"
    assert api.headers["Accept-Version"] == "v1"
    (image,) = [r for r in fake.requests if r.path.startswith("/images/")]
    assert "Authorization" not in image.headers  # the key goes to the API only
    assert_key_hygiene(fake, caplog)


async def test_mark_shown_triggers_the_download_event(fake: FakeUnsplash, make_source) -> None:
    source = make_source()
    photo = await source.random_photo("chat")
    assert not fake.requests_to(f"/photos/{PHOTO_ID}/download")
    await source.mark_shown(photo)
    (event,) = fake.requests_to(f"/photos/{PHOTO_ID}/download")
    assert event.query == {"ixid": "abc"} and event.headers["Authorization"] == f"Client-ID {KEY}"
    await source.mark_shown(photo)  # once per photo shown
    assert len(fake.requests_to(f"/photos/{PHOTO_ID}/download")) == 1


async def test_mark_shown_never_sends_the_key_to_another_host(fake: FakeUnsplash, make_source) -> None:
    async with FakeUnsplash() as other:  # another origin (port) on loopback
        fake.download_location = f"{other.url}/photos/{PHOTO_ID}/download"
        source = make_source()
        await source.mark_shown(await source.random_photo("chat"))
        assert other.requests == []


async def test_mark_shown_on_a_fallback_photo_calls_nothing(fake: FakeUnsplash, make_source) -> None:
    fake.mode = 500
    source = make_source()
    photo = await source.random_photo("chat")
    count = len(fake.requests)
    await source.mark_shown(photo)
    assert is_gallery(photo) and len(fake.requests) == count


@pytest.mark.parametrize("mode", [401, 403, 429, 500, 503, "hang", "bad_json", "image_fail"])
async def test_failures_fall_back_to_the_gallery(
    fake: FakeUnsplash, make_source, caplog: pytest.LogCaptureFixture, mode: str | int
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.mode = mode
    photo = await make_source().random_photo("chat")
    assert is_gallery(photo) and photo.data
    assert len(fake.requests_to("/photos/random")) == 1
    warnings = [r for r in caplog.records if r.name == "app.photos" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert_key_hygiene(fake, caplog)


async def test_failure_kind_is_logged_once(fake: FakeUnsplash, make_source, caplog) -> None:
    caplog.set_level(logging.INFO, logger="app.photos")
    fake.mode = "image_fail"  # no back-off for a broken image: each call asks again
    source = make_source()
    for _ in range(3):
        assert is_gallery(await source.random_photo("chat"))
    assert len(fake.requests_to("/photos/random")) == 3
    assert len([r for r in caplog.records if "image_download" in r.getMessage()]) == 1


async def test_server_errors_back_off_briefly(fake: FakeUnsplash, make_source) -> None:
    clock = FakeClock(10 * HOUR)
    source = make_source(clock)
    fake.mode = 500
    await source.random_photo("chat")
    fake.mode = "ok"
    assert is_gallery(await source.random_photo("chat"))
    assert len(fake.requests_to("/photos/random")) == 1
    clock.now += UnsplashSource.COOLDOWN_S + 1
    assert (await source.random_photo("chat")).ident == PHOTO_ID


async def test_rate_limit_pauses_until_the_hour_turns(
    fake: FakeUnsplash, make_source, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock(10 * HOUR + 600)  # 10:10
    source = make_source(clock)
    fake.remaining = 0
    first = await source.random_photo("chat")
    assert first.ident == PHOTO_ID  # the answer that used the last request is still good
    fake.remaining = 49
    for minute in (11, 30, 59):
        clock.now = 10 * HOUR + minute * 60
        assert is_gallery(await source.random_photo("chat"))
    assert len(fake.requests_to("/photos/random")) == 1
    clock.now = 11 * HOUR + 1
    assert (await source.random_photo("chat")).ident == PHOTO_ID
    assert len(fake.requests_to("/photos/random")) == 2
    assert_key_hygiene(fake, caplog)


async def test_refused_key_pauses_until_the_hour_turns(fake: FakeUnsplash, make_source) -> None:
    clock = FakeClock(10 * HOUR + 60)
    source = make_source(clock)
    fake.mode = 401
    for minute in (1, 5, 59):  # well past the short cool-down of transient errors
        clock.now = 10 * HOUR + minute * 60
        assert is_gallery(await source.random_photo("chat"))
    assert len(fake.requests_to("/photos/random")) == 1
    clock.now = 11 * HOUR
    await source.random_photo("chat")
    assert len(fake.requests_to("/photos/random")) == 2


async def test_build_photo_source_picks_by_key() -> None:
    assert build_photo_source(PipelineSettings(_env_file=None, unsplash_access_key=None)).name == "gallery"
    assert build_photo_source(PipelineSettings(_env_file=None, unsplash_access_key="")).name == "gallery"
    source = build_photo_source(PipelineSettings(_env_file=None, unsplash_access_key=KEY))
    assert isinstance(source, UnsplashSource)
    await source.aclose()
