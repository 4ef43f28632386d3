"""Bring your own model: one small client (httpx) for any OpenAI-compatible chat-completions server.

Ollama, the llama.cpp server, vLLM and the cloud APIs all speak `POST {base}/chat/completions`; the captioner
(`caption/openai.py`) and the story writer (`story/openai.py`) use it. A server can be down, slow, wrong or
misconfigured, and the offline models are always here, so each of them is wrapped in `WithFallback`: any HTTP
error, timeout, malformed or empty answer logs one warning (never the key) and the offline backend answers
instead. `load()` warms that offline backend and never touches the network.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from pipeline.config import PipelineSettings
from pipeline.errors import OpenAIAnswerError
from pipeline.interfaces import Backend

log = logging.getLogger(__name__)

T = TypeVar("T")


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


# What a server (not our code) can cause: the network, the status, the clock, the answer's contents.
FALLBACK_ERRORS = (httpx.HTTPError, TimeoutError, ValueError, KeyError)


class WithFallback:
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
