"""A fake Telegram Bot API server on loopback, for integration tests of the bot.

Why a fake and not mocks: the bot's correctness depends on the wire protocol and on what Telegram
*rejects* (empty or too long texts, malformed HTML, edits that change nothing, rate limits). This
server speaks the same HTTP protocol python-telegram-bot 22 uses, keeps enough state (messages per
chat, files, webhook) to answer like Telegram, and lets tests inject faults: one-off (`fail_next`,
`delay_next`, `drop_next_file_download`) or seeded random 429s, 500s and dropped connections (`RandomFaults`,
for tools/chaos.py).

Wire format, verified in PTB 22.8 (``telegram/request/_httpxrequest.py`` and
``_requestparameter.py``): every call is a POST whose body is ``application/x-www-form-urlencoded``
when no file is uploaded and ``multipart/form-data`` when one is; string parameters are sent as is,
every other value (ints, bools, lists, dicts such as ``reply_markup``) as JSON text. Plain JSON bodies
and GET query strings are accepted too, as Telegram does.

The server binds 127.0.0.1 on a free port, contacts no other address (URL uploads and webhook
delivery are honoured only for loopback hosts) and never logs the token (access log off).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import hashlib
import io
import itertools
import json
import mimetypes
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from PIL import Image, UnidentifiedImageError

from .loopback import serve_on_loopback

T = TypeVar("T")
Params = dict[str, Any]

DEFAULT_TOKEN = "123456789:FAKE-token_for-tests-0123456789abcdef"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files on the cloud Bot API
UPLOAD_LIMIT = 50 * 1024 * 1024
PHOTO_THUMB_SIDES = (90, 320, 800)

# Parameters that are strings in the Bot API: never JSON-decoded, so a text such as "123" or "true"
# stays a string. Everything else arriving form-encoded is JSON text (see the module docstring).
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "file_id", "url",
        "action", "title", "description", "short_description", "secret_token", "ip_address",
        "language_code", "data", "emoji", "file_name", "performer", "business_connection_id",
        "message_effect_id", "name", "query", "question", "custom_emoji_id", "first_name",
        "last_name", "phone_number", "address", "payload", "currency", "start_parameter",
        "voice", "photo", "document", "audio", "video", "animation", "sticker", "thumbnail",
        "video_note", "certificate",
    }
)  # fmt: skip
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class Call:
    """One Bot API request as the fake saw it.

    ``params`` are decoded to Python values; ``files`` maps a parameter name to the bytes uploaded
    for it (or fetched from a loopback URL); ``time`` is ``time.monotonic()`` at arrival; ``status``
    is the HTTP status answered (``DROPPED``, 0, for a connection dropped unanswered) and ``result`` the
    ``result`` field (or the error description).
    """

    method: str
    params: Params
    files: dict[str, bytes]
    time: float
    status: int = 200
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | str | None:
        value = self.params.get("chat_id")
        return None if value is None else _chat_key(value)


@dataclass
class StoredFile:
    """A file the fake can serve through getFile and ``/file/bot<token>/<file_path>``."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class _Upload:
    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass
class _Fault:
    status: int
    description: str
    parameters: dict[str, Any] | None
    remaining: int


DROPPED = 0  # Call.status of a call whose connection was dropped unanswered (RandomFaults)
FAULT_KINDS = ("429", "500", "drop", "download_drop")


def _default_method_factors() -> dict[str, float]:
    return {"getme": 0.0, "getupdates": 0.25, "setmycommands": 0.0, "deletewebhook": 0.0}


@dataclass
class RandomFaults:
    """Seeded random faults, for chaos runs: each API call independently gets, with these probabilities,
    a 429 (``parameters.retry_after``), a 500, or a dropped connection; file downloads a dropped connection.

    A dropped connection is closed BEFORE the call is processed: the client sees a network error and the
    call has no effect (nothing sent, no update confirmed), so a retry is always safe. A real Bot API can
    also drop the connection AFTER processing a call (the message was sent, the client still sees a
    network error), and then a retry duplicates the message; that case is not injected here.

    ``method_factors`` scales the rates per method (lower-case name; 1.0 when absent): by default getMe
    and the start-up calls (setMyCommands, deleteWebhook) get none, so that a bot always starts, and
    getUpdates a quarter, so that long polling is disturbed without starving the bot.
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_drop: float = 0.0
    rate_download_drop: float = 0.0
    retry_after: int = 1
    seed: int = 0
    method_factors: dict[str, float] = field(default_factory=_default_method_factors)

    def __post_init__(self) -> None:
        rates = (self.rate_429, self.rate_500, self.rate_drop, self.rate_download_drop)
        if any(not 0.0 <= r <= 1.0 for r in rates) or self.rate_429 + self.rate_500 + self.rate_drop > 1.0:
            raise ValueError(f"fault rates must be in [0, 1] and sum to at most 1, got {rates}")


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    last_error: tuple[int, str] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class _ParseError(ValueError):
    """Entity parsing failed; the message is Telegram's text after "can't parse entities: "."""


def _chat_key(value: Any) -> int | str:
    """Chat ids arrive as ints, digit strings or "@username"; compare them in one form."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _u16(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _utf8_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities as Telegram computes them (``/cmd`` or ``/cmd@botname``)."""
    return [
        {"type": "bot_command", "offset": _u16(text[: m.start()]), "length": _u16(m.group())}
        for m in _COMMAND_RE.finditer(text)
    ]


# --- formatted text --------------------------------------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "a": "text_link", "code": "code", "pre": "pre", "tg-spoiler": "spoiler", "span": "spoiler",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_HTML_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_HTML_ATTR_RE = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?""")
_HTML_CHAR_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_CHAR_REF_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")


class _EntityBuilder:
    """Accumulates plain text and entities (offsets in UTF-16 units) while a markup is parsed."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.pos += _u16(text)

    def add(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append({"type": kind, "offset": start, "length": self.pos - start, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


def _html_attrs(raw: str) -> dict[str, str]:
    return {m[1].lower(): m[2] or m[3] or m[4] or "" for m in _HTML_ATTR_RE.finditer(raw)}


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset into (plain text, entities); raise ``_ParseError`` like Telegram."""
    out = _EntityBuilder()
    stack: list[tuple[str, int, dict[str, str]]] = []  # (tag, start, attributes)
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "&":
            ref = _HTML_CHAR_REF_RE.match(src, i)
            if ref:
                name = ref.group(1)
                out.emit(_HTML_CHAR_REFS.get(name) or chr(int(name[2:], 16) if name[1] == "x" else int(name[1:])))
                i = ref.end()
                continue
            out.emit(ch)  # Telegram tolerates a lone "&"
            i += 1
            continue
        if ch != "<":
            nxt = min((j for j in (src.find("<", i), src.find("&", i)) if j != -1), default=len(src))
            out.emit(src[i:nxt])
            i = nxt
            continue
        tag = _HTML_TAG_RE.match(src, i)
        offset = _utf8_offset(src, i)
        if not tag:
            raise _ParseError(f"Unsupported start tag at byte offset {offset}")
        closing, name, attrs = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        if name not in _HTML_ENTITY_TYPES:
            kind = "end" if closing else "start"
            raise _ParseError(f'Unsupported {kind} tag "{name}" at byte offset {offset}')
        if not closing:
            parsed = _html_attrs(attrs)
            if name == "span" and parsed.get("class") != "tg-spoiler":
                raise _ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
            stack.append((name, out.pos, parsed))
        elif not stack:
            raise _ParseError(f'Unexpected end tag "{name}" at byte offset {offset}')
        elif stack[-1][0] != name:
            raise _ParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1][0]}>", found "</{name}>"'
            )
        else:
            _close_html_tag(out, stack)
        i = tag.end()
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html_tag(out: _EntityBuilder, stack: list[tuple[str, int, dict[str, str]]]) -> None:
    name, start, attrs = stack.pop()
    kind = _HTML_ENTITY_TYPES[name]
    extra: dict[str, Any] = {}
    if name == "a":
        extra["url"] = attrs.get("href", "")
    elif name == "tg-emoji":
        extra["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif name == "blockquote" and "expandable" in attrs:
        kind = "expandable_blockquote"
    elif name == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, as Telegram renders it.
        language = attrs.get("class", "").removeprefix("language-")
        if language:
            stack[-1][2]["language"] = language
        return
    elif name == "pre" and attrs.get("language"):
        extra["language"] = attrs["language"]
    out.add(kind, start, **extra)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_MDV2_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
    "spoiler": "Spoiler", "text_link": "TextUrl",
}  # fmt: skip


def parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse MarkdownV2 into (plain text, entities); reject unescaped reserved characters as Telegram.

    Covers what bots commonly emit (bold, italic, underline, strikethrough, spoiler, code, pre, links,
    escapes); the rarer corners of Telegram's grammar are not reproduced.
    """
    out = _EntityBuilder()
    stack: list[tuple[str, int, int]] = []  # (marker, start, byte offset)
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src):
            out.emit(src[i + 1])
            i += 2
        elif ch == "`":
            i = _mdv2_code(src, i, out)
        elif src.startswith(("__", "||"), i) or ch in "*_~":
            marker = src[i : i + 2] if src.startswith(("__", "||"), i) else ch
            open_idx = next((k for k in range(len(stack) - 1, -1, -1) if stack[k][0] == marker), None)
            if open_idx is None:
                stack.append((marker, out.pos, _utf8_offset(src, i)))
            else:
                _, start, _ = stack.pop(open_idx)
                out.add(_MDV2_MARKERS[marker], start)
            i += len(marker)
        elif ch == "[":
            stack.append(("[", out.pos, _utf8_offset(src, i)))
            i += 1
        elif ch == "]" and any(m == "[" for m, _, _ in stack) and src.startswith("(", i + 1):
            close = src.find(")", i + 2)
            if close == -1:
                raise _ParseError(f"Can't find end of a URL at byte offset {_utf8_offset(src, i + 1)}")
            while stack[-1][0] != "[":
                _raise_unclosed(stack[-1])
            _, start, _ = stack.pop()
            out.add("text_link", start, url=src[i + 2 : close].replace("\\)", ")"))
            i = close + 1
        elif ch == ">" and (i == 0 or src[i - 1] == "\n"):
            end = src.find("\n", i)
            end = len(src) if end == -1 else end
            start = out.pos
            inner_text, inner_entities = parse_markdown_v2(src[i + 1 : end])
            out.entities.extend({**e, "offset": e["offset"] + start} for e in inner_entities)
            out.emit(inner_text)
            out.add("blockquote", start)
            i = end
        elif ch in _MDV2_RESERVED:
            raise _ParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        else:
            out.emit(ch)
            i += 1
    if stack:
        _raise_unclosed(stack[-1])
    return out.result()


def _raise_unclosed(entry: tuple[str, int, int]) -> None:
    marker, _, offset = entry
    name = _MDV2_NAMES["text_link" if marker == "[" else _MDV2_MARKERS[marker]]
    raise _ParseError(f"Can't find end of {name} entity at byte offset {offset}")


def _mdv2_code(src: str, i: int, out: _EntityBuilder) -> int:
    """Consume an inline code span or a ``` block starting at ``i``; return the index after it."""
    fence = "```" if src.startswith("```", i) else "`"
    body_start = i + len(fence)
    j = body_start
    while j < len(src) and not src.startswith(fence, j):
        j += 2 if src[j] == "\\" else 1
    if j >= len(src):
        name = "Pre" if fence == "```" else "Code"
        raise _ParseError(f"Can't find end of {name} entity at byte offset {_utf8_offset(src, i)}")
    body = re.sub(r"\\(.)", r"\1", src[body_start:j], flags=re.S)
    extra: dict[str, Any] = {}
    if fence == "```":
        first, newline, rest = body.partition("\n")
        if newline and first and " " not in first:
            extra["language"], body = first, rest
    start = out.pos
    out.emit(body)
    out.add("pre" if fence == "```" else "code", start, **extra)
    return j + len(fence)


_PARSERS: dict[str, Callable[[str], tuple[str, list[dict[str, Any]]]]] = {
    "html": parse_html,
    "markdownv2": parse_markdown_v2,
}


# --- media helpers ---------------------------------------------------------------------------------


def _ogg_opus_duration(data: bytes) -> int | None:
    """Duration in whole seconds of an OGG/Opus stream (last page's granule at 48 kHz), else None."""
    if not data.startswith(b"OggS") or b"OpusHead" not in data[:512]:
        return None
    last = data.rfind(b"OggS")
    granule = int.from_bytes(data[last + 6 : last + 14], "little")
    return max(1, round(granule / 48000))


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None


@functools.lru_cache(maxsize=64)
def _thumbnail(data: bytes, side: int) -> tuple[bytes, int, int]:
    """The photo's smaller size, made once per photo: the same photo sent again (benchmarks, floods) is queued in
    microseconds, as Telegram delivers a burst, not after a resize each (26 ms for a 1600 px photo)."""
    with Image.open(io.BytesIO(data)) as img:
        img.thumbnail((side, side))
        buf = io.BytesIO()
        img.convert("RGB").save(buf, "JPEG", quality=80)
        return buf.getvalue(), img.width, img.height


def _strip_reply(message: dict[str, Any]) -> dict[str, Any]:
    """Telegram nests replied-to messages one level deep only; an update dict stands for its message."""
    if "message_id" not in message and "message" in message:
        message = message["message"]
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


class FakeTelegram:
    """Async context manager running the fake Bot API; see the module docstring.

    Typical use::

        async with FakeTelegram() as tg:
            app = Application.builder().token(tg.token).base_url(tg.base_url)
                  .base_file_url(tg.base_file_url).build()
            tg.text(chat_id=42, user_id=42, text="/start")
            await tg.wait_for_call("sendMessage", chat_id=42)
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "ContaHistoriasBot",
        first_name: str = "Conta-Histórias",
        bot_id: int | None = None,
        long_poll_cap: float = 1.0,
        port: int = 0,
        random_faults: RandomFaults | None = None,
    ) -> None:
        """`port` 0 picks a free one; a fixed port lets a test start the API late, after the bot (it retries).

        `random_faults` injects seeded random 429s, 500s and dropped connections (see `RandomFaults`).
        """
        self.token = token
        self.port = port
        self.bot_user: dict[str, Any] = {
            "id": bot_id if bot_id is not None else int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.long_poll_cap = long_poll_cap
        self.root = ""  # http://127.0.0.1:PORT once started
        self.downloads: list[str] = []  # file paths served through /file/
        self._calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._next_message_id: dict[int | str, int] = {}
        self._bot_messages: list[tuple[int | str, int]] = []
        self._deleted: set[tuple[int | str, int]] = set()
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._callback_ids: dict[str, bool] = {}  # id -> answered
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._webhook: _Webhook | None = None
        self._owners: dict[int | str, int] = {}  # group chat id -> its owner's user id
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[float]] = {}
        self._drop_downloads = 0
        self._random_faults: RandomFaults | None = None
        self._fault_rng = random.Random(0)
        self.faults_injected: Counter[str] = Counter({kind: 0 for kind in FAULT_KINDS})  # by kind
        self.faults_by_method: Counter[tuple[str, str]] = Counter()  # (kind, method)
        self.set_random_faults(random_faults)
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._started = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, tuple[str, Callable[[Params, dict[str, _Upload]], Awaitable[Any]]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "sendChatAction": self._send_chat_action,
                "sendVoice": self._send_voice,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
                "getChatMember": self._get_chat_member,
                "setMessageReaction": self._set_message_reaction,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }

    # --- lifecycle ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``: PTB appends the token."""
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``: PTB appends the token."""
        return f"{self.root}/file/bot"

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        self._runner, self.root = await serve_on_loopback(app, self.port, access_log=None, shutdown_timeout=2.0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True  # long polls return at once
        self._notify()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def __repr__(self) -> str:  # never show the token
        return f"<FakeTelegram {self.root or 'not started'} calls={len(self._calls)}>"

    # --- recording and waiting ---------------------------------------------------------------------

    def calls(
        self, method: str | None = None, chat_id: int | str | None = None, *, ok: bool | None = None
    ) -> list[Call]:
        """Recorded calls, optionally filtered by method (case-insensitive), chat and success."""
        key = None if chat_id is None else _chat_key(chat_id)
        return [
            c
            for c in self._calls
            if (method is None or c.method.lower() == method.lower())
            and (key is None or c.chat_id == key)
            and (ok is None or c.ok == ok)
        ]

    def sent_messages(self, chat_id: int | str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Messages the bot sent to a chat, in order, as they are now (after edits)."""
        key = _chat_key(chat_id)
        return [
            copy.deepcopy(self._messages[ref])
            for ref in self._bot_messages
            if ref[0] == key and (include_deleted or ref not in self._deleted)
        ]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """The current state of any stored message (user's or bot's), or None."""
        found = self._messages.get((_chat_key(chat_id), message_id))
        return copy.deepcopy(found) if found else None

    def is_deleted(self, chat_id: int | str, message_id: int) -> bool:
        return (_chat_key(chat_id), message_id) in self._deleted

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:  # noqa: ASYNC109
        """Wait until ``predicate()`` is truthy (re-checked after every call and update) and return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{what} not met within {timeout} s.\n{self.summary()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for_call(
        self,
        method: str,
        chat_id: int | str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        ok: bool | None = True,
    ) -> list[Call]:
        """Wait for ``count`` matching calls (by default successful ones) and return all matches."""

        def enough() -> list[Call]:
            found = self.calls(method, chat_id, ok=ok)
            return found if len(found) >= count else []

        chat = "" if chat_id is None else f" to chat {chat_id}"
        return await self.wait_for(enough, timeout, what=f"{count} x {method}{chat}")

    def summary(self, last: int = 25) -> str:
        """Human-readable digest of recent calls (getUpdates polls only counted), for failure messages."""
        polls = sum(1 for c in self._calls if c.method == "getUpdates")
        others = [c for c in self._calls if c.method != "getUpdates"]
        lines = [f"Calls so far: {len(others)} (+{polls} getUpdates), pending updates: {len(self._updates)}"]
        for c in others[-last:]:
            brief = {k: v for k, v in c.params.items() if k != "chat_id"}
            shown = json.dumps(brief, ensure_ascii=False, default=str)
            shown = shown if len(shown) <= 120 else shown[:117] + "..."
            status = "ok" if c.ok else f"{c.status} {c.result}"
            files = f" files={sorted(c.files)}" if c.files else ""
            lines.append(f"  +{c.time - self._started:7.3f}s {c.method} chat={c.chat_id} {shown}{files} -> {status}")
        return "\n".join(lines)

    def _notify(self) -> None:
        """Wake every waiter (long polls, wait_for): they re-check their condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    # --- fault injection ---------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status`` (429 carries retry_after)."""
        parameters = None
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        elif retry_after is not None:
            parameters = {"retry_after": retry_after}
        description = description or HTTPStatus(status).phrase
        self._faults.setdefault(method.lower(), []).append(_Fault(status, description, parameters, times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` answers to ``method`` for ``seconds`` (the call is still processed)."""
        self._delays.setdefault(method.lower(), []).extend([seconds] * times)

    def drop_next_file_download(self, times: int = 1) -> None:
        """Cut the connection half-way through the body of the next ``times`` /file/ downloads."""
        self._drop_downloads += times

    def set_random_faults(self, faults: RandomFaults | None) -> None:
        """Start (or with None, stop) random faults; the random sequence restarts from ``faults.seed``."""
        self._random_faults = faults
        self._fault_rng = random.Random(faults.seed if faults else 0)

    def _random_fault(self, method: str) -> str | None:
        """Draw this call's random fault: "drop", "500", "429" or None; counted when drawn."""
        faults = self._random_faults
        if faults is None:
            return None
        factor = faults.method_factors.get(method.lower(), 1.0)
        draw = self._fault_rng.random()
        kind = None
        for name, rate in (("drop", faults.rate_drop), ("500", faults.rate_500), ("429", faults.rate_429)):
            if draw < rate * factor:
                kind = name
                break
            draw -= rate * factor
        if kind is not None:
            self.faults_injected[kind] += 1
            self.faults_by_method[(kind, method)] += 1
        return kind

    def _random_download_drop(self) -> bool:
        faults = self._random_faults
        if faults is None or self._fault_rng.random() >= faults.rate_download_drop:
            return False
        self.faults_injected["download_drop"] += 1
        self.faults_by_method[("download_drop", "file")] += 1
        return True

    def _take_fault(self, method: str) -> _Fault | None:
        faults = self._faults.get(method.lower())
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
        return fault

    # --- files -------------------------------------------------------------------------------------

    def add_file(self, data: bytes, file_path: str | None = None) -> str:
        """Register bytes as a Telegram file and return its file_id."""
        return self._store_file(data, file_path).file_id

    def file(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def _store_file(self, data: bytes, file_path: str | None = None, folder: str = "documents") -> StoredFile:
        n = next(self._file_seq)
        digest = hashlib.sha1(data).hexdigest()
        stored = StoredFile(
            file_id=f"FAKE-{n:05d}-{digest[:16]}",
            file_unique_id=f"U{digest[:12]}",
            file_path=file_path or f"{folder}/file_{n}",
            data=data,
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _file_object(self, stored: StoredFile, **extra: Any) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            **extra,
        }

    def _photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """PhotoSizes of increasing size like Telegram's; the largest is ``data`` itself.

        Undecodable bytes still get three sizes (all the same bytes, nominal dimensions) so tests can
        exercise the bot's handling of broken images.
        """
        size = _image_size(data)
        if size is None:
            return [
                self._file_object(self._store_file(data, folder="photos"), width=side, height=side)
                for side in PHOTO_THUMB_SIDES
            ]
        sizes = []
        for side in PHOTO_THUMB_SIDES:
            if max(size) > side:
                thumb, width, height = _thumbnail(data, side)
                sizes.append(self._file_object(self._store_file(thumb, folder="photos"), width=width, height=height))
        largest = self._store_file(data, folder="photos")
        sizes.append(self._file_object(largest, width=size[0], height=size[1]))
        return sizes

    # --- chats, messages and updates ---------------------------------------------------------------

    def user(self, user_id: int, **fields: Any) -> dict[str, Any]:
        """The user dict for ``user_id`` (created on first use); keyword fields update it."""
        user = self._users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "pt-br"}
        )
        user.update(fields)
        return copy.deepcopy(user)

    def _chat(self, chat_id: Any, chat_type: str | None = None, user_id: int | None = None) -> dict[str, Any]:
        key = _chat_key(chat_id)
        if key in self._chats:
            return self._chats[key]
        if chat_type is None:
            chat_type = "private" if isinstance(key, int) and key > 0 else "supergroup"
        if chat_type == "private":
            if not isinstance(key, int) or key <= 0:
                raise ValueError(f"private chat ids are positive user ids, got {chat_id!r}")
            person = self.user(user_id if user_id is not None else key)
            chat = {"id": key, "type": "private", "first_name": person["first_name"]}
        elif isinstance(key, int) and key >= 0:
            raise ValueError(f"{chat_type} chat ids are negative, got {chat_id!r}")
        else:
            chat = {"id": key, "type": chat_type, "title": f"Grupo {key}"}
        self._chats[key] = chat
        return chat

    def _new_message(self, chat: dict[str, Any], sender: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        key = chat["id"]
        message_id = self._next_message_id.get(key, 1)
        self._next_message_id[key] = message_id + 1
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": copy.deepcopy(chat),
            "from": copy.deepcopy(sender),
            **content,
        }
        self._messages[(key, message_id)] = message
        return message

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an ``update_id`` is assigned if missing) and return it."""
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._notify()
        return update

    def _user_message(
        self,
        chat_id: int,
        user_id: int,
        chat_type: str,
        content: dict[str, Any],
        reply_to: dict[str, Any] | None,
    ) -> dict[str, Any]:
        chat = self._chat(chat_id, chat_type, user_id)
        if reply_to is not None:
            content["reply_to_message"] = _strip_reply(reply_to)
        message = self._new_message(chat, self.user(user_id), content)
        return self.enqueue({"message": copy.deepcopy(message)})

    def _captioned(self, content: dict[str, Any], caption: str | None) -> dict[str, Any]:
        if caption is not None:
            content["caption"] = caption
            if entities := command_entities(caption):
                content["caption_entities"] = entities
        return content

    def text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a text message (bot_command entities included); returns the update (``["message"]``).

        Every builder returns the queued update; its ``["message"]`` is what a test replies to by passing
        it (or the update itself, or a message from ``sent_messages``) as ``reply_to``.
        """
        content: dict[str, Any] = {"text": text}
        if entities := command_entities(text):
            content["entities"] = entities
        return self._user_message(chat_id, user_id, chat_type, content, reply_to)

    def photo(
        self,
        chat_id: int,
        user_id: int,
        data: bytes,
        caption: str | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a compressed photo with PhotoSizes of increasing size; returns the update."""
        content = self._captioned({"photo": self._photo_sizes(data)}, caption)
        return self._user_message(chat_id, user_id, chat_type, content, reply_to)

    def private_photo(self, chat_id: int, user_id: int, data: bytes, caption: str | None = None) -> dict[str, Any]:
        return self.photo(chat_id, user_id, data, caption)

    def group_photo(
        self,
        chat_id: int,
        user_id: int,
        data: bytes,
        caption: str | None = None,
        chat_type: str = "supergroup",
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A photo in a group (negative ``chat_id``); remember privacy mode: only captions with commands."""
        return self.photo(chat_id, user_id, data, caption, chat_type, reply_to)

    def document(
        self,
        chat_id: int,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a file sent uncompressed (e.g. an image as a document); returns the update."""
        stored = self._store_file(data)
        document = self._file_object(stored, file_name=file_name, mime_type=mime_type)
        content = self._captioned({"document": document}, caption)
        return self._user_message(chat_id, user_id, chat_type, content, reply_to)

    def sticker(
        self,
        chat_id: int,
        user_id: int,
        emoji: str = "😀",
        data: bytes = b"RIFF\x00\x00\x00\x00WEBPVP8 fake sticker",
        chat_type: str = "private",
    ) -> dict[str, Any]:
        stored = self._store_file(data, folder="stickers")
        sticker = self._file_object(
            stored, type="regular", width=512, height=512, is_animated=False, is_video=False, emoji=emoji
        )
        return self._user_message(chat_id, user_id, chat_type, {"sticker": sticker}, None)

    def animation(
        self,
        chat_id: int,
        user_id: int,
        data: bytes,
        file_name: str = "animation.gif.mp4",
        mime_type: str = "video/mp4",
        caption: str | None = None,
        chat_type: str = "private",
    ) -> dict[str, Any]:
        """A GIF as Telegram delivers it: converted to MP4, present as both animation and document."""
        stored = self._store_file(data, folder="animations")
        size = _image_size(data) or (320, 240)
        document = self._file_object(stored, file_name=file_name, mime_type=mime_type)
        animation = {**document, "width": size[0], "height": size[1], "duration": 1}
        content = self._captioned({"animation": animation, "document": document}, caption)
        return self._user_message(chat_id, user_id, chat_type, content, None)

    def callback_query(self, chat_id: int, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """Queue a press on an inline button of ``message``; returns the update."""
        query_id = f"{user_id}{next(self._update_ids)}"
        self._callback_ids[query_id] = False
        query = {
            "id": query_id,
            "from": self.user(user_id),
            "message": _strip_reply(message),
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        return self.enqueue({"callback_query": query})

    # --- HTTP layer --------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        name = request.match_info["method"]
        method, handler = self._handlers.get(name.lower(), (name, self._fallback))
        params: Params = {}
        uploads: dict[str, _Upload] = {}
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            try:
                params, uploads = await self._read_params(request)
            except ConnectionResetError:  # the client went away mid-request (e.g. a bot SIGKILLed while uploading)
                return web.Response(status=HTTPStatus.NO_CONTENT)  # nobody to answer; the call never arrived
            if delays := self._delays.get(method.lower()):
                await asyncio.sleep(delays.pop(0))
            if fault := self._take_fault(method):
                raise ApiError(fault.status, fault.description, fault.parameters)
            match self._random_fault(method):
                case "drop":  # before processing: the call has no effect (see RandomFaults)
                    files = {k: u.data for k, u in uploads.items()}
                    self._calls.append(Call(method, params, files, arrived, DROPPED, "connection dropped (injected)"))
                    self._notify()
                    return self._drop(request)
                case "500":
                    raise ApiError(500, "Internal Server Error")
                case "429":
                    assert self._random_faults is not None
                    retry_after = self._random_faults.retry_after
                    raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
            try:
                result = await handler(params, uploads)
            except (KeyError, ValueError, TypeError) as exc:  # malformed parameters
                raise _bad_request(f"invalid parameters ({exc!r})") from exc
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body, result = exc.status, exc.payload(), exc.description
        files = {k: u.data for k, u in uploads.items()}
        self._calls.append(Call(method, params, files, arrived, status, copy.deepcopy(result)))
        self._notify()
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> tuple[Params, dict[str, _Upload]]:
        params: Params = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        uploads: dict[str, _Upload] = {}
        if request.content_type == "application/json" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError as exc:
                raise _bad_request("can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise _bad_request("JSON object expected")
            params.update(body)
        elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[key] = _Upload(value.file.read(), value.filename, value.content_type)
                else:
                    params[key] = _decode_form_value(key, str(value))
        return params, uploads

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        file_path = request.match_info["file_path"]
        stored = self._file_paths.get(file_path)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        if self._random_download_drop():
            return self._drop(request)
        self.downloads.append(file_path)
        self._notify()
        content_type = mimetypes.guess_type(file_path)[0] or "application/octet-stream"
        if self._drop_downloads <= 0:
            return web.Response(body=stored.data, content_type=content_type)
        self._drop_downloads -= 1
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.content_length = len(stored.data)
        await response.prepare(request)
        await response.write(stored.data[: len(stored.data) // 2])
        assert request.transport is not None
        request.transport.abort()  # the client sees a body shorter than Content-Length
        return response

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection without an answer: the client sees the server disconnect."""
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=HTTPStatus.NO_CONTENT)  # never reaches the client

    # --- Bot API methods ---------------------------------------------------------------------------

    async def _true(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        return True

    async def _fallback(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        """Methods the fake does not model: recorded, answered ``True``."""
        return True

    def set_owner(self, chat_id: int, user_id: int) -> None:
        """Make `user_id` the owner of group `chat_id` (getChatMember answers "creator"); others are members."""
        self._owners[chat_id] = user_id

    async def _get_chat_member(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any]:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        if chat_id is None or user_id is None:
            raise _bad_request("chat_id and user_id are required")
        user = self.user(int(user_id))
        if self._owners.get(_chat_key(chat_id)) == int(user_id):
            return {"status": "creator", "user": user, "is_anonymous": False}
        return {"status": "member", "user": user}

    async def _get_me(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any]:
        return copy.deepcopy(self.bot_user)

    async def _get_updates(self, params: Params, uploads: dict[str, _Upload]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(float(params.get("timeout") or 0), self.long_poll_cap)
        allowed = params.get("allowed_updates") or None
        if offset > 0:  # confirms (forgets) every update before offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # terminates an older long poll, as Telegram does
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            pending = self._updates[offset:] if offset < 0 else self._updates
            if allowed:
                pending = [u for u in pending if any(kind in u for kind in allowed)]
            remaining = deadline - loop.time()
            if pending or remaining <= 0 or self._closing:
                return copy.deepcopy(pending[:limit])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def _set_webhook(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        url = params.get("url") or ""
        await self._stop_webhook()
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if not url:
            return True
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _bad_request("bad webhook: HTTPS url must be provided for webhook")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise _bad_request("bad webhook: HTTPS url must be provided for webhook")
        self._webhook = _Webhook(url, params.get("secret_token"), params.get("allowed_updates") or None)
        if parts.hostname in LOOPBACK_HOSTS:
            self._webhook.task = asyncio.create_task(self._deliver_webhook(self._webhook))
        else:
            self._webhook.last_error = (int(time.time()), "fake Bot API delivers only to loopback hosts")
        return True

    async def _delete_webhook(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        await self._stop_webhook()
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _stop_webhook(self) -> None:
        webhook, self._webhook = self._webhook, None
        if webhook is not None and webhook.task is not None:
            webhook.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await webhook.task

    async def _deliver_webhook(self, webhook: _Webhook) -> None:
        """POST queued updates one by one to a loopback webhook, retrying failures like Telegram."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": webhook.secret_token} if webhook.secret_token else {}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                changed = self._changed
                if not self._updates:
                    await changed.wait()
                    continue
                update = self._updates[0]
                if webhook.allowed_updates and not any(k in update for k in webhook.allowed_updates):
                    self._updates.remove(update)
                    continue
                try:
                    async with session.post(webhook.url, json=update, headers=headers) as response:
                        error = None if response.status < 300 else f"Wrong response from the webhook: {response.status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {exc!r}"
                if error is None:
                    with contextlib.suppress(ValueError):
                        self._updates.remove(update)
                    self._notify()
                else:
                    webhook.last_error = (int(time.time()), error)
                    await asyncio.sleep(0.2)

    async def _get_webhook_info(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook.url if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook and self._webhook.last_error:
            info["last_error_date"], info["last_error_message"] = self._webhook.last_error
        if self._webhook and self._webhook.allowed_updates:
            info["allowed_updates"] = self._webhook.allowed_updates
        return info

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    async def _set_my_commands(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            name, description = str(command.get("command", "")), str(command.get("description", ""))
            if not _BOT_COMMAND_NAME_RE.fullmatch(name) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_INVALID")
        self._commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: Params, uploads: dict[str, _Upload]) -> list[dict[str, Any]]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _formatted(self, text: Any, params: Params, entities_key: str, *, caption: bool) -> dict[str, Any]:
        """Validate a text or caption like Telegram and return its stored fields (text + entities)."""
        field_name = "caption" if caption else "text"
        text = "" if text is None else str(text)
        entities = params.get(entities_key) or []
        parse_mode = str(params.get("parse_mode") or "").lower()
        parser = _PARSERS.get(parse_mode)
        if parser is not None and not entities:
            try:
                text, entities = parser(text)
            except _ParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
        if not caption and not text.strip():
            raise _bad_request("message text is empty")
        if len(text) > (CAPTION_LIMIT if caption else TEXT_LIMIT):
            raise _bad_request("message caption is too long" if caption else "message is too long")
        if not text:
            return {}
        return {field_name: text, entities_key: entities} if entities else {field_name: text}

    def _reply_fields(self, params: Params, chat_key: int | str) -> dict[str, Any]:
        reply = params.get("reply_parameters") or {}
        if not reply and params.get("reply_to_message_id"):
            reply = {"message_id": params["reply_to_message_id"]}
        if not reply:
            return {}
        key = (_chat_key(reply.get("chat_id", chat_key)), int(reply["message_id"]))
        target = self._messages.get(key)
        if target is None or key in self._deleted:
            if reply.get("allow_sending_without_reply"):
                return {}
            raise _bad_request("message to be replied not found")
        return {"reply_to_message": _strip_reply(target)}

    @staticmethod
    def _markup(params: Params) -> dict[str, Any]:
        """Telegram echoes inline keyboards in the sent message; reply keyboards are not echoed."""
        markup = params.get("reply_markup")
        return {"reply_markup": markup} if isinstance(markup, dict) and "inline_keyboard" in markup else {}

    def _send(self, params: Params, content: dict[str, Any]) -> dict[str, Any]:
        if params.get("chat_id") in (None, ""):
            raise _bad_request("chat_id is empty")
        chat = self._chat(params["chat_id"])
        reply = self._reply_fields(params, chat["id"])
        message = self._new_message(chat, self.bot_user_short, {**content, **reply, **self._markup(params)})
        self._bot_messages.append((chat["id"], message["message_id"]))
        return copy.deepcopy(message)

    @property
    def bot_user_short(self) -> dict[str, Any]:
        """The bot as it appears in ``from`` of its messages."""
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    async def _send_message(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any]:
        return self._send(params, self._formatted(params.get("text"), params, "entities", caption=False))

    def _own_message(self, params: Params, action: str) -> dict[str, Any]:
        key = (_chat_key(params.get("chat_id")), int(params["message_id"]))
        message = self._messages.get(key)
        if message is None or key in self._deleted:
            raise _bad_request(f"message to {action} not found")
        if action == "edit" and message["from"].get("id") != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return message

    def _apply_edit(self, message: dict[str, Any], new: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
        """Apply an edit unless it changes nothing (Telegram's "message is not modified")."""
        if all(message.get(k) == new.get(k) for k in keys):
            raise _bad_request(_NOT_MODIFIED)
        for k in keys:
            if k in new:
                message[k] = new[k]
            else:
                message.pop(k, None)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _edit_message_text(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._own_message(params, "edit")
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        new = {**self._formatted(params.get("text"), params, "entities", caption=False), **self._markup(params)}
        return self._apply_edit(message, new, ("text", "entities", "reply_markup"))

    async def _edit_message_caption(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._own_message(params, "edit")
        if "text" in message:
            raise _bad_request("there is no caption in the message to edit")
        new = {**self._media_caption(params), **self._markup(params)}
        return self._apply_edit(message, new, ("caption", "caption_entities", "reply_markup"))

    async def _edit_message_reply_markup(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._own_message(params, "edit")
        return self._apply_edit(message, self._markup(params), ("reply_markup",))

    async def _delete_message(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        message = self._own_message(params, "delete")
        self._deleted.add((message["chat"]["id"], message["message_id"]))
        return True

    async def _send_chat_action(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._chat(params["chat_id"])
        return True

    async def _set_message_reaction(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        self._own_message(params, "react")
        return True

    async def _answer_callback_query(self, params: Params, uploads: dict[str, _Upload]) -> bool:
        query_id = str(params.get("callback_query_id"))
        if self._callback_ids.get(query_id, True):  # unknown or already answered
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        self._callback_ids[query_id] = True
        return True

    async def _get_file(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise _bad_request("file is too big")
        return self._file_object(stored, file_path=stored.file_path)

    async def _input_file(self, name: str, params: Params, uploads: dict[str, _Upload]) -> _Upload:
        """Resolve a file parameter: an upload (direct or attach://), a known file_id, or a loopback URL."""
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
        else:
            upload = uploads.get(name)
        if upload is not None:
            return upload
        if not value:
            raise _bad_request(f"there is no {name} in the request")
        if (stored := self._files.get(str(value))) is not None:
            return _Upload(stored.data, stored.file_path.rsplit("/", 1)[-1])
        if urlsplit(str(value)).scheme in ("http", "https"):
            upload = _Upload(await self._fetch(str(value)), urlsplit(str(value)).path.rsplit("/", 1)[-1])
            uploads[name] = upload  # recorded in Call.files like an upload
            return upload
        raise _bad_request("wrong file identifier/HTTP URL specified")

    async def _fetch(self, url: str) -> bytes:
        """Download a URL given instead of a file, as Telegram does; loopback hosts only."""
        if urlsplit(url).hostname not in LOOPBACK_HOSTS:
            raise _bad_request("failed to get HTTP URL content")
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.get(url) as response,
            ):
                if response.status != 200:
                    raise _bad_request("failed to get HTTP URL content")
                return await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _bad_request("failed to get HTTP URL content") from exc

    def _media_caption(self, params: Params) -> dict[str, Any]:
        return self._formatted(params.get("caption"), params, "caption_entities", caption=True)

    async def _send_photo(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any]:
        upload = await self._input_file("photo", params, uploads)
        if _image_size(upload.data) is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        caption = self._media_caption(params)
        return self._send(params, {"photo": self._photo_sizes(upload.data), **caption})

    async def _send_voice(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any]:
        """OGG/Opus becomes a voice note; anything else arrives as a document, as Telegram does."""
        upload = await self._input_file("voice", params, uploads)
        caption = self._media_caption(params)
        duration = _ogg_opus_duration(upload.data)
        if duration is None:
            return self._send(params, {"document": self._document(upload), **caption})
        stored = self._store_file(upload.data, folder="voice")
        stored_duration = int(params.get("duration") or duration)
        voice = self._file_object(stored, duration=stored_duration, mime_type="audio/ogg")
        return self._send(params, {"voice": voice, **caption})

    def _document(self, upload: _Upload) -> dict[str, Any]:
        name = upload.filename or "file"
        mime = mimetypes.guess_type(name)[0] or upload.content_type or "application/octet-stream"
        return self._file_object(self._store_file(upload.data), file_name=name, mime_type=mime)

    async def _send_document(self, params: Params, uploads: dict[str, _Upload]) -> dict[str, Any]:
        upload = await self._input_file("document", params, uploads)
        return self._send(params, {"document": self._document(upload), **self._media_caption(params)})
