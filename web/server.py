"""The web page and its API on aiohttp: a photo in, the pipeline's events out as Server-Sent Events.

    GET  /                              the page (web/static: plain HTML, CSS and JavaScript)
    POST /api/stories                   multipart `photo` (+ `voice` pt|en, `kind`, `length`, `hint`,
                                        `main_character`) → 202 {id, events, …}
    POST /api/stories/random            a random photo (gallery or Unsplash) and its credit → 202 {id, credit, …};
                                        the same fields in the query, a form or a JSON object
    GET  /api/stories/{id}              what the story has so far (JSON)
    GET  /api/stories/{id}/events       its events, as they happen (text/event-stream; Last-Event-ID resumes)
    GET  /api/stories/{id}/photo        the photo
    GET  /api/stories/{id}/voice        the voice (OGG/Opus; Range requests; ?download=1 for a file)

Stories go through the bot's own admission queue (app/work_queue.py) with the key ("web_ip", address): the same
running slots, the same line, its own limit per address (WEB_PER_IP_JOBS), plus a limit per minute. `hint` (who
or what is in the photo, where: "minha filha Iara em Gramado") and `main_character` ("Thor, nosso cachorro") are
the user's own words, as written, checked by `pipeline.names.words_problem` before a story starts. Errors
are JSON {error, message} with the message in Portuguese. Every response carries a strict
Content-Security-Policy and no cookie is ever set. See README, "The web page".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import json
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, cast, get_args

from aiohttp import BodyPartReader, web

from app.errors import KeyLimitReached, QueueClosed, QueueFull
from app.media_server import sniff_content_type
from app.photos import Credit, PhotoSource
from app.serving import serve
from app.settings import AppSettings
from app.work_queue import WorkQueue
from pipeline.config import Language
from pipeline.errors import FetchError, InvalidImageError, StageError
from pipeline.events import (
    CaptionReady,
    Event,
    Finished,
    StageFailed,
    StageStarted,
    StoryKind,
    StoryLength,
    StoryOptions,
    StoryPipeline,
    StoryReady,
    StorySentence,
    VoiceReady,
)
from pipeline.images import open_image
from pipeline.names import MAX_WORDS_CHARS, words_problem

from . import texts
from .stories import StoreFull, Story, StoryStore

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {  # URL path → (file, content type); nothing else under / is served
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
IP_KEY = "web_ip"
KINDS: tuple[str, ...] = get_args(StoryKind)
LENGTHS: tuple[str, ...] = get_args(StoryLength)
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, headers and the small fields around the photo
SMALL_FIELD_BYTES = 64
WORDS_FIELDS = ("hint", "main_character")  # the user's own words: StoryOptions' fields of the same names
WORDS_FIELD_BYTES = 4 * 1024  # MAX_WORDS_CHARS characters in UTF-8 with room to spare; more is too long anyway
MAX_PARTS = 6  # photo, voice, kind, length, hint, main_character
KEEPALIVE_S = 15.0
QUEUE_POLL_S = 1.0
CLEANUP_INTERVAL_S = 30.0

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), microphone=(), payment=(), usb=()",
}


class Problem(Exception):
    """An answer with an HTTP status and a Portuguese message, raised from anywhere in a handler."""

    def __init__(self, status: int, reason: str, message: str, **extra: Any) -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.message, self.extra = status, reason, message, extra

    def response(self) -> web.Response:
        headers = {"Retry-After": str(self.extra.pop("retry_after"))} if "retry_after" in self.extra else None
        body = {"error": self.reason, "message": self.message, **self.extra}
        return web.json_response(body, status=self.status, headers=headers)


class RateWindow:
    """At most `limit` events per key in any `window_s` seconds (a sliding window); keeps `max_keys` keys."""

    def __init__(
        self, limit: int, window_s: float = 60.0, *, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> float:
        """0 when `key` may go now, else the seconds until it may."""
        times = self._seen.get(key)
        if times is None:
            return 0.0
        now = self._clock()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return 0.0 if len(times) < self.limit else times[0] + self.window_s - now

    def note(self, key: str) -> None:
        times = self._seen.pop(key, deque())
        times.append(self._clock())
        self._seen[key] = times  # most recent last
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)


def credit_parts(credit: Credit) -> list[dict[str, str]]:
    """The credit line (`Credit.line_pt`, the bot's wording) as text pieces, some with a link, for the page."""
    links: list[tuple[str, str | None]] = []

    def link(text: str, url: str | None) -> str:
        links.append((text, url))
        return f"\x00{len(links) - 1}\x00"

    parts: list[dict[str, str]] = []
    for index, piece in enumerate(credit.line_pt(link).split("\x00")):
        if index % 2 == 0:
            if piece:
                parts.append({"text": piece})
            continue
        text, url = links[int(piece)]
        parts.append({"text": text, "url": url} if url and url.startswith(("https://", "http://")) else {"text": text})
    return parts


def check_photo(data: bytes, *, max_bytes: int, max_pixels: int) -> None:
    """The pipeline's input limits, from the header only (no decoding): raises InvalidImageError with its reason.

    A file that passes can still turn out truncated when the pipeline decodes it; the story's events say so.
    """
    img, _ = open_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    img.close()


def choice_options(names: dict[str, str], default: str) -> str:
    """The <option>s of a <select>, in the bot's words, the default selected."""
    return "".join(
        f'<option value="{value}"{" selected" if value == default else ""}>{html.escape(label)}</option>'
        for value, label in names.items()
    )


def quoted_choices(values: tuple[str, ...]) -> str:
    """("a", "b", "c") → “a”, “b” ou “c”, for a Portuguese message."""
    quoted = [f"“{value}”" for value in values]
    return f"{', '.join(quoted[:-1])} ou {quoted[-1]}"


def sse(name: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    """One Server-Sent Event (its data is one JSON line)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class WebPage:
    """The page and its API, sharing the bot's pipeline, photo sources and admission queue.

    `start()` binds WEB_HOST:WEB_PORT (port 0 picks a free one) and `stop()` ends every event stream and closes
    the server; the queue's own lifecycle stays with its owner. `application()` is the bare aiohttp app, for tests.
    """

    def __init__(
        self,
        settings: AppSettings,
        pipeline: StoryPipeline,
        photos: PhotoSource,
        queue: WorkQueue,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.photos = photos
        self.queue = queue
        queue.per_key.setdefault(IP_KEY, settings.web_per_ip_jobs)
        self.host, self.port = settings.web_host, settings.web_port
        self.stories = StoryStore(
            ttl_s=settings.web_story_ttl_s, max_bytes=settings.web_max_stored_mb * 1024 * 1024, clock=clock
        )
        self.per_minute = RateWindow(settings.web_per_ip_per_minute, clock=clock)
        self._static = {path: self._load_static(name, kind) for path, (name, kind) in STATIC_FILES.items()}
        self._runner: web.AppRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._closing = asyncio.Event()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def _load_static(self, name: str, content_type: str) -> tuple[bytes, str, str]:
        body = (STATIC_DIR / name).read_bytes()
        if name == "index.html":  # the upload limit, and the story choices in the bot's words (web/texts.py)
            defaults = StoryOptions()
            for key, value in (
                ("MAX_IMAGE_BYTES", str(self.settings.max_image_bytes)),
                ("MAX_WORDS_CHARS", str(MAX_WORDS_CHARS)),
                ("KIND_OPTIONS", choice_options(texts.KIND_NAMES, defaults.kind)),
                ("LENGTH_OPTIONS", choice_options(texts.LENGTH_BUTTONS, defaults.length)),
            ):
                body = body.replace(b"{{" + key.encode() + b"}}", value.encode())
        return body, content_type, f'"{hashlib.sha256(body).hexdigest()[:16]}"'

    # --- lifecycle -------------------------------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._problems], client_max_size=self.settings.max_image_bytes)
        for path in self._static:
            app.router.add_get(path, self._serve_static)
        app.router.add_post("/api/stories", self._upload)
        app.router.add_post("/api/stories/random", self._random)
        app.router.add_get("/api/stories/{id}", self._snapshot)
        app.router.add_get("/api/stories/{id}/events", self._events)
        app.router.add_get("/api/stories/{id}/photo", self._photo)
        app.router.add_get("/api/stories/{id}/voice", self._voice)
        app.on_response_prepare.append(self._secure)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def start(self) -> None:
        """Bind and serve (a busy port raises OSError and leaves nothing running); again, a no-op."""
        if self._runner is not None:
            return
        self._runner, self.port = await serve(self.application(), self.host, self.port)
        log.info("web page listening", extra={"url": self.url})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_startup(self, _app: web.Application) -> None:
        self._closing.clear()
        self._spawn(self._cleanup_loop())

    async def _on_shutdown(self, _app: web.Application) -> None:
        """End the event streams now (they would hold the shutdown) and the cleanup loop."""
        self._closing.set()
        for story in self.stories:
            await story.wake()
        for task in list(self._background):
            task.cancel()
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _cleanup_loop(self) -> None:
        while True:
            await asyncio.sleep(CLEANUP_INTERVAL_S)
            if removed := self.stories.cleanup_expired():
                log.info("web stories expired", extra={"removed": removed})

    # --- middleware and headers ------------------------------------------------------------------------------

    @web.middleware
    async def _problems(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Every error as JSON {error, message} in Portuguese: ours, the router's 404/405, a too-large body."""
        try:
            return await handler(request)
        except Problem as problem:
            return problem.response()
        except web.HTTPNotFound:
            return Problem(404, "not_found", texts.PAGE_NOT_FOUND).response()
        except web.HTTPMethodNotAllowed as exc:
            response = Problem(405, "method_not_allowed", texts.METHOD_NOT_ALLOWED.format(method=exc.method))
            answer = response.response()
            answer.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
            return answer
        except web.HTTPRequestEntityTooLarge:
            return self._too_large().response()
        except web.HTTPClientError as exc:
            return Problem(exc.status, "bad_request", texts.BAD_REQUEST).response()

    @staticmethod
    async def _secure(request: web.Request, response: web.StreamResponse) -> None:
        """The security headers on every answer, streams included; never a cookie."""
        response.headers.update(SECURITY_HEADERS)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.popall("Set-Cookie", None)

    # --- the page --------------------------------------------------------------------------------------------

    async def _serve_static(self, request: web.Request) -> web.Response:
        body, content_type, etag = self._static[request.path]
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers={**headers, "Content-Type": content_type})

    # --- starting a story ------------------------------------------------------------------------------------

    def client_ip(self, request: web.Request) -> str:
        if self.settings.web_trust_proxy and (forwarded := request.headers.get("X-Forwarded-For", "").strip()):
            return forwarded.split(",")[-1].strip()
        return request.remote or "unknown"

    def _check_rate(self, ip: str) -> None:
        wait = self.per_minute.retry_after(ip)
        if wait > 0:
            raise Problem(429, "rate_limited", texts.IP_PER_MINUTE, retry_after=max(1, round(wait)))

    def _too_large(self) -> Problem:
        return Problem(413, "too_large", texts.invalid_image("too_large", self.settings.max_image_bytes))

    async def _upload(self, request: web.Request) -> web.Response:
        ip = self.client_ip(request)
        self._check_rate(ip)
        limit = self.settings.max_image_bytes
        if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
            raise self._too_large()
        if request.content_type != "multipart/form-data":
            raise Problem(400, "bad_request", texts.BAD_REQUEST)
        fields = await self._read_form(request, limit)
        photo = fields.get("photo")
        if photo is None:
            raise Problem(400, "no_photo", texts.NO_PHOTO)
        try:
            check_photo(photo, max_bytes=limit, max_pixels=self.settings.max_image_pixels)
        except InvalidImageError as exc:
            status = 413 if exc.reason in ("too_large", "too_many_pixels") else 400
            raise Problem(status, exc.reason, texts.invalid_image(exc.reason, limit)) from exc
        language, options = self._language(fields.get("voice")), self._options(fields)
        return await self._begin(ip, photo, language, options, credit=None)

    async def _read_form(self, request: web.Request, limit: int) -> dict[str, bytes]:
        """The form's fields, the photo within `limit` bytes and the others tiny; read as they stream in."""
        fields: dict[str, bytes] = {}
        try:
            reader = await request.multipart()
            for index in range(MAX_PARTS + 1):
                part = await reader.next()
                if part is None:
                    return fields
                if index == MAX_PARTS or not isinstance(part, BodyPartReader):  # one part too many, or nested
                    raise Problem(400, "bad_request", texts.BAD_REQUEST)
                name = part.name or ""
                if name == "photo":
                    fields[name] = await self._read_part(part, limit, self._too_large)
                elif name in WORDS_FIELDS:
                    fields[name] = await self._read_part(part, WORDS_FIELD_BYTES, partial(_words_too_long, name))
                else:
                    fields[name] = await self._read_part(part, SMALL_FIELD_BYTES, _bad_request)
        except (ValueError, AssertionError) as exc:  # aiohttp's complaints about a malformed multipart body
            raise Problem(400, "bad_request", texts.BAD_REQUEST) from exc
        raise Problem(400, "bad_request", texts.BAD_REQUEST)

    @staticmethod
    async def _read_part(part: BodyPartReader, limit: int, too_much: Callable[[], Problem]) -> bytes:
        """A part's bytes, up to `limit`; past it, the `too_much` answer."""
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read_chunk(256 * 1024):
            size += len(chunk)
            if size > limit:
                raise too_much()
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _field(raw: bytes | str | None, default: str) -> str:
        """A small form or query field, trimmed and lowercased; missing or empty is `default`."""
        value = raw.decode(errors="replace") if isinstance(raw, bytes) else raw or ""
        return value.strip().lower() or default

    @classmethod
    def _language(cls, raw: bytes | str | None) -> Language:
        value = cls._field(raw, "pt")
        if value not in ("pt", "en"):
            raise Problem(400, "bad_voice", texts.BAD_VOICE)
        return cast(Language, value)

    @classmethod
    def _options(cls, fields: Mapping[str, bytes | str]) -> StoryOptions:
        """The story's kind and length (the bot's /estilo and /tamanho), classic and medium unless asked, and the
        user's own words (`WORDS_FIELDS`, none unless written)."""
        defaults = StoryOptions()
        chosen_kind = cls._field(fields.get("kind"), defaults.kind)
        chosen_length = cls._field(fields.get("length"), defaults.length)
        if chosen_kind not in KINDS:
            raise Problem(400, "bad_kind", texts.BAD_KIND.format(choices=quoted_choices(KINDS)))
        if chosen_length not in LENGTHS:
            raise Problem(400, "bad_length", texts.BAD_LENGTH.format(choices=quoted_choices(LENGTHS)))
        hint, main_character = (cls._words(name, fields.get(name)) for name in WORDS_FIELDS)
        return StoryOptions(
            cast(StoryKind, chosen_kind), cast(StoryLength, chosen_length), main_character=main_character, hint=hint
        )

    @staticmethod
    def _words(name: str, raw: bytes | str | None) -> str:
        """One of the user's own words fields as written (only trimmed), once `words_problem` finds none."""
        text = (raw.decode(errors="replace") if isinstance(raw, bytes) else raw or "").strip()
        match words_problem(text):
            case "too_long":
                raise _words_too_long(name)
            case "unsuitable":
                raise Problem(400, f"{name}_unsuitable", texts.WORDS_UNSUITABLE[name], field=name)
        return text

    async def _random(self, request: web.Request) -> web.Response:
        ip = self.client_ip(request)
        self._check_rate(ip)
        fields: dict[str, str] = {}
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            fields = {name: value for name, value in form.items() if isinstance(value, str)}
        elif request.content_type == "application/json":
            fields = await _json_fields(request)
        fields.update(request.query)  # the query wins over the body
        language = self._language(fields.get("voice"))
        options = self._options(fields)
        photo = await self.photos.random_photo(f"web:{ip}")
        if photo.data is None:
            raise Problem(503, "no_photo", texts.FETCH_FAILED)
        credit = {**_credit_fields(photo.credit), "parts": credit_parts(photo.credit), "line": photo.credit.line_pt()}
        response = await self._begin(ip, photo.data, language, options, credit=credit)
        self._spawn(self.photos.mark_shown(photo))  # Unsplash asks for it once the photo is shown
        return response

    async def _begin(
        self, ip: str, photo: bytes, language: Language, options: StoryOptions, credit: dict[str, Any] | None
    ) -> web.Response:
        """Keep the photo, put its story in line, and answer with where to follow it."""
        try:
            story = self.stories.create(photo, sniff_content_type(photo), language, credit, options)
        except StoreFull as exc:
            raise Problem(503, "busy", texts.MEMORY_FULL, retry_after=60) from exc
        try:
            ticket = await self.queue.submit(lambda: self._tell(story), [(IP_KEY, ip)])
        except QueueFull as exc:
            self.stories.discard(story.id)
            message = texts.BUSY.format(waiting=self.queue.waiting)
            raise Problem(503, "busy", message, waiting=self.queue.waiting, retry_after=30) from exc
        except KeyLimitReached as exc:
            self.stories.discard(story.id)
            raise Problem(429, "ip_limit", texts.IP_LIMIT, retry_after=10) from exc
        except QueueClosed as exc:
            self.stories.discard(story.id)
            raise Problem(503, "shutting_down", texts.SHUTTING_DOWN, retry_after=60) from exc
        self.per_minute.note(ip)
        story.ticket = ticket
        ticket.result.add_done_callback(lambda result: self._dropped(story) if result.cancelled() else None)
        log.info("web story queued", extra={"request_id": story.request_id, "position": ticket.position})
        links = self._links(story)
        body: dict[str, Any] = {
            **links,
            "position": ticket.position,
            "expires_in_s": round(self.stories.ttl_s),
            "kind": options.kind,
            "length": options.length,
            "hint": options.hint,
            "main_character": options.main_character,
        }
        if ticket.position:
            body["message"] = texts.STATUS_QUEUED.format(position=ticket.position)
        if credit is not None:
            body["credit"] = credit
        return web.json_response(body, status=202, headers={"Location": links["url"]})

    @staticmethod
    def _links(story: Story) -> dict[str, str]:
        base = f"/api/stories/{story.id}"
        return {
            "id": story.id,
            "url": base,
            "events": f"{base}/events",
            "photo": f"{base}/photo",
            "voice": f"{base}/voice",
        }

    def _dropped(self, story: Story) -> None:
        """A job the queue cancelled before it ran (shutdown) still ends its story, with an explanation."""
        if not story.finished:
            self._spawn(story.fail("shutting_down", texts.SHUTTING_DOWN))

    # --- running it ------------------------------------------------------------------------------------------

    async def _tell(self, story: Story) -> None:
        """The queued job: stream the pipeline and record each event for the page."""
        story.started = True
        story.stamps["started"] = time.monotonic()
        extra = {"request_id": story.request_id}
        if self.stories.get(story.id) is None:  # expired while it waited: nobody can read it any more
            await story.finish()
            return
        log.info("web story started", extra=extra)
        try:
            events = self.pipeline.stream(story.photo, voice_language=story.voice_language, options=story.options)
            async for event in events:
                await self._record(story, event)
        except InvalidImageError as exc:
            message = texts.invalid_image(exc.reason, self.settings.max_image_bytes)
            await story.fail(exc.reason, message)
        except FetchError:
            await story.fail("fetch_failed", texts.FETCH_FAILED)
        except StageError:
            await story.fail("pipeline_failed", texts.PIPELINE_FAILED)
        except asyncio.CancelledError:
            await story.fail("shutting_down", texts.SHUTTING_DOWN)
            raise
        except Exception:
            log.exception("web story crashed", extra=extra)
            message = texts.ERROR.format(request_id=story.request_id)
            await story.fail("error", message)
        finally:
            await story.finish()
            log.info("web story finished", extra=extra)

    async def _record(self, story: Story, event: Event) -> None:
        state = story.state
        match event:
            case StageStarted(stage):
                if stage.value in texts.STATUS:
                    await story.add("stage", {"stage": stage.value, "message": texts.STATUS[stage.value]})
            case CaptionReady(caption_en, caption_pt):
                state.update(caption_pt=caption_pt, caption_en=caption_en)
                await story.add("caption", {"caption_pt": caption_pt, "caption_en": caption_en})
            case StorySentence(sentence_en, sentence_pt):  # the story as it is written, before the whole of it
                await story.add("sentence", {"sentence_pt": sentence_pt, "sentence_en": sentence_en})
            case StoryReady(story_en, story_pt):
                state.update(story_pt=story_pt, story_en=story_en)
                await story.add("story", {"story_pt": story_pt, "story_en": story_en})
            case VoiceReady(voice):
                story.voice = voice
                state["voice"] = self._voice_fields(story)
                await story.add("voice", state["voice"])
            case StageFailed(stage, _error):
                message = texts.STAGE_FAILED.get(stage.value, texts.PIPELINE_FAILED)
                state.setdefault("stage_failed", {})[stage.value] = message
                await story.add("stage_failed", {"stage": stage.value, "message": message})
            case Finished(timings):
                state["timings"] = {stage: round(seconds, 3) for stage, seconds in timings.items()}
                await story.add("done", {"timings": state["timings"]})

    def _voice_fields(self, story: Story) -> dict[str, Any]:
        assert story.voice is not None
        url = self._links(story)["voice"]
        return {
            "url": url,
            "download_url": f"{url}?download=1",
            "seconds": round(story.voice.seconds, 2),
            "language": story.voice.language,
            "content_type": "audio/ogg; codecs=opus",
        }

    # --- following it ----------------------------------------------------------------------------------------

    def _story(self, request: web.Request) -> Story:
        story = self.stories.get(request.match_info["id"])
        if story is None:
            minutes = max(1, round(self.stories.ttl_s / 60))
            raise Problem(404, "not_found", texts.NOT_FOUND.format(minutes=minutes))
        return story

    def _position(self, story: Story) -> int:
        if story.started or story.ticket is None:
            return 0
        return self.queue.position(story.ticket)

    async def _snapshot(self, request: web.Request) -> web.Response:
        story = self._story(request)
        errors = [data for name, data in story.events if name == "failed"]
        status = "finished" if story.finished else "running" if story.started else "waiting"
        body = {
            **self._links(story),
            "status": status,
            "position": self._position(story),
            "voice_language": story.voice_language,
            "kind": story.options.kind,
            "length": story.options.length,
            "hint": story.options.hint,
            "main_character": story.options.main_character,
            "expires_in_s": round(self.stories.expires_in(story)),
            "credit": story.credit,
            "caption_pt": None,
            "caption_en": None,
            "story_pt": None,
            "story_en": None,
            "voice": None,
            "stage_failed": {},
            **story.state,
            "error": errors[-1] if errors else None,
        }
        return web.json_response(body)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """The story's events as Server-Sent Events: everything so far, then each new one; the place in line
        while it waits; a comment now and then so proxies keep the line open. Ends after `done` or `error`."""
        story = self._story(request)
        try:
            seen = int(request.headers.get("Last-Event-ID", "-1")) + 1
        except ValueError:
            seen = 0
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        position, quiet_since = -1, time.monotonic()
        try:
            await response.write(b"retry: 2000\n\n")
            while not self._closing.is_set():
                while seen < len(story.events):
                    name, data = story.events[seen]
                    await response.write(sse(name, data, seen))
                    seen += 1
                    quiet_since = time.monotonic()
                if story.finished or self.stories.get(story.id) is None:
                    break
                if (now := self._position(story)) != position:
                    position = now
                    if position:
                        message = texts.STATUS_QUEUED.format(position=position)
                        await response.write(sse("queued", {"position": position, "message": message}))
                if time.monotonic() - quiet_since > KEEPALIVE_S:
                    await response.write(b": ping\n\n")
                    quiet_since = time.monotonic()
                await story.wait(seen, QUEUE_POLL_S if position else KEEPALIVE_S, stop=self._closing.is_set)
        except (ConnectionResetError, ConnectionError):
            return response  # the reader left; the story goes on for whoever comes back with its id
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response

    async def _photo(self, request: web.Request) -> web.StreamResponse:
        story = self._story(request)
        return self._bytes(request, story, story.photo, story.photo_type, "foto")

    async def _voice(self, request: web.Request) -> web.StreamResponse:
        story = self._story(request)
        if story.voice is None:
            raise Problem(404, "voice_not_ready", texts.VOICE_NOT_READY)
        return self._bytes(request, story, story.voice.ogg, "audio/ogg", f"historia-{story.voice.language}")

    def _bytes(self, request: web.Request, story: Story, body: bytes, content_type: str, name: str) -> web.Response:
        """A story's photo or voice, private to the id's holder until it expires; single byte ranges for seeking."""
        extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
        filename = f"{name}.{extension.get(content_type, 'ogg')}"
        disposition = "attachment" if request.query.get("download") else "inline"
        headers = {
            "Content-Type": content_type,
            "Accept-Ranges": "bytes",
            "Cache-Control": f"private, max-age={int(self.stories.expires_in(story))}",
            "Content-Disposition": f'{disposition}; filename="{filename}"',
        }
        try:
            wanted = request.http_range
        except ValueError:
            wanted = slice(None)
        if wanted.start is None and wanted.stop is None:
            return web.Response(body=body, headers=headers)
        start, stop, _ = wanted.indices(len(body))
        if start >= len(body) or start >= stop:
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{len(body)}"})
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(body)}"
        return web.Response(status=206, body=body[start:stop], headers=headers)


def _bad_request() -> Problem:
    return Problem(400, "bad_request", texts.BAD_REQUEST)


def _words_too_long(name: str) -> Problem:
    """The answer to words longer than `MAX_WORDS_CHARS` in the field `name` (hint, main_character)."""
    message = texts.WORDS_TOO_LONG[name].format(max_chars=MAX_WORDS_CHARS)
    return Problem(400, f"{name}_too_long", message, field=name, max_chars=MAX_WORDS_CHARS)


async def _json_fields(request: web.Request) -> dict[str, str]:
    """A JSON object's text fields ({"kind": "poem", "hint": "…"}); anything but an object is a bad request."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise Problem(400, "bad_request", texts.BAD_JSON) from exc
    if not isinstance(body, dict):
        raise Problem(400, "bad_request", texts.BAD_JSON)
    return {name: value for name, value in body.items() if isinstance(value, str)}


def _credit_fields(credit: Credit) -> dict[str, Any]:
    return {
        "title": credit.title,
        "author": credit.author,
        "author_url": credit.author_url,
        "license": credit.license,
        "license_url": credit.license_url,
        "source": credit.source,
        "source_url": credit.source_url,
    }
