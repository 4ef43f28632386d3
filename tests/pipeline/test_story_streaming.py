"""The story as it is written: the llama writer hands over each sentence as soon as it is complete, the pipeline
translates and yields it (StorySentence) before the whole story (StoryReady), which is made of the same
sentences — with a scripted llama.cpp, fake backends, and the real offline models on everyday photos."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import pytest

from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.events import (
    CaptionReady,
    Event,
    PipelineInput,
    Stage,
    StageFailed,
    StageStarted,
    StoryKind,
    StoryOptions,
    StoryReady,
    StorySentence,
    VoiceReady,
)
from pipeline.facts import PhotoFacts
from pipeline.story.finish import settled, story_units
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.models import StoryModel
from pipeline.translation.translators import join_translations
from tools.bot_harness import jpeg_bytes
from tools.fake_backends import Behaviour, FakeBackends, fake_backends

from .test_story import ScriptedLlama, sentences

EVERYDAY = Path(__file__).parents[1] / "data" / "everyday"
CAT = PhotoFacts("a cat on a sofa", "a cat", 0, "indoors", None)


# --- what is settled, and putting translations together -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "done"),
    [
        ("It was dawn. The birds", "It was dawn. "),
        ("It was dawn. The birds sang.", "It was dawn. "),  # the last one may still gain a quote or "..."
        ("It was dawn.\n", "It was dawn.\n"),
        ("Look at a cat over there,\nOn the", "Look at a cat over there,\n"),
        ("It was", ""),
    ],
)
def test_only_text_that_cannot_change_is_settled(raw: str, done: str) -> None:
    assert settled(raw) == done


def test_a_story_translated_sentence_by_sentence_is_put_back_together() -> None:
    story = "It was dawn. The birds sang.\n\nLia woke up."
    translated = {
        "It was dawn.": "Amanhecia.",
        "The birds sang.": "Os pássaros cantavam.",
        "Lia woke up.": "Lia acordou.",
    }
    assert join_translations(story, translated) == "Amanhecia. Os pássaros cantavam.\n\nLia acordou."
    assert join_translations("A cat,\nso white.", {"A cat,": "Um gato,", "so white.": "tão branco."}) == (
        "Um gato,\ntão branco."
    )
    assert join_translations(story, {"It was dawn.": "Amanhecia."}) is None


# --- the llama writer streams ---------------------------------------------------------------------------


class RecordingLlama(ScriptedLlama):
    """A scripted llama.cpp that also keeps each prompt."""

    def __init__(self, *texts: str) -> None:
        super().__init__(*texts)
        self.prompts: list[str] = []
        self.options: list[dict[str, object]] = []

    def create_completion(self, *, prompt: str, seed: int, stream: bool, **options: object):
        self.prompts.append(prompt)
        self.options.append(options)
        return super().create_completion(prompt=prompt, seed=seed, stream=stream, **options)


def streaming(
    *texts: str, kind: StoryKind = "classic", model: StoryModel | None = None
) -> tuple[str, list[tuple[str, int]], RecordingLlama]:
    """The story the writer returns, each sentence it handed over with the words read by then, and the fake."""
    writer = LlamaStoryWriter(PipelineSettings(_env_file=None, story_seed=100), model)
    fake = RecordingLlama(*texts)
    writer._llm = fake
    shown: list[tuple[str, int]] = []
    story = writer.write_sync(
        CAT, options=StoryOptions(kind), on_sentence=lambda sentence: shown.append((sentence, sum(fake.words_read)))
    )
    return story, shown, fake


def test_each_sentence_is_handed_over_as_soon_as_the_next_one_begins() -> None:
    story, shown, _ = streaming(f" {sentences(12)}")  # llama.cpp's tokens begin with their space
    assert [sentence for sentence, _ in shown] == story_units(story, poem=False)
    assert "a cat" in shown[0][0]  # our first sentence, shown before the model's first word
    assert [read for _, read in shown][:3] == [0, 10, 18]  # then each one word into the next sentence
    assert len(shown) == 13


@pytest.mark.parametrize(("tier", "top_k", "repeat_penalty"), [("quality", 20, 1.05), ("light", 40, 1.15)])
def test_each_tier_samples_as_its_model_was_tuned(
    tier: Literal["quality", "light"], top_k: int, repeat_penalty: float
) -> None:
    _, _, fake = streaming(f" {sentences(12)}", model=StoryModel(tier, Path("model.gguf"), "test"))
    assert fake.options[0]["top_k"] == top_k and fake.options[0]["repeat_penalty"] == repeat_penalty


def test_an_unsuitable_sentence_is_never_shown_and_the_story_goes_on_from_before_it() -> None:
    unsuitable = f" {sentences(3)} Then the old dog died. {sentences(9)}"
    story, shown, fake = streaming(unsuitable, f" {sentences(12, 'again ')}")
    assert "died" not in story and not any("died" in sentence for sentence, _ in shown)
    assert [sentence for sentence, _ in shown] == story_units(story, poem=False)
    assert fake.prompts[1].endswith(sentences(3))  # the second attempt continues what was shown
    assert len(fake.seeds) == 2


def test_a_poem_is_handed_over_line_by_line_and_the_ending_comes_last() -> None:
    poem_lines = " The sofa is soft and wide,\nThe sun is warm outside.\nIt sleeps"  # the last one unfinished
    poem, lines, _ = streaming(poem_lines, "", "", kind="poem")  # too short: two more attempts add nothing
    assert [line for line, _ in lines] == poem.split("\n") and len(lines) == 3
    story, shown, _ = streaming(f" {sentences(12)}", " kindness wins. And", kind="fable")
    assert shown[-1][0] == "The moral of the story is that kindness wins." and story.endswith(shown[-1][0])


# --- the pipeline yields the sentences, translated ------------------------------------------------------


def streaming_pipeline(**writer: object) -> tuple[Pipeline, FakeBackends]:
    backends = fake_backends()
    backends.story_writer.streams = True
    for name, value in writer.items():
        setattr(backends.story_writer, name, value)
    return Pipeline(PipelineSettings(_env_file=None), backends), backends


def kinds(events: list[Event]) -> list[str]:
    return [e.stage.value if isinstance(e, StageStarted) else type(e).__name__ for e in events]


async def test_sentences_come_translated_between_the_story_start_and_the_whole_story() -> None:
    pipeline, _ = streaming_pipeline()
    events = [event async for event in pipeline.stream(PipelineInput(jpeg_bytes(320, 240)))]
    assert kinds(events) == [
        "decode", "caption", "CaptionReady", "story", *["StorySentence"] * 3, "StoryReady", "speech", "VoiceReady",
        "Finished",
    ]  # fmt: skip
    told = [e for e in events if isinstance(e, StorySentence)]
    (story,) = [e for e in events if isinstance(e, StoryReady)]
    assert [s.sentence_en for s in told] == story_units(story.story_en, poem=False)
    assert all(s.sentence_pt == f"[pt] {s.sentence_en}" for s in told)
    # The Portuguese story is made of the sentences' translations: the whole story is not translated again.
    assert story.story_pt == " ".join(s.sentence_pt for s in told)


async def test_the_first_sentence_comes_long_before_the_story_is_finished() -> None:
    pipeline, _ = streaming_pipeline(sentence_delay_s=0.3)
    started = time.perf_counter()
    arrived: dict[type, float] = {}
    async for event in pipeline.stream(PipelineInput(jpeg_bytes())):
        arrived.setdefault(type(event), time.perf_counter() - started)
    assert arrived[StorySentence] < 0.6 and arrived[StoryReady] >= 0.9


async def test_a_failed_sentence_translation_shows_english_and_the_whole_story_is_tried_again() -> None:
    pipeline, backends = streaming_pipeline()
    backends.translator.behaviour = Behaviour(fail=True)
    events = [event async for event in pipeline.stream(PipelineInput(jpeg_bytes()))]
    told = [e for e in events if isinstance(e, StorySentence)]
    assert told and all(s.sentence_pt == s.sentence_en for s in told)
    assert [e.stage for e in events if isinstance(e, StageFailed)] == [Stage.TRANSLATE_CAPTION, Stage.TRANSLATE_STORY]
    voice = next(e.voice for e in events if isinstance(e, VoiceReady))
    assert voice.language == "en"  # the untranslated story is read by the English voice, as before


async def test_a_story_that_fails_after_some_sentences_is_a_failed_story() -> None:
    pipeline, backends = streaming_pipeline(sentence_delay_s=0.2)
    pipeline.settings.stage_timeout_s = 0.5
    events = [event async for event in pipeline.stream(PipelineInput(jpeg_bytes()))]
    assert kinds(events).count("StorySentence") >= 1
    assert [e.stage for e in events if isinstance(e, StageFailed)] == [Stage.STORY]
    assert not any(isinstance(e, StoryReady | VoiceReady) for e in events)
    assert backends.synthesizers["pt"].texts == []


# --- the real offline models ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def real_pipeline() -> Pipeline:
    pipeline = Pipeline(PipelineSettings(_env_file=None, story_seed=5, llama_threads=1))
    await pipeline.warm_up()
    return pipeline


@pytest.mark.models
@pytest.mark.parametrize("photo", ["kitten.jpg", "lighthouse.jpg", "three-friends.jpg"])
async def test_real_stories_are_shown_sentence_by_sentence(real_pipeline: Pipeline, photo: str) -> None:
    arrived: list[tuple[float, Event]] = []
    async for event in real_pipeline.stream(PipelineInput((EVERYDAY / photo).read_bytes())):
        arrived.append((time.perf_counter(), event))
    events = [event for _, event in arrived]
    told = [e for e in events if isinstance(e, StorySentence)]
    (story,) = [e for e in events if isinstance(e, StoryReady)]
    assert len(told) >= 4 and [s.sentence_en for s in told] == story_units(story.story_en, poem=False)
    assert story.story_pt == join_translations(story.story_en, {s.sentence_en: s.sentence_pt for s in told})
    caption_at = next(t for t, e in arrived if isinstance(e, CaptionReady))
    first_at = next(t for t, e in arrived if isinstance(e, StorySentence))
    ready_at = next(t for t, e in arrived if isinstance(e, StoryReady))
    assert first_at - caption_at < (ready_at - caption_at) / 2  # shown long before the story is whole
