"""The web page's API through aiohttp's test client, with the light fake backends: the happy path, each bad
input, the limits (per IP, per minute, a full queue, memory), expiry, path traversal and the security headers."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

import bot
from app.photos import GallerySource
from app.settings import AppSettings
from app.store import Store
from app.work_queue import WorkQueue
from handlers import texts as bot_texts
from pipeline.core import Pipeline
from pipeline.events import StoryKind, StoryLength, StoryOptions
from pipeline.names import MAX_WORDS_CHARS
from tools.bot_harness import running_bot
from tools.fake_backends import Behaviour, FakeBackends, fake_backends
from web import WebPage, standalone
from web import texts as web_texts
from web.forms import MAX_PARTS, WORDS_FIELD_BYTES
from web.security import CSP
from web.starting import credit_parts
from web.static import STATIC_DIR

EVERYDAY = Path(__file__).parents[1] / "data" / "everyday"
PHOTO = (EVERYDAY / "kitten.jpg").read_bytes()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    client: TestClient
    page: WebPage
    backends: FakeBackends
    queue: WorkQueue
    clock: Clock


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


async def make_site(store: Store | None = None, **overrides: Any) -> AsyncIterator[Site]:
    values: dict[str, Any] = {"web_port": 0, "running_jobs": 1, "max_waiting": 5, **overrides}
    settings = AppSettings(_env_file=None, **values)
    backends = fake_backends()
    queue = WorkQueue(max_running=settings.running_jobs, max_waiting=settings.max_waiting)
    clock = Clock()
    page = WebPage(settings, Pipeline(settings, backends), GallerySource(), queue, store=store, clock=clock)
    queue.start()
    client = TestClient(TestServer(page.application()))
    await client.start_server()
    try:
        yield Site(client, page, backends, queue, clock)
    finally:
        await client.close()
        await queue.close(1.0)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async for value in make_site():
        yield value


def form(data: bytes | None, filename: str = "foto.jpg", voice: str | None = None, **choices: str) -> FormData:
    body = FormData(default_to_multipart=True)
    if voice is not None:
        body.add_field("voice", voice)
    for name, value in choices.items():  # kind, length, hint, main_character
        body.add_field(name, value)
    if data is not None:
        body.add_field("photo", data, filename=filename, content_type="image/jpeg")
    return body


async def upload(site: Site, data: bytes | None = PHOTO, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = await site.client.post("/api/stories", data=form(data, **kwargs))
    return response.status, await response.json()


async def events(site: Site, url: str, headers: dict[str, str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Read a story's event stream to its end."""
    response = await site.client.get(url, headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    found: list[tuple[str, dict[str, Any]]] = []
    for block in (await asyncio.wait_for(response.text(), 10)).split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


async def test_upload_streams_caption_story_and_voice(site: Site) -> None:
    status, started = await upload(site, voice="en")
    assert status == 202, started
    assert len(started["id"]) == 32 and started["events"] == f"/api/stories/{started['id']}/events"
    stream = await events(site, started["events"])
    names = [name for name, _ in stream]
    assert names.index("caption") < names.index("story") < names.index("voice") < names.index("done") == len(names) - 1
    assert names[0] == "stage"
    data = dict(stream)
    assert data["caption"]["caption_pt"].startswith("[pt] a test picture")
    assert data["story"]["story_en"].startswith("Once upon a time")
    assert data["voice"]["language"] == "en" and data["voice"]["url"] == started["voice"]
    assert data["stage"]["message"]  # Portuguese progress text

    voice = await site.client.get(started["voice"])
    assert voice.status == 200 and voice.headers["Content-Type"] == "audio/ogg"
    assert (await voice.read()).startswith(b"OggS")
    download = await site.client.get(data["voice"]["download_url"])
    assert download.headers["Content-Disposition"].startswith("attachment")
    partial = await site.client.get(started["voice"], headers={"Range": "bytes=0-99"})
    assert partial.status == 206 and len(await partial.read()) == 100
    assert partial.headers["Content-Range"].startswith("bytes 0-99/")
    photo = await site.client.get(started["photo"])
    assert photo.headers["Content-Type"] == "image/jpeg" and await photo.read() == PHOTO

    snapshot = await (await site.client.get(started["url"])).json()
    assert snapshot["status"] == "finished" and snapshot["caption_pt"] == data["caption"]["caption_pt"]
    assert snapshot["voice"]["url"] == started["voice"] and snapshot["error"] is None


async def test_any_replica_on_the_same_store_serves_a_story_told_by_another(tmp_path: Path) -> None:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await store.open()
    async for teller in make_site(store):
        async for other in make_site(store):
            teller.backends.story_writer.behaviour = Behaviour(delay=1.0)  # followed live, not only at its end
            _, started = await upload(teller, voice="en")
            live = asyncio.create_task(events(other, started["events"]))
            told = await events(teller, started["events"])
            assert await live == told  # every event, in order, through the replica that does not tell it
            for url in (started["voice"], started["photo"]):
                assert await (await other.client.get(url)).read() == await (await teller.client.get(url)).read()
            snapshot = await (await other.client.get(started["url"])).json()
            assert snapshot["status"] == "finished" and snapshot["story_en"] == dict(told)["story"]["story_en"]
            assert (await other.client.get(started["url"].replace(started["id"], "x" * 32))).status == 404
    assert await store.forget_expired_web_stories() == 0  # alive until WEB_STORY_TTL_S
    await store.close()


async def test_events_resume_after_last_event_id(site: Site) -> None:
    _, started = await upload(site)
    everything = await events(site, started["events"])
    rest = await events(site, started["events"], headers={"Last-Event-ID": "2"})
    assert rest == everything[3:]


async def test_random_photo_has_its_credit_and_its_story(site: Site) -> None:
    response = await site.client.post("/api/stories/random?voice=pt")
    assert response.status == 202
    started = await response.json()
    credit = started["credit"]
    assert credit["author"] and credit["license"] and "foto de" in credit["line"].lower()
    assert "".join(part["text"] for part in credit["parts"]) == credit["line"]
    assert any(part.get("url", "").startswith("http") for part in credit["parts"])
    photo = await site.client.get(started["photo"])
    assert photo.status == 200 and photo.headers["Content-Type"] == "image/jpeg"
    names = [name for name, _ in await events(site, started["events"])]
    assert {"caption", "story", "voice", "done"} <= set(names)
    assert dict(await events(site, started["events"]))["voice"]["language"] == "pt"


async def test_kind_and_length_reach_the_story_writer(site: Site) -> None:
    seen = site.backends.story_writer.options_seen
    status, started = await upload(site, voice="en", kind="poem", length="short")  # the form's four fields
    assert status == 202 and (started["kind"], started["length"]) == ("poem", "short")
    await events(site, started["events"])
    assert seen[-1] == StoryOptions("poem", "short")
    snapshot = await (await site.client.get(started["url"])).json()
    assert (snapshot["kind"], snapshot["length"]) == ("poem", "short")

    _, started = await upload(site, kind=" Bedtime ", length="")  # trimmed, any case; empty is the default
    await events(site, started["events"])
    assert seen[-1] == StoryOptions("bedtime", "medium")
    _, started = await upload(site)  # the defaults: classic, medium
    await events(site, started["events"])
    assert seen[-1] == StoryOptions("classic", "medium")

    response = await site.client.post("/api/stories/random?voice=en&kind=mystery&length=long")
    assert response.status == 202
    await events(site, (await response.json())["events"])
    assert seen[-1] == StoryOptions("mystery", "long")
    body = FormData({"kind": "funny", "length": "short"})  # in a form body, as a plain HTML form sends it
    response = await site.client.post("/api/stories/random", data=body)
    assert response.status == 202
    await events(site, (await response.json())["events"])
    assert seen[-1] == StoryOptions("funny", "short")


@pytest.mark.parametrize(
    ("fields", "reason", "words"),
    [
        ({"kind": "novela"}, "bad_kind", "Estilo de história desconhecido"),
        ({"kind": "poema"}, "bad_kind", "“poem”"),
        ({"length": "enorme"}, "bad_length", "Tamanho de história desconhecido"),
        ({"length": "200"}, "bad_length", "“short”, “medium” ou “long”"),
    ],
)
async def test_unknown_kind_or_length_is_refused(site: Site, fields: dict[str, str], reason: str, words: str) -> None:
    code, body = await upload(site, PHOTO, **fields)
    assert (code, body["error"]) == (400, reason) and words in body["message"]
    query = "&".join(f"{name}={value}" for name, value in fields.items())
    response = await site.client.post(f"/api/stories/random?{query}")
    assert response.status == 400 and (await response.json())["error"] == reason
    assert site.page.stories.total_bytes == 0 and site.backends.story_writer.options_seen == []


async def test_own_words_and_main_character_reach_the_story_writer(site: Site) -> None:
    """The user's words about the photo and the hero, as written, become the facts the writer sees: translated
    ("[en] …" from the fake words translator) with names and places kept exactly, accents included."""
    writer = site.backends.story_writer
    status, started = await upload(site, hint="  minha filha Iara em Gramado ")
    assert status == 202 and started["hint"] == "minha filha Iara em Gramado" and started["main_character"] == ""
    await events(site, started["events"])
    assert writer.options_seen[-1] == StoryOptions(hint="minha filha Iara em Gramado")
    facts = writer.facts_seen[-1]
    assert facts.told == "[en] minha filha Iara em Gramado"
    assert (facts.names, facts.hero, facts.main_character) == (("Iara", "Gramado"), "Iara", None)
    snapshot = await (await site.client.get(started["url"])).json()
    assert (snapshot["hint"], snapshot["main_character"]) == ("minha filha Iara em Gramado", "")

    status, started = await upload(site, kind="poem", hint="vovô Antônio no sítio", main_character="Pipoca, a gata")
    assert status == 202
    await events(site, started["events"])
    assert writer.options_seen[-1] == StoryOptions("poem", "medium", "Pipoca, a gata", "vovô Antônio no sítio")
    facts = writer.facts_seen[-1]
    assert (facts.told, facts.main_character) == ("[en] vovô Antônio no rancho", "[en] Pipoca, a gata")  # clearer
    assert (facts.hero, facts.names) == ("Pipoca", ("Pipoca", "Antônio"))  # the main character is the hero

    # The random photo takes them in a form body (as the page sends them), a JSON object, or the query.
    body = FormData({"hint": "Iara em Gramado", "main_character": "Thor, nosso cachorro"})
    response = await site.client.post("/api/stories/random", data=body)
    assert response.status == 202
    await events(site, (await response.json())["events"])
    facts = writer.facts_seen[-1]
    assert (facts.hero, facts.names, facts.main_character) == (
        "Thor",
        ("Thor", "Iara", "Gramado"),
        "[en] Thor, nosso cachorro",
    )
    response = await site.client.post("/api/stories/random", json={"kind": "fable", "hint": "Antônio em Curitiba"})
    assert response.status == 202 and (await response.json())["hint"] == "Antônio em Curitiba"
    await events(site, (await response.json())["events"])
    assert writer.options_seen[-1] == StoryOptions("fable", hint="Antônio em Curitiba")
    assert writer.facts_seen[-1].names == ("Antônio", "Curitiba") and writer.facts_seen[-1].hero == "Antônio"
    response = await site.client.post("/api/stories/random", params={"main_character": "Antônio"})
    assert response.status == 202
    await events(site, (await response.json())["events"])
    assert writer.facts_seen[-1].hero == "Antônio" and writer.facts_seen[-1].told is None

    exactly = "a" * MAX_WORDS_CHARS  # the limit itself is allowed
    status, started = await upload(site, hint=exactly)
    assert status == 202
    await events(site, started["events"])
    assert writer.options_seen[-1] == StoryOptions(hint=exactly)


TOO_LONG = "minha filha Iara brincando no parque " * 6  # 222 characters


@pytest.mark.parametrize(
    ("field", "text", "reason", "words"),
    [
        ("hint", TOO_LONG, "hint_too_long", f"O texto sobre a foto pode ter até {MAX_WORDS_CHARS} caracteres"),
        ("hint", "x" * (WORDS_FIELD_BYTES + 1), "hint_too_long", "pode ter até 200 caracteres"),  # cut while read
        (
            "main_character",
            TOO_LONG,
            "main_character_too_long",
            "A descrição do personagem principal pode ter até 200 caracteres",
        ),
        ("hint", "a arma do Antônio", "hint_unsuitable", "minhas histórias são para crianças"),
        ("main_character", "o assassino Thor", "main_character_unsuitable", "não posso usar esse personagem"),
    ],
    ids=["hint-too-long", "hint-far-too-long", "character-too-long", "hint-unsuitable", "character-unsuitable"],
)
async def test_words_too_long_or_unsuitable_are_refused_before_any_story(
    site: Site, field: str, text: str, reason: str, words: str
) -> None:
    code, body = await upload(site, PHOTO, **{field: text})
    assert (code, body["error"], body["field"]) == (400, reason, field) and words in body["message"]
    response = await site.client.post("/api/stories/random", data=FormData({field: text}))
    assert response.status == 400 and (await response.json())["error"] == reason
    response = await site.client.post("/api/stories/random", json={field: text})
    assert response.status == 400 and (await response.json())["message"] == body["message"]
    assert len(site.page.stories) == 0 and site.page.stories.total_bytes == 0  # nothing kept, nothing started
    assert site.backends.story_writer.options_seen == [] and site.backends.captioner.seen_sizes == []


async def test_sentences_stream_live_before_the_whole_story(site: Site) -> None:
    writer = site.backends.story_writer
    writer.streams, writer.sentence_delay_s = True, 0.2
    _, started = await upload(site)
    response = await site.client.get(started["events"])
    arrived: list[tuple[str, dict[str, Any], float]] = []  # each event as it arrives, with when
    name = ""
    async with asyncio.timeout(10):
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                arrived.append((name, json.loads(line.removeprefix("data: ")), time.monotonic()))
    names = [name for name, _, _ in arrived]
    assert names.count("sentence") == 3
    first, last = names.index("sentence"), len(names) - 1 - names[::-1].index("sentence")
    assert names.index("caption") < first and last < names.index("story") < names.index("voice")
    assert names[first : last + 1] == ["sentence"] * 3
    sentences = [data for name, data, _ in arrived if name == "sentence"]
    story = next(data for name, data, _ in arrived if name == "story")
    assert " ".join(s["sentence_en"] for s in sentences) == story["story_en"]
    assert " ".join(s["sentence_pt"] for s in sentences) == story["story_pt"]
    assert sentences[0]["sentence_en"].startswith("Once upon a time there was a test picture")
    assert sentences[0]["sentence_pt"] == f"[pt] {sentences[0]['sentence_en']}"  # each translated as it comes
    # Live, not sent all at once at the end: the first sentence came well before the whole story.
    at = {name: when for name, _, when in reversed(arrived)}  # the first of each
    assert at["story"] - at["sentence"] >= 0.3


@pytest.mark.parametrize(
    ("data", "status", "reason", "words"),
    [
        (b"Querida vov\xc3\xb3, isto \xc3\xa9 um texto.\n" * 20, 400, "not_image", "não parece ser uma imagem"),
        (b"", 400, "empty", "vazio"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 400, "not_image", "não parece ser uma imagem"),
    ],
    ids=["text-renamed-jpg", "empty", "broken-png-header"],
)
async def test_bad_inputs_get_portuguese_errors(site: Site, data: bytes, status: int, reason: str, words: str) -> None:
    code, body = await upload(site, data)
    assert (code, body["error"]) == (status, reason)
    assert words in body["message"]
    assert site.page.stories.total_bytes == 0  # nothing kept


async def test_truncated_photo_fails_in_its_event_stream(site: Site) -> None:
    """The header passes the upload's check; the pipeline's decoding finds the rest missing."""
    code, started = await upload(site, PHOTO[:2000])
    assert code == 202
    stream = await events(site, started["events"])
    assert stream[-1][0] == "failed" and stream[-1][1]["reason"] == "corrupt"
    assert "corrompido" in stream[-1][1]["message"]
    snapshot = await (await site.client.get(started["url"])).json()
    assert snapshot["status"] == "finished" and snapshot["error"]["reason"] == "corrupt"


async def test_unsupported_format_is_named() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "TIFF")
    async for site in make_site():
        code, body = await upload(site, buffer.getvalue(), filename="foto.tiff")
        assert (code, body["error"]) == (400, "unsupported_format") and "HEIC, TIFF" in body["message"]


async def test_too_big_is_refused_before_and_while_reading() -> None:
    async for site in make_site(max_image_bytes=200_000):
        code, body = await upload(site, png() + b"\x00" * 200_000)  # the body streams: cut while reading
        assert (code, body["error"]) == (413, "too_large")
        assert "grande demais para mim (máximo 0,2 MB)" in body["message"]
        huge = b"\xff\xd8\xff" + b"\x00" * 300_000  # over the form's allowance: refused from Content-Length
        response = await site.client.post(
            "/api/stories", data=huge, headers={"Content-Type": "multipart/form-data; boundary=x"}
        )
        assert response.status == 413 and (await response.json())["error"] == "too_large"


async def test_too_many_pixels() -> None:
    async for site in make_site(max_image_pixels=1000):
        code, body = await upload(site, png(100, 100))
        assert (code, body["error"]) == (413, "too_many_pixels") and "pixels demais" in body["message"]


async def test_malformed_requests(site: Site) -> None:
    code, body = await upload(site, None)
    assert (code, body["error"]) == (400, "no_photo") and "Nenhuma foto" in body["message"]
    response = await site.client.post("/api/stories", data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status == 400 and "multipart" in (await response.json())["message"]
    code, body = await upload(site, voice="fr")
    assert (code, body["error"]) == (400, "bad_voice")
    many = FormData()
    for index in range(MAX_PARTS + 1):
        many.add_field(f"campo{index}", "x")
    response = await site.client.post("/api/stories", data=many)
    assert response.status == 400 and (await response.json())["error"] == "bad_request"
    response = await site.client.post(
        "/api/stories/random", data=b"[1, 2]", headers={"Content-Type": "application/json"}
    )  # a JSON body must be an object
    assert response.status == 400 and "objeto JSON" in (await response.json())["message"]
    response = await site.client.post("/api/stories/random", data=b"{", headers={"Content-Type": "application/json"})
    assert response.status == 400 and (await response.json())["error"] == "bad_request"


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/stories"), ("PUT", "/"), ("DELETE", "/api/stories")])
async def test_wrong_method(site: Site, method: str, path: str) -> None:
    response = await site.client.request(method, path)
    assert response.status == 405
    body = await response.json()
    assert body["error"] == "method_not_allowed" and method in body["message"]
    assert response.headers["Content-Security-Policy"] == CSP


async def test_per_ip_limit_in_flight_goes_through_the_queue() -> None:
    async for site in make_site(web_per_ip_jobs=2, web_per_ip_per_minute=100):
        site.backends.captioner.behaviour.delay = 0.5
        first, second = await upload(site), await upload(site)
        assert first[0] == second[0] == 202
        assert site.queue.per_key["web_ip"] == 2
        code, body = await upload(site)
        assert (code, body["error"]) == (429, "ip_limit") and "fila" in body["message"]
        await events(site, second[1]["events"])  # once they are done, the address may send again
        assert (await upload(site))[0] == 202


async def test_per_ip_limit_per_minute() -> None:
    async for site in make_site(web_per_ip_per_minute=2, web_per_ip_jobs=10):
        assert (await upload(site))[0] == (await upload(site))[0] == 202
        response = await site.client.post("/api/stories", data=form(PHOTO))
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
        assert (await response.json())["error"] == "rate_limited"
        assert (await site.client.post("/api/stories/random")).status == 429  # the random photo counts too
        site.clock.now += 61
        assert (await upload(site))[0] == 202


async def test_full_queue_gets_a_polite_message_and_the_line_is_shown() -> None:
    async for site in make_site(running_jobs=1, max_waiting=1, web_per_ip_jobs=10, web_per_ip_per_minute=100):
        site.backends.captioner.behaviour.delay = 1.0
        running = (await upload(site))[1]
        await asyncio.sleep(0.1)
        code, waiting = await upload(site)
        assert code == 202 and waiting["position"] == 1 and "nº 1" in waiting["message"]
        code, body = await upload(site)
        assert (code, body["error"]) == (503, "busy") and "muito movimento" in body["message"]
        assert body["waiting"] == 1 and "1 histórias na fila" in body["message"]
        stream = await events(site, waiting["events"])
        assert stream[0] == ("queued", {"position": 1, "message": "⏳ Na fila: você é o nº 1. Já já chega a sua vez!"})
        assert stream[-1][0] == "done"
        assert (await site.client.get(running["url"])).status == 200


async def test_stories_expire_with_their_photo_and_voice() -> None:
    async for site in make_site(web_story_ttl_s=60):
        _, started = await upload(site)
        await events(site, started["events"])
        for url in (started["url"], started["photo"], started["voice"], started["events"]):
            assert (await site.client.get(url)).status == 200, url
        site.clock.now += 61
        for url in (started["url"], started["photo"], started["voice"], started["events"]):
            response = await site.client.get(url)
            assert response.status == 404, url
            assert "expirou" in (await response.json())["message"]
        assert site.page.stories.cleanup_expired() == 1 and len(site.page.stories) == 0


async def test_memory_bound_evicts_finished_stories_and_refuses_when_full() -> None:
    async for site in make_site(web_max_stored_mb=0, web_per_ip_per_minute=100):
        site.page.stories.max_bytes = len(PHOTO) + 5000
        _, first = await upload(site)
        await events(site, first["events"])
        site.backends.captioner.behaviour.delay = 1.0
        assert (await upload(site))[0] == 202  # the finished one made room
        assert (await site.client.get(first["url"])).status == 404
        code, body = await upload(site)  # the second is still running: no room
        assert (code, body["error"]) == (503, "busy")


async def test_unknown_and_malformed_ids(site: Site) -> None:
    for path in ("/api/stories/" + "A" * 32, "/api/stories/short/voice", "/api/stories/random"):
        response = await site.client.get(path)
        assert response.status == 404 and (await response.json())["error"] == "not_found"


async def test_voice_before_it_exists(site: Site) -> None:
    site.backends.story_writer.behaviour.delay = 0.5
    _, started = await upload(site)
    response = await site.client.get(started["voice"])
    assert response.status == 404 and (await response.json())["error"] == "voice_not_ready"
    await events(site, started["events"])


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/app.js/../../server.py",
        "/static/app.js",
        "/server.py",
        "/web/server.py",
        "/..%2fserver.py",
        "/api/stories/..%2f..%2fserver.py/photo",
        "/%2e%2e%2fstories.py",
        "/index.html",
        "/.env",
    ],
)
async def test_no_path_traversal(site: Site, path: str) -> None:
    response = await site.client.get(path)
    assert response.status == 404
    body = await response.read()
    assert b"import" not in body and b"root:" not in body


async def test_page_headers_csp_and_no_cookies(site: Site) -> None:
    response = await site.client.get("/")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/html")
    html = await response.text()
    assert '<html lang="pt-BR">' in html and "{{" not in html and f'data-max-bytes="{20 * 1024 * 1024}"' in html
    csp = response.headers["Content-Security-Policy"]
    assert csp == CSP
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    again = await site.client.get("/", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304
    _, started = await upload(site)
    for url in (started["url"], started["events"], started["photo"]):
        answer = await site.client.get(url)
        assert answer.headers["Content-Security-Policy"] == CSP and "Set-Cookie" not in answer.headers
        await answer.read()
    assert len(site.client.session.cookie_jar) == 0


def test_page_is_small_and_has_no_inline_code() -> None:
    sizes = {path.name: path.stat().st_size for path in STATIC_DIR.iterdir()}
    assert sum(sizes.values()) < 100 * 1024, sizes
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "style=" not in html and " on" + "click=" not in html
    assert 'accept="image/*"' in html and "Aleatório" in html and "Ler em inglês" in html


def test_story_choices_use_the_bots_words() -> None:
    """The page offers the bot's kinds and lengths (/estilo, /tamanho), in its words and order, and nothing else."""
    assert web_texts.KIND_NAMES is bot_texts.KIND_NAMES and list(web_texts.KIND_NAMES) == list(get_args(StoryKind))
    assert web_texts.LENGTH_BUTTONS is bot_texts.LENGTH_BUTTONS
    assert list(web_texts.LENGTH_BUTTONS) == list(get_args(StoryLength))


async def test_page_offers_the_story_choices(site: Site) -> None:
    html = await (await site.client.get("/")).text()
    assert '<label for="kind">' in html and '<select id="kind" name="kind">' in html
    assert '<label for="length">' in html and '<select id="length" name="length">' in html
    assert '<option value="classic" selected>Clássica</option>' in html
    assert '<option value="poem">Poema</option>' in html and '<option value="bedtime">Para dormir</option>' in html
    assert '<option value="short">Curta (~60 palavras)</option>' in html
    assert '<option value="medium" selected>Média (~120)</option>' in html


async def test_page_offers_the_words_fields(site: Site) -> None:
    html = await (await site.client.get("/")).text()
    assert '<label for="hint">Quem ou o que está na foto? (opcional)</label>' in html
    assert '<label for="main_character">Personagem principal (opcional)</label>' in html
    for name in ("hint", "main_character"):
        assert f'<input id="{name}" name="{name}" type="text" maxlength="{MAX_WORDS_CHARS}"' in html
    assert (
        'placeholder="ex.: minha filha Iara em Gramado"' in html and 'placeholder="ex.: Thor, nosso cachorro"' in html
    )
    assert "{{" not in html


def test_credit_parts_keep_the_bots_wording() -> None:
    photo_credit = GallerySource()._entries
    entry = next(iter(photo_credit.values())).credit()
    parts = credit_parts(entry)
    assert "".join(part["text"] for part in parts) == entry.line_pt()
    assert [part["url"] for part in parts if "url" in part] == [
        url for url in (entry.author_url, entry.license_url, entry.source_url) if url
    ]


async def test_stop_ends_open_event_streams() -> None:
    settings = AppSettings(_env_file=None, web_port=0, running_jobs=1)
    backends = fake_backends()
    backends.captioner.behaviour.delay = 5.0
    queue = WorkQueue(max_running=1, max_waiting=5)
    page = WebPage(settings, Pipeline(settings, backends), GallerySource(), queue)
    queue.start()
    await page.start()
    try:
        async with httpx.AsyncClient(base_url=page.url) as client:
            started = (await client.post("/api/stories", files={"photo": ("foto.jpg", PHOTO, "image/jpeg")})).json()
            async with client.stream("GET", started["events"]) as stream:
                reader = asyncio.create_task(stream.aread())
                await asyncio.sleep(0.2)
                began = asyncio.get_running_loop().time()
                await page.stop()
                await asyncio.wait_for(reader, 3)
                assert asyncio.get_running_loop().time() - began < 3
    finally:
        await page.stop()
        await queue.close(0.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def follow_over_http(base_url: str, data: bytes = PHOTO) -> list[str]:
    """Upload a photo to a page served on loopback and read its events to the end; returns the event names."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.post("/api/stories", files={"photo": ("foto.jpg", data, "image/jpeg")})
        assert response.status_code == 202, response.text
        stream = await client.get(response.json()["events"])
        return [line.removeprefix("event: ") for line in stream.text.splitlines() if line.startswith("event: ")]


async def test_with_a_token_the_page_runs_beside_the_bot_on_its_queue(tmp_path: Path) -> None:
    port = free_port()
    async with running_bot(tmp_path, web_enabled=True, web_port=port) as bot:
        assert bot.services.queue.per_key["web_ip"] == 2  # the page's stories take the bot's own line
        names = await follow_over_http(f"http://127.0.0.1:{port}")
        assert names[-1] == "done" and "voice" in names
    with pytest.raises(httpx.ConnectError):  # stopped with the bot
        await httpx.AsyncClient().get(f"http://127.0.0.1:{port}/")


async def test_without_web_enabled_the_bot_serves_no_page(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        assert "web_ip" not in bot.services.queue.per_key


async def test_standalone_serves_until_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    settings = AppSettings(_env_file=None, web_port=port)
    stop = asyncio.Event()
    serving = asyncio.create_task(
        standalone.serve(settings, pipeline=Pipeline(settings, fake_backends()), photos=GallerySource(), stop=stop)
    )
    try:
        for _ in range(100):
            if f"http://127.0.0.1:{port}/" in capsys.readouterr().err:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the URL was never said")
        assert (await follow_over_http(f"http://127.0.0.1:{port}"))[-1] == "done"
    finally:
        stop.set()
        await asyncio.wait_for(serving, 5)


def test_make_run_without_a_token_serves_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    served: list[AppSettings] = []

    def serve_page(settings: AppSettings) -> int:
        served.append(settings)
        return 0

    monkeypatch.setattr(bot.web_standalone, "run", serve_page)
    monkeypatch.setattr(bot, "run_demo", lambda out: pytest.fail("the CLI demo runs only with --demo"))
    assert bot.main([]) == 0
    assert served and served[0].web_host == "127.0.0.1" and served[0].web_port == 8000
