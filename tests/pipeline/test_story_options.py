"""Stories your way: the kind and the length reach the writers, through the pipeline and the Redis wire, and
change the prompt and the story — with a scripted llama.cpp, and with the real SmolLM2 on everyday photos."""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.events import CaptionReady, PipelineInput, StoryKind, StoryLength, StoryOptions, StoryReady
from pipeline.facts import PhotoFacts
from pipeline.remote.wire import JobRequest, deserialize, serialize
from pipeline.story.finish import finish_story, one_hero_name, word_count
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.prompt import ASKED_SHARE, story_messages, story_opener, story_plan, story_seed
from pipeline.story.styles import STYLES
from pipeline.text import split_sentences
from tools.bot_harness import jpeg_bytes
from tools.fake_backends import fake_backends

from .test_story import ScriptedLlama, sentences

KINDS: tuple[StoryKind, ...] = get_args(StoryKind)
LENGTHS: tuple[StoryLength, ...] = get_args(StoryLength)
CAT = PhotoFacts("a cat on a sofa", "a cat", 0, "indoors", None)
TWO = PhotoFacts("two people", "two people", 2)
EVERYDAY = Path(__file__).parents[1] / "data" / "everyday"


def last_request(options: StoryOptions) -> str:
    return story_messages(CAT, "Maya", options)[-1]["content"]


# --- prompts and plans ----------------------------------------------------------------------------------


def test_every_kind_has_its_own_rules_and_example_and_asks_for_its_length() -> None:
    chats = {kind: story_messages(CAT, "Maya", StoryOptions(kind)) for kind in KINDS}
    assert len({chat[0]["content"] for chat in chats.values()}) == len(KINDS)  # system rules
    assert len({chat[2]["content"] for chat in chats.values()}) == len(KINDS)  # worked examples
    assert chats["classic"] == story_messages(CAT, "Maya")  # the default is the classic story
    assert "bedtime" in last_request(StoryOptions("bedtime")) and "asleep" in last_request(StoryOptions("bedtime"))
    assert "bedtime" not in last_request(StoryOptions()) and "poem" in last_request(StoryOptions("poem"))
    asked = {length: re.search(r"about (\d+) words", last_request(StoryOptions(length=length))) for length in LENGTHS}
    assert [int(match[1]) for match in asked.values() if match] == [60, 120, 200]
    assert all(len(line.split()) <= 8 for line in chats["poem"][2]["content"].split("\n"))  # the example is verse


def test_word_limits_grow_with_the_length_and_a_poem_is_half() -> None:
    for style in STYLES.values():
        limits = [style.word_limits(length) for length in LENGTHS]
        assert all(least < aim < most for least, aim, most in limits)
        assert limits[0][1] < limits[1][1] < limits[2][1] and limits[0][2] < limits[2][0]
    assert STYLES["poem"].word_limits("medium") == (45, 60, 80)
    assert STYLES["classic"].word_limits("medium") == (90, 120, 160)  # today's story


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_opens_with_the_subject_or_the_people(kind: StoryKind) -> None:
    style, rng = STYLES[kind], random.Random(3)
    openers = {story_opener(CAT, "Maya", rng, style) for _ in range(30)}
    assert len(openers) >= 2 and all("a cat" in opener.lower() for opener in openers), openers
    assert "Maya" in story_opener(TWO, "Maya", rng, style)


def test_plans_end_bedtime_in_sleep_and_fables_with_a_moral() -> None:
    bedtime = story_plan(CAT, StoryOptions("bedtime"), random.Random(1))
    assert bedtime.ending.endswith("asleep.") or "asleep," in bedtime.ending
    fable = story_plan(CAT, StoryOptions("fable"), random.Random(1))
    assert fable.ending == "The moral of the story is that"  # completed by the model
    assert fable.body_words < fable.max_words  # room for it
    poem = story_plan(CAT, StoryOptions("poem"), random.Random(1))
    assert poem.start.endswith(",\n") and "a cat" in poem.start and not poem.ending
    assert story_plan(CAT, None, random.Random(1)).ending == ""


# --- poems: short lines, whatever the model writes ------------------------------------------------------


def test_a_poem_written_as_prose_is_cut_into_short_lines() -> None:
    prose = (
        "The cat sat on the sofa in the warm afternoon light, dreaming of fish and of mice and of the garden. "
        "It purred softly. Then it yawned, stretched its paws, and went back to sleep on the cushion.\n"
    )
    lines = finish_story(prose, poem=True).split("\n")
    assert len(lines) >= 4 and all(len(line.split()) <= 10 for line in lines), lines
    assert " ".join(lines) == " ".join(prose.split())  # nothing lost


def test_a_poem_keeps_its_stanzas_drops_repeats_and_an_unfinished_last_line() -> None:
    raw = (
        "Here is a cat, what a sight,\nOn the sofa, soft and white.\n\n"
        "It sleeps all day,\nIt sleeps all day,\nAnd then it"
    )
    assert (
        finish_story(raw, poem=True)
        == "Here is a cat, what a sight,\nOn the sofa, soft and white.\n\nIt sleeps all day,"
    )
    # Prose that stops mid-sentence (GPT-2 at its token limit) keeps its whole sentences, one per line.
    assert finish_story("It was dawn. The birds sang. And then the", poem=True) == "It was dawn.\nThe birds sang."


def test_a_poem_cut_at_its_words_ends_at_a_sentence_end() -> None:
    raw = "Ana played with a rabbit.\nThe rabbit ran away,\nAna ran after it.\nWhen she caught it,\nShe smiled.\n"
    story = "Ana played with a rabbit.\nThe rabbit ran away,\nAna ran after it."
    assert finish_story(raw, poem=True, max_words=16) == story  # 17 words: cut after "When she caught it,"
    ended_by_tokens = "Lucas found a flower.\nThe sun was shining, and the flowers were singing,\nAnd the"
    assert finish_story(ended_by_tokens, poem=True) == "Lucas found a flower."


# --- the options reach the writer -----------------------------------------------------------------------


async def test_the_pipeline_hands_the_options_to_the_writer() -> None:
    backends = fake_backends()
    pipeline = Pipeline(PipelineSettings(_env_file=None), backends)
    asked = StoryOptions("poem", "short")
    await pipeline.run(PipelineInput(jpeg_bytes(), options=asked))
    caption = await pipeline.describe(jpeg_bytes())
    _ = [
        event async for event in pipeline.stream(PipelineInput(caption=caption, options=StoryOptions("fable", "long")))
    ]
    assert backends.story_writer.options_seen == [asked, StoryOptions("fable", "long")]


def test_the_options_travel_to_the_workers() -> None:
    request = JobRequest({"url": "http://127.0.0.1:1/m/x"}, "pt", options=StoryOptions("mystery", "short", seed=7))
    assert JobRequest.decode(deserialize(serialize(request.encode()))) == request
    assert JobRequest.decode(JobRequest().encode()).options == StoryOptions()


def scripted(*texts: str) -> tuple[LlamaStoryWriter, ScriptedLlama]:
    writer = LlamaStoryWriter(PipelineSettings(_env_file=None, story_seed=100))
    writer._llm = ScriptedLlama(*texts)
    return writer, writer._llm


@pytest.mark.parametrize(("length", "most"), [("short", 80), ("medium", 160), ("long", 266)])
def test_the_length_decides_where_the_writing_stops(length: StoryLength, most: int) -> None:
    writer, fake = scripted(sentences(60))  # 480 words offered
    story = writer.write_sync(PhotoFacts("a photo"), options=StoryOptions(length=length))
    assert fake.words_read == [most + 1] and most - 8 <= word_count(story) <= most


def test_bedtime_ends_with_our_sleepy_sentence_and_a_fable_with_the_models_moral() -> None:
    # The model's tokens begin with their space, as llama.cpp's do.
    writer, _ = scripted(f" {sentences(12)}")
    story = writer.write_sync(CAT, options=StoryOptions("bedtime"))
    assert "a cat" in split_sentences(story)[0] and "fast asleep" in split_sentences(story)[-1]
    writer, fake = scripted(f" {sentences(12)}", " kindness is never wasted. And then the")
    story = writer.write_sync(CAT, options=StoryOptions("fable"))
    assert story.endswith(" number 11. The moral of the story is that kindness is never wasted.")
    assert fake.words_read[1] == 6  # the moral's sentence was complete: no more was read


# --- the real SmolLM2 on everyday photos ----------------------------------------------------------------

PHOTOS = {  # what the offline captioner says of these photos (tests/data/everyday)
    "kitten.jpg": PhotoFacts("a cat", "a cat"),
    "lighthouse.jpg": PhotoFacts("a lighthouse beneath a bright blue sky", "a lighthouse", 0, "outdoors", "clear"),
    "three-friends.jpg": PhotoFacts("a group of people", "a group of people", 3),
    "pizza.jpg": PhotoFacts("a pizza seen up close", "a pizza"),
}


@pytest.fixture(scope="module")
def llama() -> Iterator[LlamaStoryWriter]:
    writer = LlamaStoryWriter(PipelineSettings(_env_file=None, story_seed=11, llama_threads=1))
    writer.load()
    yield writer


def tell(writer: LlamaStoryWriter, facts: PhotoFacts, **options: Any) -> str:
    return writer.write_sync(facts, options=StoryOptions(**options))


@pytest.mark.models
@pytest.mark.parametrize("photo", list(PHOTOS))
def test_a_real_poem_has_short_lines(llama: LlamaStoryWriter, photo: str) -> None:
    poem = tell(llama, PHOTOS[photo], kind="poem")
    lines = [line for line in poem.split("\n") if line]
    assert len(lines) >= 4 and statistics.median(len(line) for line in lines) <= 60, poem
    assert not any(len(line.split()) > 10 for line in lines), poem


@pytest.mark.models
def test_a_real_long_story_is_clearly_longer_than_a_short_one(llama: LlamaStoryWriter) -> None:
    for facts in PHOTOS.values():
        short, long = tell(llama, facts, length="short"), tell(llama, facts, length="long")
        assert word_count(short) <= 80 and word_count(long) >= 2 * word_count(short), (short, long)
        assert short[-1] in ".!?\"'”’" and long[-1] in ".!?\"'”’"


@pytest.mark.models
@pytest.mark.parametrize("kind", KINDS)
def test_every_real_kind_names_the_subject_and_ends_its_way(llama: LlamaStoryWriter, kind: StoryKind) -> None:
    facts = PHOTOS["lighthouse.jpg"]
    story = tell(llama, facts, kind=kind)
    assert "lighthouse" in story.lower(), story
    if kind == "bedtime":
        assert "asleep" in split_sentences(story)[-1], story
    if kind == "fable":
        assert "The moral of the story is that" in story, story


# --- the quality tier's prompt (unguided) ---------------------------------------------------------------


def test_unguided_chats_give_the_rules_no_example_and_ask_for_fewer_words() -> None:
    guided = story_messages(CAT, "Maya", StoryOptions(length="long"))
    unguided = story_messages(CAT, "Maya", StoryOptions(length="long"), guided=False)
    assert len(guided) == 4 and len(unguided) == 2  # system + the ask: no worked example to copy
    rules = STYLES["classic"].rules
    assert rules in unguided[0]["content"] and rules not in guided[0]["content"]
    asked = re.search(r"(\d+) words in all", unguided[-1]["content"])
    assert asked and int(asked[1]) == round(200 * ASKED_SHARE) < STYLES["classic"].word_limits("long")[0]
    assert "a child named Maya" in unguided[-1]["content"]  # no people in the photo: the hero is no cat
    one = PhotoFacts("a person", "a person", 1)
    assert "Maya, the person in the scene" in story_messages(one, "Maya")[-1]["content"]


def test_an_unguided_poem_is_asked_for_stanzas_of_lines_not_prose() -> None:
    (system, ask) = story_messages(CAT, "Maya", StoryOptions("poem", "medium"), guided=False)
    aim = STYLES["poem"].word_limits("medium")[1]
    assert "in short lines" in system["content"] and "prose" not in system["content"]
    assert ask["content"].startswith(f"Write two stanzas of four short lines, {aim} words in all, and finish the poem.")
    assert f"about {aim} words" in ask["content"]  # the kind's request asks for the same words
    story = STYLES["classic"].rules
    assert "as prose" in story and "poem" not in story


def test_unguided_plans_let_the_model_begin_and_keep_our_endings_for_the_end() -> None:
    plan = story_plan(CAT, StoryOptions("bedtime"), random.Random(1), guided=False)
    assert plan.start == "" and "asleep" in plan.ending
    fable = story_plan(CAT, StoryOptions("fable"), random.Random(1), guided=False)
    assert fable.ending == "The moral of the story is that" and "an animal named" in fable.messages[-1]["content"]


def test_the_prompt_speaks_of_a_scene_and_never_passes_on_the_captioners_hedges() -> None:
    nothing = PhotoFacts("a photo where nothing stands out")
    hedged = PhotoFacts("a photo of what looks like a guitar", "a guitar")
    for facts in (nothing, hedged, CAT):
        prompt = story_messages(facts, "Maya", guided=False)[-1]["content"]
        assert not re.search(r"\b(photo|picture|image|stands out|looks like)\b", prompt), prompt
    assert "Scene: a guitar." in story_messages(hedged, "Maya")[-1]["content"]


def test_the_heros_name_is_spelled_one_way_but_words_and_other_names_stay() -> None:
    story = "Rafael ran home. Then he saw Raphael and his friend Ragnar, and told Rafaela. Rafaela smiled."
    fixed = one_hero_name(story, "Rafael")
    assert fixed == "Rafael ran home. Then he saw Rafael and his friend Ragnar, and told Rafael. Rafaela smiled."
    assert (
        one_hero_name("Then Theo ran, and Thea laughed with Lara.", "Theo")
        == "Then Theo ran, and Theo laughed with Lara."
    )
    plan = story_plan(CAT, StoryOptions(), random.Random(1), guided=False)
    variant = plan.hero[:-1] + ("x" if plan.hero[-1] != "x" else "y")
    assert plan.finish(f"{plan.hero} smiled at the cat, and {variant} laughed.\n") == (
        f"{plan.hero} smiled at the cat, and {plan.hero} laughed."
    )


def test_a_story_asked_with_a_seed_uses_it_over_the_setting() -> None:
    settings = PipelineSettings(_env_file=None, story_seed=100)
    assert story_seed(settings, StoryOptions(seed=7)) == 7
    assert story_seed(settings, StoryOptions()) == story_seed(settings, None) == 100
    assert story_seed(PipelineSettings(_env_file=None), StoryOptions()) is None  # a random story


def test_a_run_needs_a_photo_or_a_caption_to_go_on_from() -> None:
    caption = CaptionReady("a lake", "um lago")
    assert PipelineInput(caption=caption, story=StoryReady("Once.", "Era uma vez.")).photo is None
    with pytest.raises(ValueError, match="a photo, or the caption"):
        PipelineInput()
    with pytest.raises(ValueError, match="a photo, or the caption"):
        PipelineInput(b"a photo", story=StoryReady("Once.", "Era uma vez."))
