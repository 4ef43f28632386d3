"""Bring your own model: captions and stories from any OpenAI-compatible chat-completions server.

Ollama, the llama.cpp server, vLLM and the cloud APIs all speak `POST {base}/chat/completions`, so one
small client (`ChatCompletions`, httpx) serves both stages:

- `OpenAICaptioner` sends the photo (at most 1024 px on its long side, JPEG) as a data URL and asks a vision
  model for a JSON object of facts; the answer is read leniently (fenced JSON, or plain text as the caption).
- `OpenAIStoryWriter` sends the chat the quality tier's llama writer uses (`story_messages`, unguided, for the
  asked kind and length) and cleans the answer with `finish_story`; it does not stream.

A server can be down, slow, wrong or misconfigured, and the offline models are always here, so the backends
the settings build (`openai_captioner`, `openai_story_writer`) wrap each in `_WithFallback`: any HTTP error,
timeout, malformed or empty answer logs one warning (never the key) and the offline backend answers instead.
`load()` warms that offline backend and never touches the network.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from PIL import Image

from .backend import Backend
from .caption import Captioner, build_captioner
from .config import PipelineSettings
from .errors import OpenAIAnswerError
from .events import StoryOptions
from .facts import PhotoFacts
from .story import SentenceSink, StoryWriter, build_story_writer, story_plan, token_budget
from .text import split_sentences
from .threads import run_cpu

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_IMAGE_SIDE = 1024  # vision models resize to ~336-1024 px anyway; bigger only costs upload time
JPEG_QUALITY = 85
CAPTION_MAX_TOKENS = 200

CAPTION_PROMPT = (
    "Look at this photo. Answer with one JSON object and nothing else, with these keys:\n"
    '"caption": one short English sentence in lower case describing the photo, without a final full stop;\n'
    '"subject": the main subject with its article, such as "a cat", "two people" or "a kitchen";\n'
    '"people": the number of people visible (0 if none);\n'
    '"setting": "indoors", "outdoors", or null if you cannot tell.'
)


# --- the HTTP client -----------------------------------------------------------------------------------


class ChatCompletions:
    """`POST {openai_base_url}/chat/completions`: the first choice's message text, or an exception.

    The whole request (connect, upload, the model's thinking, download) must finish within
    `openai_timeout_s`; a non-2xx status raises httpx.HTTPStatusError, an answer without text raises
    OpenAIAnswerError. The httpx client is made on first use, inside the event loop that uses it.
    """

    def __init__(self, settings: PipelineSettings) -> None:
        self.base_url = settings.openai_base_url.rstrip("/")
        self.host = urlsplit(self.base_url).hostname or ""  # for logs: never the whole URL or the key
        self.timeout_s = settings.openai_timeout_s
        self._key = settings.openai_api_key
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            key = self._key.get_secret_value() if self._key is not None else ""
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            self._client = httpx.AsyncClient(timeout=self.timeout_s, headers=headers)
        return self._client

    async def complete(self, model: str, messages: list[dict[str, Any]], **options: Any) -> str:
        payload = {"model": model, "messages": messages, "stream": False, **options}
        async with asyncio.timeout(self.timeout_s):
            response = await self._http().post(f"{self.base_url}/chat/completions", json=payload)
            response.raise_for_status()
            data = response.json()  # not JSON → json.JSONDecodeError, a ValueError
        return answer_text(data)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


# Reasoning models served by Ollama or llama.cpp may think aloud before answering.
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


def answer_text(data: Any) -> str:
    """`choices[0].message.content` of a chat completion (text, or text parts joined), without thinking."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise OpenAIAnswerError("the answer has no choices[0].message.content") from exc
    if isinstance(content, list):  # content parts: [{"type": "text", "text": "..."}]
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    if not isinstance(content, str):
        raise OpenAIAnswerError(f"message content is {type(content).__name__}, not text")
    content = _THINKING.sub("", content).strip()
    if not content:
        raise OpenAIAnswerError("empty message content")
    return content


# --- captions ------------------------------------------------------------------------------------------


def jpeg_data_url(image: Image.Image, max_side: int = MAX_IMAGE_SIDE) -> str:
    """The image as `data:image/jpeg;base64,...`, shrunk to at most `max_side` px on its long side."""
    small = image.convert("RGB")  # a copy: thumbnail() below works in place
    small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)
# "The image shows a cat" → "a cat": chat models like to announce what they describe.
_ANNOUNCEMENT = re.compile(
    r"^(?:in )?(?:the|this) (?:image|photo|photograph|picture),?\s+(?:shows|depicts|features|contains|captures)\s+",
    re.IGNORECASE,
)
_QUOTES = " \"'“”‘’`"


def _lower_first(text: str) -> str:
    """Lower-case the first letter, unless the first word is an acronym ("TV", "UFO")."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def normalise_caption(text: str) -> str:
    """One line, one sentence, lower-case first letter, no final full stop ("" when nothing is left)."""
    text = " ".join(text.split()).strip(_QUOTES)
    text = _ANNOUNCEMENT.sub("", text, count=1)
    sentences = split_sentences(text)
    first = sentences[0] if sentences else ""
    return _lower_first(first.strip(_QUOTES).rstrip(" .").strip(_QUOTES))


def _people(value: Any) -> int:
    """A people count as PhotoFacts keeps it: 0, 1, 2, or 3 for three or more; unreadable → 0."""
    if isinstance(value, bool):
        return 0
    try:
        count = int(float(value))
    except (TypeError, ValueError):
        return 0
    return max(0, min(count, 3))


def _facts_from_json(data: dict[str, Any]) -> PhotoFacts:
    caption = data.get("caption")
    caption = normalise_caption(caption) if isinstance(caption, str) else ""
    if not caption:
        raise OpenAIAnswerError("the JSON answer has no caption")
    subject = data.get("subject")
    subject = (normalise_caption(subject) or None) if isinstance(subject, str) else None
    setting = data.get("setting")
    setting = setting.strip().lower() if isinstance(setting, str) else None
    return PhotoFacts(
        caption=caption,
        subject=subject,
        people=_people(data.get("people")),
        setting="indoors" if setting == "indoors" else "outdoors" if setting == "outdoors" else None,
    )


def parse_caption_answer(text: str) -> PhotoFacts:
    """A vision model's answer → facts: a JSON object (possibly in ```json fences or among other words),
    or plain text, whose first sentence becomes the caption. Broken JSON raises (a ValueError)."""
    fenced = _FENCE.search(text)
    body = (fenced.group(1) if fenced else text).strip()
    start, end = body.find("{"), body.rfind("}")
    if start != -1:
        if end < start:
            raise OpenAIAnswerError("unfinished JSON answer (max_tokens too low?)")
        data = json.loads(body[start : end + 1])
        if not isinstance(data, dict):
            raise OpenAIAnswerError("the JSON answer is not an object")
        return _facts_from_json(data)
    caption = normalise_caption(body)
    if not caption:
        raise OpenAIAnswerError("empty caption")
    return PhotoFacts(caption)


class OpenAICaptioner:
    """A vision chat model describes the photo; see `parse_caption_answer` for how its answer is read."""

    name = "openai"

    def __init__(self, settings: PipelineSettings, chat: ChatCompletions | None = None) -> None:
        self.model = settings.openai_caption_model
        self.chat = chat or ChatCompletions(settings)

    def load(self) -> None:
        """Nothing to load here: the model lives on the server (which is not contacted now)."""

    async def caption(self, image: Image.Image) -> PhotoFacts:
        url = await run_cpu(jpeg_data_url, image)
        content: list[dict[str, Any]] = [
            {"type": "text", "text": CAPTION_PROMPT},
            {"type": "image_url", "image_url": {"url": url}},
        ]
        messages = [{"role": "user", "content": content}]
        answer = await self.chat.complete(self.model, messages, temperature=0.0, max_tokens=CAPTION_MAX_TOKENS)
        return parse_caption_answer(answer)


# --- stories -------------------------------------------------------------------------------------------


class OpenAIStoryWriter:
    """A chat model writes the story from the quality tier's prompt (the kind's rules and RULES, no example)."""

    name = "openai"

    def __init__(self, settings: PipelineSettings, chat: ChatCompletions | None = None) -> None:
        self.settings = settings
        self.model = settings.openai_story_model
        self.chat = chat or ChatCompletions(settings)

    def load(self) -> None:
        """Nothing to load here: the model lives on the server (which is not contacted now)."""

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        seed = self.settings.story_seed
        plan = story_plan(facts, options, random.Random(seed), guided=False)  # a chat model follows the rules
        asked: dict[str, Any] = {
            "temperature": self.settings.story_temperature,
            "max_tokens": token_budget(self.settings, plan.max_words),
        }
        if seed is not None:
            asked["seed"] = seed
        answer = await self.chat.complete(self.model, plan.messages, **asked)
        story = plan.finish(answer + "\n")  # the answer is whole: its last line (of a poem) is finished
        if not story:
            raise OpenAIAnswerError("the model's answer has no complete sentence")
        return story


# --- fallback to the offline backends ------------------------------------------------------------------

# What a server (not our code) can cause: the network, the status, the clock, the answer's contents.
FALLBACK_ERRORS = (httpx.HTTPError, TimeoutError, ValueError, KeyError)


class _WithFallback:
    """Shared by the two wrappers: try the server, and on a failure log one warning and ask `offline`."""

    name = "openai"

    def __init__(self, stage: str, model: str, chat: ChatCompletions, offline: Backend) -> None:
        self._stage = stage
        self._model = model
        self._chat = chat
        self._offline = offline

    def load(self) -> None:
        """Warm the offline backend (it must be ready the moment the server fails); no network here."""
        self._offline.load()

    async def aclose(self) -> None:
        await self._chat.aclose()

    async def _first_that_works(
        self, online: Callable[[], Awaitable[T]], offline: Callable[[], Awaitable[T]], usable: Callable[[T], bool]
    ) -> T:
        extra: dict[str, Any] = {}
        try:
            result = await online()
        except FALLBACK_ERRORS as exc:
            extra["error"] = type(exc).__name__
            if isinstance(exc, httpx.HTTPStatusError):
                extra["status"] = exc.response.status_code
        else:
            if usable(result):
                return result
            extra["error"] = "EmptyAnswer"
        log.warning(
            "openai-compatible model failed; the offline backend answers instead",
            extra={
                "stage": self._stage,
                "backend": "openai",
                "model": self._model,
                "host": self._chat.host,
                "fallback": self._offline.name,
                **extra,
            },
        )
        return await offline()


class CaptionerWithFallback(_WithFallback):
    """`OpenAICaptioner`, or `offline` (the classifier by default) when the server fails."""

    def __init__(self, online: OpenAICaptioner, offline: Captioner) -> None:
        super().__init__("caption", online.model, online.chat, offline)
        self.online = online
        self.offline = offline

    async def caption(self, image: Image.Image) -> PhotoFacts:
        return await self._first_that_works(
            lambda: self.online.caption(image), lambda: self.offline.caption(image), lambda facts: bool(facts.caption)
        )


class StoryWriterWithFallback(_WithFallback):
    """`OpenAIStoryWriter`, or `offline` (the llama backend by default) when the server fails."""

    def __init__(self, online: OpenAIStoryWriter, offline: StoryWriter) -> None:
        super().__init__("story", online.model, online.chat, offline)
        self.online = online
        self.offline = offline

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        """The server's story (not streamed), or the offline writer's (streamed to `on_sentence` if it can)."""
        return await self._first_that_works(
            lambda: self.online.write(facts, options),
            lambda: self.offline.write(facts, options, on_sentence),
            lambda story: bool(story.strip()),
        )


def openai_captioner(settings: PipelineSettings, offline: Captioner | None = None) -> CaptionerWithFallback:
    """caption_backend=openai: the server's vision model, with the offline classifier as the fallback."""
    offline = offline or build_captioner(settings.model_copy(update={"caption_backend": "classifier"}))
    return CaptionerWithFallback(OpenAICaptioner(settings), offline)


def openai_story_writer(settings: PipelineSettings, offline: StoryWriter | None = None) -> StoryWriterWithFallback:
    """story_backend=openai: the server's chat model, with llama.cpp (and STORY_MODEL_PATH) as the fallback."""
    offline = offline or build_story_writer(settings.model_copy(update={"story_backend": "llama"}))
    return StoryWriterWithFallback(OpenAIStoryWriter(settings), offline)
