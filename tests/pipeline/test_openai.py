"""Bring your own model: the OpenAI-compatible caption and story backends against a loopback fake server,
their fallback to the offline backends (tiny stand-ins here, so no model loads), and the settings."""

from __future__ import annotations

import base64
import io
import logging
import random
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from handlers.config import BotSettings
from pipeline.backends import build_captioner, build_story_writer
from pipeline.caption.captioners import ClassifierCaptioner
from pipeline.caption.openai import CaptionerWithFallback, OpenAICaptioner, openai_captioner, parse_caption_answer
from pipeline.config import PipelineSettings
from pipeline.errors import OpenAIAnswerError, PipelineError
from pipeline.events import StoryOptions
from pipeline.facts import PhotoFacts
from pipeline.openai_chat import ChatCompletions
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.openai import OpenAIStoryWriter, StoryWriterWithFallback, openai_story_writer
from pipeline.story.prompt import HERO_NAMES, story_messages
from tools.fake_openai import FakeOpenAI, Mode

KEY = "sk-test-0123456789abcdef"
FACTS = PhotoFacts("a cat sleeping on a red sofa", subject="a cat", setting="indoors")
OFFLINE_FACTS = PhotoFacts("a close-up photo")
OFFLINE_STORY = "Theo had an ordinary day. It was a good one."
LOGGER = "pipeline.openai_chat"


# --- stand-ins for the offline backends ---------------------------------------------------------------


@dataclass
class StandInCaptioner:
    name: str = "stand-in-caption"
    loaded: bool = False
    calls: int = 0

    def load(self) -> None:
        self.loaded = True

    async def caption(self, image: Image.Image) -> PhotoFacts:
        self.calls += 1
        return OFFLINE_FACTS


@dataclass
class StandInStoryWriter:
    name: str = "stand-in-story"
    loaded: bool = False
    calls: int = 0

    def load(self) -> None:
        self.loaded = True

    async def write(self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: Any = None) -> str:
        self.calls += 1
        return OFFLINE_STORY


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def fake_server() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(hang_s=10.0) as fake:
        yield fake


@pytest.fixture
def fake(fake_server: FakeOpenAI) -> FakeOpenAI:
    fake_server.reset()
    return fake_server


def settings_for(fake: FakeOpenAI, **overrides: Any) -> PipelineSettings:
    values: dict[str, Any] = {"openai_base_url": f"{fake.url}/v1", "openai_timeout_s": 2.0, **overrides}
    return PipelineSettings(_env_file=None, **values)


@pytest.fixture
async def chats() -> AsyncIterator[list[ChatCompletions]]:
    """HTTP clients to close after the test."""
    made: list[ChatCompletions] = []
    yield made
    for chat in made:
        await chat.aclose()


@pytest.fixture
def captioner(
    fake: FakeOpenAI, chats: list[ChatCompletions]
) -> Callable[..., tuple[CaptionerWithFallback, StandInCaptioner]]:
    def make(**overrides: Any) -> tuple[CaptionerWithFallback, StandInCaptioner]:
        offline = StandInCaptioner()
        backend = openai_captioner(settings_for(fake, **overrides), offline)
        chats.append(backend.online.chat)
        return backend, offline

    return make


@pytest.fixture
def story_writer(
    fake: FakeOpenAI, chats: list[ChatCompletions]
) -> Callable[..., tuple[StoryWriterWithFallback, StandInStoryWriter]]:
    def make(**overrides: Any) -> tuple[StoryWriterWithFallback, StandInStoryWriter]:
        offline = StandInStoryWriter()
        backend = openai_story_writer(settings_for(fake, **overrides), offline)
        chats.append(backend.online.chat)
        return backend, offline

    return make


def photo(width: int = 2000, height: int = 1000) -> Image.Image:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    image.paste((40, 40, 200), (0, 0, width // 2, height // 2))
    return image


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


# --- request shape -------------------------------------------------------------------------------------


async def test_caption_request_sends_the_photo_as_a_jpeg_data_url_with_the_bearer_key(
    fake: FakeOpenAI, captioner: Callable[..., tuple[CaptionerWithFallback, StandInCaptioner]]
) -> None:
    backend, offline = captioner(openai_api_key=KEY, openai_caption_model="llava:13b")
    facts = await backend.caption(photo(2000, 1000))

    assert facts == PhotoFacts("a cat sleeping on a red sofa", subject="a cat", people=0, setting="indoors")
    assert offline.calls == 0
    (request,) = fake.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == "llava:13b"
    assert body["stream"] is False
    (message,) = body["messages"]
    assert message["role"] == "user"
    text_part, image_part = message["content"]
    assert text_part["type"] == "text" and '"caption"' in text_part["text"] and '"setting"' in text_part["text"]
    assert image_part["type"] == "image_url"
    url: str = image_part["image_url"]["url"]
    prefix = "data:image/jpeg;base64,"
    assert url.startswith(prefix)
    sent = Image.open(io.BytesIO(base64.b64decode(url.removeprefix(prefix), validate=True)))
    assert sent.format == "JPEG"
    assert sent.size == (1024, 512)  # long side at most 1024 px, proportions kept


async def test_a_small_photo_is_not_enlarged_and_no_key_means_no_authorization_header(
    fake: FakeOpenAI, captioner: Callable[..., tuple[CaptionerWithFallback, StandInCaptioner]]
) -> None:
    for key in (None, ""):
        backend, _ = captioner(openai_api_key=key)
        await backend.caption(photo(300, 200).convert("L"))
    assert len(fake.requests) == 2
    for request in fake.requests:
        assert "authorization" not in request.headers
        url = request.body["messages"][0]["content"][1]["image_url"]["url"]
        sent = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert sent.size == (300, 200) and sent.mode == "RGB"


async def test_story_request_uses_the_story_prompt_and_settings_and_cleans_the_answer(
    fake: FakeOpenAI, story_writer: Callable[..., tuple[StoryWriterWithFallback, StandInStoryWriter]]
) -> None:
    backend, offline = story_writer(
        openai_api_key=KEY, openai_story_model="qwen2.5:7b", story_seed=7, story_temperature=0.9, story_max_tokens=300
    )
    story = await backend.write(FACTS)

    assert offline.calls == 0
    (request,) = fake.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    hero = random.Random(7).choice(HERO_NAMES)
    assert body["model"] == "qwen2.5:7b"
    assert body["messages"] == story_messages(FACTS, hero, guided=False)
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.9, 300, 7)
    # finish_story removed the chat opener and "The End".
    assert story.startswith("Nina found a sleepy cat") and story.endswith("the warmest place in the house.")
    assert "Sure" not in story and "The End" not in story


async def test_story_without_a_seed_sends_none_and_picks_a_known_hero(
    fake: FakeOpenAI, story_writer: Callable[..., tuple[StoryWriterWithFallback, StandInStoryWriter]]
) -> None:
    backend, _ = story_writer()
    await backend.write(FACTS)
    (request,) = fake.requests
    assert "seed" not in request.body and "authorization" not in request.headers
    last = request.body["messages"][-1]["content"]
    assert any(f"The main character is a child named {hero}." in last for hero in HERO_NAMES)


# --- answers -------------------------------------------------------------------------------------------


async def test_caption_reads_fenced_json_and_plain_text(
    fake: FakeOpenAI, captioner: Callable[..., tuple[CaptionerWithFallback, StandInCaptioner]]
) -> None:
    backend, offline = captioner()
    fake.fenced = True
    fake.caption_json = {"caption": "Two children building a sandcastle.", "people": 2, "setting": "outdoors"}
    assert await backend.caption(photo()) == PhotoFacts(
        "two children building a sandcastle", subject=None, people=2, setting="outdoors"
    )
    fake.mode = "ok-plain"
    assert await backend.caption(photo()) == PhotoFacts("a Cat sleeping on a red sofa")
    assert offline.calls == 0


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            '{"caption": "A dog on a beach.", "subject": "The dog.", "people": "1", "setting": " Outdoors "}',
            PhotoFacts("a dog on a beach", subject="the dog", people=1, setting="outdoors"),
        ),
        (
            'Here you go:\n```json\n{"caption": "a crowd at a concert", "people": 40, "setting": "stage"}\n```',
            PhotoFacts("a crowd at a concert", people=3),
        ),
        ('Sure: {"caption": "a bowl of soup", "people": true, "subject": ""}', PhotoFacts("a bowl of soup")),
        ('{"caption": "an empty room", "people": -2, "setting": null}', PhotoFacts("an empty room")),
        ("This photo shows a TV on a table.\nIt is old.", PhotoFacts("a TV on a table")),
        ('"A lighthouse at dusk."', PhotoFacts("a lighthouse at dusk")),
    ],
)
def test_parse_caption_answer_is_lenient(answer: str, expected: PhotoFacts) -> None:
    assert parse_caption_answer(answer) == expected


@pytest.mark.parametrize(
    "answer", ['{"subject": "a cat"}', '{"caption": ""}', '{"caption": "a cat",', '{"caption": a cat}', " "]
)
def test_parse_caption_answer_refuses_what_it_cannot_read(answer: str) -> None:
    with pytest.raises(ValueError):
        parse_caption_answer(answer)


# --- failures and the fallback -------------------------------------------------------------------------

FAILURES: dict[Mode, set[str]] = {
    "slow": {"TimeoutError", "ReadTimeout"},
    "http-500": {"HTTPStatusError"},
    "malformed": {"OpenAIAnswerError"},
    "garbage": {"JSONDecodeError"},
    "empty": {"OpenAIAnswerError"},
}


@pytest.mark.parametrize("mode", list(FAILURES))
async def test_caption_falls_back_to_the_offline_captioner_with_one_warning(
    mode: Mode,
    fake: FakeOpenAI,
    captioner: Callable[..., tuple[CaptionerWithFallback, StandInCaptioner]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    backend, offline = captioner(openai_api_key=KEY, openai_timeout_s=0.3)
    fake.mode = mode
    started = time.perf_counter()
    assert await backend.caption(photo()) == OFFLINE_FACTS
    assert time.perf_counter() - started < 2.0
    assert offline.calls == 1 and len(fake.requests) == 1
    (record,) = warnings_of(caplog)
    assert record.__dict__["error"] in FAILURES[mode]
    assert record.__dict__["stage"] == "caption" and record.__dict__["backend"] == "openai"
    assert record.__dict__["host"] == "127.0.0.1" and record.__dict__["fallback"] == "stand-in-caption"
    assert record.__dict__.get("status") == (500 if mode == "http-500" else None)
    assert KEY not in record.getMessage() and KEY not in repr(record.__dict__)


@pytest.mark.parametrize("mode", list(FAILURES))
async def test_story_falls_back_to_the_offline_writer_with_one_warning(
    mode: Mode,
    fake: FakeOpenAI,
    story_writer: Callable[..., tuple[StoryWriterWithFallback, StandInStoryWriter]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    backend, offline = story_writer(openai_api_key=KEY, openai_timeout_s=0.3)
    fake.mode = mode
    assert await backend.write(FACTS) == OFFLINE_STORY
    assert offline.calls == 1
    (record,) = warnings_of(caplog)
    assert record.__dict__["error"] in FAILURES[mode]
    assert record.__dict__["stage"] == "story" and record.__dict__["fallback"] == "stand-in-story"
    assert KEY not in record.getMessage() and KEY not in repr(record.__dict__)


@pytest.mark.parametrize(
    ("caption_json", "error"),
    [({"subject": "a cat"}, "OpenAIAnswerError"), ({"caption": 42}, "OpenAIAnswerError")],
)
async def test_a_caption_answer_without_a_caption_falls_back(
    caption_json: dict[str, Any],
    error: str,
    fake: FakeOpenAI,
    captioner: Callable[..., tuple[CaptionerWithFallback, StandInCaptioner]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    backend, offline = captioner()
    fake.caption_json = caption_json
    assert await backend.caption(photo()) == OFFLINE_FACTS
    assert offline.calls == 1
    (record,) = warnings_of(caplog)
    assert record.__dict__["error"] == error


async def test_a_story_with_no_complete_sentence_falls_back(
    fake: FakeOpenAI,
    story_writer: Callable[..., tuple[StoryWriterWithFallback, StandInStoryWriter]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    backend, offline = story_writer()
    fake.story = "Once upon a time there was a cat who"
    assert await backend.write(FACTS) == OFFLINE_STORY
    assert offline.calls == 1
    (record,) = warnings_of(caplog)
    assert record.__dict__["error"] == "OpenAIAnswerError"


async def test_an_unreachable_server_falls_back(chats: list[ChatCompletions], caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = PipelineSettings(_env_file=None, openai_base_url=f"http://127.0.0.1:{port}/v1", openai_timeout_s=2.0)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    backend = openai_story_writer(settings, StandInStoryWriter())
    chats.append(backend.online.chat)
    assert await backend.write(FACTS) == OFFLINE_STORY
    (record,) = warnings_of(caplog)
    assert record.__dict__["error"] == "ConnectError"


async def test_the_bare_backends_raise_what_the_fallback_catches(
    fake: FakeOpenAI, chats: list[ChatCompletions]
) -> None:
    settings = settings_for(fake, openai_timeout_s=0.3)
    caption, story = OpenAICaptioner(settings), OpenAIStoryWriter(settings)
    chats += [caption.chat, story.chat]
    fake.mode = "http-500"
    with pytest.raises(httpx.HTTPStatusError):
        await caption.caption(photo())
    fake.mode = "slow"
    with pytest.raises((TimeoutError, httpx.TimeoutException)):
        await story.write(FACTS)
    fake.mode = "malformed"
    with pytest.raises(OpenAIAnswerError) as caught:
        await story.write(FACTS)
    # A pipeline error too: used without the fallback, the stage fails cleanly instead of "crashing".
    assert isinstance(caught.value, PipelineError) and isinstance(caught.value, ValueError)


async def test_load_warms_the_offline_backend_and_touches_no_network(
    fake: FakeOpenAI,
    captioner: Callable[..., tuple[CaptionerWithFallback, StandInCaptioner]],
    story_writer: Callable[..., tuple[StoryWriterWithFallback, StandInStoryWriter]],
) -> None:
    caption, caption_offline = captioner()
    story, story_offline = story_writer()
    caption.load()
    story.load()
    assert caption_offline.loaded and story_offline.loaded
    assert fake.requests == []
    assert caption.name == story.name == "openai"


# --- settings and registration -------------------------------------------------------------------------


def test_build_functions_choose_openai_with_the_offline_defaults_as_fallback(tmp_path: Path) -> None:
    gguf = tmp_path / "my-model.Q4_K_M.gguf"
    settings = PipelineSettings(_env_file=None, caption_backend="openai", story_backend="openai", story_model_path=gguf)
    captioner = build_captioner(settings)
    assert isinstance(captioner, CaptionerWithFallback)
    assert isinstance(captioner.offline, ClassifierCaptioner)
    writer = build_story_writer(settings)
    assert isinstance(writer, StoryWriterWithFallback)
    assert isinstance(writer.offline, LlamaStoryWriter) and writer.offline.story_model().path == gguf


def test_story_model_path_reaches_the_llama_writer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert isinstance(default := build_story_writer(PipelineSettings(_env_file=None)), LlamaStoryWriter)
    assert default.story_model().path is None  # the packaged SmolLM2 (STORY_TIER=light in tests/conftest.py)
    gguf = tmp_path / "qwen2.5-0.5b-instruct-q4_k_m.gguf"
    monkeypatch.setenv("STORY_MODEL_PATH", str(gguf))
    writer = build_story_writer(PipelineSettings(_env_file=None))
    assert isinstance(writer, LlamaStoryWriter) and writer.story_model().path == gguf


def test_openai_settings_come_from_the_environment_and_the_key_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = PipelineSettings(_env_file=None)
    assert defaults.openai_base_url == "http://127.0.0.1:11434/v1" and defaults.openai_api_key is None
    assert (defaults.openai_caption_model, defaults.openai_story_model) == ("llava", "llama3.2")
    for name, value in {
        "CAPTION_BACKEND": "openai",
        "STORY_BACKEND": "openai",
        "OPENAI_BASE_URL": "https://api.example.com/v1/",
        "OPENAI_API_KEY": KEY,
        "OPENAI_CAPTION_MODEL": "gpt-4o-mini",
        "OPENAI_STORY_MODEL": "gpt-4o",
        "OPENAI_TIMEOUT_S": "12.5",
    }.items():
        monkeypatch.setenv(name, value)
    settings = BotSettings(_env_file=None)
    assert (settings.caption_backend, settings.story_backend) == ("openai", "openai")
    assert settings.openai_caption_model == "gpt-4o-mini" and settings.openai_story_model == "gpt-4o"
    assert settings.openai_timeout_s == 12.5
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == KEY
    assert KEY not in repr(settings)
    assert KEY in settings.secrets()  # redacted from every log line
    chat = ChatCompletions(settings)
    assert chat.base_url == "https://api.example.com/v1" and chat.host == "api.example.com"
