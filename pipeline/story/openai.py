"""A chat model on an OpenAI-compatible server writes the story (`story_backend=openai`).

It gets the chat the quality tier's llama writer uses (`story_plan`, unguided, for the asked kind and length);
the answer is cleaned with the plan's `finish`; it does not stream. `openai_story_writer` wraps it with the
llama writer as the fallback (`openai_chat.WithFallback`).
"""

from __future__ import annotations

import random
from typing import Any

from pipeline.config import PipelineSettings
from pipeline.errors import OpenAIAnswerError
from pipeline.events import StoryOptions
from pipeline.facts import PhotoFacts
from pipeline.interfaces import SentenceSink, StoryWriter
from pipeline.openai_chat import ChatCompletions, WithFallback
from pipeline.story.prompt import story_plan, story_seed, token_budget


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
        seed = story_seed(self.settings, options)
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


class StoryWriterWithFallback(WithFallback):
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


def openai_story_writer(settings: PipelineSettings, offline: StoryWriter) -> StoryWriterWithFallback:
    """story_backend=openai: the server's chat model, with `offline` (llama.cpp) as the fallback."""
    return StoryWriterWithFallback(OpenAIStoryWriter(settings), offline)
