"""The quality story tier (Qwen2.5-Coder-1.5B) for real: the default a new user gets. A few stories only (a story
takes ~10 s on 2 cores); `make story-eval` measures the tier on the everyday set's report part."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from pipeline.config import PipelineSettings
from pipeline.events import StoryOptions
from pipeline.facts import PhotoFacts
from pipeline.safety import is_suitable
from pipeline.story.finish import word_count
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.prompt import HERO_NAMES, unguided_prompt_start
from pipeline.story.styles import STYLES

pytestmark = pytest.mark.models

CAT = PhotoFacts("a cat on a sofa indoors", "a cat", 0, "indoors", None)
NOTHING = PhotoFacts("a photo where nothing stands out")


@pytest.fixture(scope="module")
def quality() -> Iterator[LlamaStoryWriter]:
    writer = LlamaStoryWriter(PipelineSettings(_env_file=None, story_tier="quality", story_seed=21))
    assert writer.story_model().tier == "quality", writer.story_model().reason  # `make setup` installs it
    writer.load()
    yield writer


def hero_of(story: str) -> str:
    (hero,) = {name for name in HERO_NAMES if re.search(rf"\b{name}\b", story)} or {"?"}
    return hero


def test_a_quality_story_is_whole_about_the_subject_and_streamed_as_written(quality: LlamaStoryWriter) -> None:
    shown: list[str] = []
    story = quality.write_sync(CAT, options=StoryOptions(), on_sentence=shown.append)
    most = STYLES["classic"].word_limits("medium")[2]
    assert story[-1] in ".!?\"'”’" and word_count(story) <= most, story
    assert re.search(r"\bcats?\b", story, re.IGNORECASE), story  # the model names the subject itself
    assert hero_of(story) != "?", story  # one of our heroes, and only one
    assert not re.search(r"\b(picture|photo|image|scene)\b", story, re.IGNORECASE), story
    assert is_suitable(story)
    assert len(shown) >= 3 and " ".join(shown) == " ".join(story.split()), (shown, story)


def test_the_fallback_caption_never_reaches_a_quality_story(quality: LlamaStoryWriter) -> None:
    story = quality.write_sync(NOTHING, options=StoryOptions(kind="bedtime", length="short"))
    assert not re.search(r"nothing stands out|\bphoto\b|\bpicture\b", story, re.IGNORECASE), story
    assert "asleep" in story.lower(), story  # the kind's ending, the model's or ours


def test_a_loaded_quality_writer_has_evaluated_the_default_kinds_system_message() -> None:
    writer = LlamaStoryWriter(PipelineSettings(_env_file=None, story_tier="quality"))
    writer.load()
    llm = writer._llm
    system = llm.tokenize(unguided_prompt_start().encode(), special=True)
    assert len(system) > 100 and list(llm._input_ids) == system  # the first story evaluates only its request
