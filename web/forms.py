"""What a request asks for, read and checked before any story starts: the photo within its limits (from the header
only), the voice's language, the story's kind and length (the bot's /estilo and /tamanho) and the user's own words
(`hint`, `main_character`: as written, refused by `pipeline.names.words_problem`). An upload is a multipart form,
read part by part as it streams in; a random photo's choices come in the query, a form or a JSON object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import cast, get_args

from aiohttp import BodyPartReader, web

from app.failures import invalid_image_text
from pipeline.config import Language
from pipeline.errors import InvalidImageError
from pipeline.events import StoryKind, StoryLength, StoryOptions
from pipeline.images import open_image
from pipeline.names import MAX_WORDS_CHARS, words_problem

from . import texts
from .problems import Problem, bad_request, too_large

__all__ = ["MAX_PARTS", "WORDS_FIELD_BYTES", "read_choices", "read_upload"]

KINDS: tuple[str, ...] = get_args(StoryKind)
LENGTHS: tuple[str, ...] = get_args(StoryLength)
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, headers and the small fields around the photo
SMALL_FIELD_BYTES = 64
WORDS_FIELDS = ("hint", "main_character")  # the user's own words: StoryOptions' fields of the same names
WORDS_FIELD_BYTES = 4 * 1024  # MAX_WORDS_CHARS characters in UTF-8 with room to spare; more is too long anyway
MAX_PARTS = 6  # photo, voice, kind, length, hint, main_character


async def read_upload(request: web.Request, *, max_bytes: int, max_pixels: int) -> tuple[bytes, Language, StoryOptions]:
    """POST /api/stories' form: the photo (checked against the limits), the voice's language and the options."""
    if request.content_length is not None and request.content_length > max_bytes + FORM_OVERHEAD:
        raise too_large(max_bytes)
    if request.content_type != "multipart/form-data":
        raise bad_request()
    fields = await read_form(request, max_bytes)
    photo = fields.get("photo")
    if photo is None:
        raise Problem(400, "no_photo", texts.NO_PHOTO)
    try:
        check_photo(photo, max_bytes=max_bytes, max_pixels=max_pixels)
    except InvalidImageError as exc:
        status = 413 if exc.reason in ("too_large", "too_many_pixels") else 400
        raise Problem(status, exc.reason, invalid_image_text(exc.reason, max_bytes)) from exc
    return photo, language(fields.get("voice")), options(fields)


async def read_choices(request: web.Request) -> tuple[Language, StoryOptions]:
    """POST /api/stories/random's choices, from a form or a JSON object and the query (which wins)."""
    fields: dict[str, str] = {}
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
    elif request.content_type == "application/json":
        fields = await json_fields(request)
    fields.update(request.query)  # the query wins over the body
    return language(fields.get("voice")), options(fields)


def check_photo(data: bytes, *, max_bytes: int, max_pixels: int) -> None:
    """The pipeline's input limits, from the header only (no decoding): raises InvalidImageError with its reason.

    A file that passes can still turn out truncated when the pipeline decodes it; the story's events say so.
    """
    img, _ = open_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    img.close()


async def read_form(request: web.Request, limit: int) -> dict[str, bytes]:
    """The form's fields, the photo within `limit` bytes and the others tiny; read as they stream in."""
    fields: dict[str, bytes] = {}
    try:
        reader = await request.multipart()
        for index in range(MAX_PARTS + 1):
            part = await reader.next()
            if part is None:
                return fields
            if index == MAX_PARTS or not isinstance(part, BodyPartReader):  # one part too many, or nested
                raise bad_request()
            name = part.name or ""
            if name == "photo":
                fields[name] = await read_part(part, limit, partial(too_large, limit))
            elif name in WORDS_FIELDS:
                fields[name] = await read_part(part, WORDS_FIELD_BYTES, partial(words_too_long, name))
            else:
                fields[name] = await read_part(part, SMALL_FIELD_BYTES, bad_request)
    except (ValueError, AssertionError) as exc:  # aiohttp's complaints about a malformed multipart body
        raise bad_request() from exc
    raise bad_request()


async def read_part(part: BodyPartReader, limit: int, too_much: Callable[[], Problem]) -> bytes:
    """A part's bytes, up to `limit`; past it, the `too_much` answer."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise too_much()
        chunks.append(chunk)
    return b"".join(chunks)


async def json_fields(request: web.Request) -> dict[str, str]:
    """A JSON object's text fields ({"kind": "poem", "hint": "…"}); anything but an object is a bad request."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise Problem(400, "bad_request", texts.BAD_JSON) from exc
    if not isinstance(body, dict):
        raise Problem(400, "bad_request", texts.BAD_JSON)
    return {name: value for name, value in body.items() if isinstance(value, str)}


def field(raw: bytes | str | None, default: str) -> str:
    """A small form or query field, trimmed and lowercased; missing or empty is `default`."""
    value = raw.decode(errors="replace") if isinstance(raw, bytes) else raw or ""
    return value.strip().lower() or default


def language(raw: bytes | str | None) -> Language:
    """The voice's language: "pt" unless "en" is asked for."""
    value = field(raw, "pt")
    if value not in ("pt", "en"):
        raise Problem(400, "bad_voice", texts.BAD_VOICE)
    return cast(Language, value)


def options(fields: Mapping[str, bytes | str]) -> StoryOptions:
    """The story's kind and length (the bot's /estilo and /tamanho), classic and medium unless asked, and the
    user's own words (`WORDS_FIELDS`, none unless written)."""
    defaults = StoryOptions()
    chosen_kind = field(fields.get("kind"), defaults.kind)
    chosen_length = field(fields.get("length"), defaults.length)
    if chosen_kind not in KINDS:
        raise Problem(400, "bad_kind", texts.BAD_KIND.format(choices=quoted_choices(KINDS)))
    if chosen_length not in LENGTHS:
        raise Problem(400, "bad_length", texts.BAD_LENGTH.format(choices=quoted_choices(LENGTHS)))
    hint, main_character = (words(name, fields.get(name)) for name in WORDS_FIELDS)
    return StoryOptions(
        cast(StoryKind, chosen_kind), cast(StoryLength, chosen_length), main_character=main_character, hint=hint
    )


def words(name: str, raw: bytes | str | None) -> str:
    """One of the user's own words fields as written (only trimmed), once `words_problem` finds none."""
    text = (raw.decode(errors="replace") if isinstance(raw, bytes) else raw or "").strip()
    match words_problem(text):
        case "too_long":
            raise words_too_long(name)
        case "unsuitable":
            raise Problem(400, f"{name}_unsuitable", texts.WORDS_UNSUITABLE[name], field=name)
    return text


def words_too_long(name: str) -> Problem:
    """The answer to words longer than `MAX_WORDS_CHARS` in the field `name` (hint, main_character)."""
    message = texts.WORDS_TOO_LONG[name].format(max_chars=MAX_WORDS_CHARS)
    return Problem(400, f"{name}_too_long", message, field=name, max_chars=MAX_WORDS_CHARS)


def quoted_choices(values: tuple[str, ...]) -> str:
    """("a", "b", "c") → “a”, “b” ou “c”, for a Portuguese message."""
    quoted = [f"“{value}”" for value in values]
    return f"{', '.join(quoted[:-1])} ou {quoted[-1]}"
