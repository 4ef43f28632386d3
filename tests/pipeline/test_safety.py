"""Safe for children on every writer path: the word lists in English and Portuguese (what they catch, and the
innocent words they must let through), cutting a story before its first unsuitable sentence, and the pipeline's
check on every writer's story — an OpenAI-compatible server (loopback fake) that writes unsuitable text, a
streaming writer, a translation that turns unsuitable, the llama writer and a stub GPT-2 — where no unsuitable
text may reach any event or the voice."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pipeline.backends import Backends
from pipeline.config import Language, PipelineSettings
from pipeline.core import Pipeline
from pipeline.errors import UnsuitableStory
from pipeline.events import (
    Event,
    PipelineInput,
    Stage,
    StageFailed,
    StoryOptions,
    StoryReady,
    StorySentence,
    VoiceReady,
)
from pipeline.facts import PhotoFacts
from pipeline.interfaces import SentenceSink
from pipeline.safety import (
    MIN_KEPT_WORDS,
    WORDS_FILE,
    cut_at_unsuitable,
    enough_left,
    findings,
    is_suitable,
    unsuitable_words,
)
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.openai import openai_story_writer
from pipeline.text import split_sentences
from pipeline.translation.translators import translate_lines
from tools.bot_harness import jpeg_bytes
from tools.fake_backends import FakeCaptioner, FakeSynthesizer, FakeTranslator
from tools.fake_openai import FakeOpenAI, Recorded

from .test_story import ScriptedLlama

# --- the word lists -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("Luminaria helped Tomas make love to Luna.", ["make love"]),  # the story seen through the openai path
        ("They were making love under the tree.", ["making love"]),
        ("The soldier was killed in the war.", ["killed", "war"]),
        ("The old dog died, and they dug its grave in the cemetery.", ["died", "cemetery"]),
        ("He pulled out a gun and loaded the bullets.", ["gun", "bullets"]),
        ("She looked so sexy, almost naked.", ["sexy", "naked"]),
        ("Dad drank three beers and got drunk.", ["beers", "drunk"]),
        ("What the hell, you idiot!", ["hell", "idiot"]),
        ("He wanted to kill himself.", ["kill"]),
        ("It was self-harm.", ["self-harm"]),
        ("Zombies crawled through the blood and gore.", ["Zombies", "blood", "gore"]),
        ("The Nazi soldiers marched.", ["Nazi"]),
        ("The MURDERER hid in the dark.", ["MURDERER"]),
        ("After the car crash the driver was badly hurt.", ["car crash", "badly hurt"]),
    ],
)
def test_english_words_that_have_no_place_in_a_childrens_story_are_caught(text: str, caught: list[str]) -> None:
    assert unsuitable_words(text, "en") == caught
    assert not is_suitable(text, "en") and not is_suitable(text, "pt")  # Portuguese text checks English words too


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("Luminaria ajudou Tomas a fazer amor a Luna.", ["fazer amor"]),  # the story seen through the openai path
        ("Eles fizeram amor na praia.", ["fizeram amor"]),
        ("O cachorro morreu e foi enterrado no cemitério.", ["morreu", "cemitério"]),
        ("O caçador matou o lobo com uma espingarda.", ["matou", "espingarda"]),
        ("Ela estava nua no quarto.", ["nua"]),
        ("Tomas olhou para a menina sexy.", ["sexy"]),
        ("O pai bebeu cerveja e ficou bêbado.", ["cerveja", "bêbado"]),
        ("Que merda, seu idiota!", ["merda", "idiota"]),
        ("Ele queria se matar.", ["se matar"]),
        ("O zumbi estava coberto de sangue.", ["zumbi", "sangue"]),
        ("Havia um CAIXÃO e um caixao.", ["CAIXÃO", "caixao"]),  # case and accents do not matter
        ("O pirata disse: damn!", ["damn"]),  # English the translator left as it was
        ("O carro caiu de uma ponte e eles ficaram mal feridos!", ["mal feridos"]),  # read in the 300 quality run
    ],
)
def test_portuguese_words_that_have_no_place_in_a_childrens_story_are_caught(text: str, caught: list[str]) -> None:
    assert unsuitable_words(text, "pt") == caught
    assert not is_suitable(text, "pt")


@pytest.mark.parametrize(
    "text",
    [
        "They drove through Sussex and Essex with great skill.",
        "The warm wind made a swarm of bees dance; Maya won an award.",
        "The class assistant passed the shell to the therapist in Scunthorpe.",
        "The heroine left the horse in the stable and read the bulletin.",
        "A shooting star crossed the sky, and Tomas took a shot at the goal.",
        "They killed time watching a killer whale with the naked eye.",
        "The battery died, the wind died down and they reached a dead end.",
        "The bloodhound sniffed the dead leaves and a blood orange.",
        "They played tug of war, drank root beer and filled a water pistol.",
        "Hello! The diet was healthy, and the studied bodies of the buddies were fine.",
        "In the condominium they shared liquorice and a shrimp cocktail.",
        "Grandma gave them a hug and a kiss before bed.",
        "The waves crash on the rocks; Mia cared for an injured bird and hurt her knee.",
    ],
)
def test_innocent_english_near_misses_pass(text: str) -> None:
    assert unsuitable_words(text, "en") == []
    assert is_suitable(text, "en")


@pytest.mark.parametrize(
    "text",
    [
        "Vamos assistir ao filme e ler o documento.",
        "Depois do jogo, eles beberam água para matar a sede.",
        "O cachorro correu pela mata até o mato no alto do morro.",
        "A heroína comeu uma bala de morango e ouviu a cigarra.",
        "A piranha nadou perto do guerreiro; o armário tinha uma armadilha.",
        "As árvores estavam nuas no inverno e dava para ver a olho nu.",
        "Estou morrendo de fome! A bateria morreu.",
        "Eles viram uma baleia assassina e comeram uma bomba de chocolate.",
        "Brincaram de cabo de guerra e de guerra de travesseiros.",
        "Na sexta-feira comeram mortadela com cuidado, curiosos, no computador.",
        "Houve uma disputa, mas ele manteve o sangue frio diante da natureza morta.",
        "A abelha zumbiu, e com o zumbido a porta arrombada se abriu.",
    ],
)
def test_innocent_portuguese_near_misses_pass(text: str) -> None:
    assert unsuitable_words(text, "pt") == []
    assert is_suitable(text, "pt")


def test_english_text_is_not_checked_against_the_portuguese_lists() -> None:
    assert is_suitable("The Greek letter nu comes after mu.", "en")
    assert not is_suitable("O menino estava nu.", "pt")


def test_each_finding_names_its_topic() -> None:
    found = findings("He hid a pistol and a bottle of vodka, and the corpse.", "en")
    assert [(f.topic, f.words) for f in found] == [
        ("weapons", "pistol"),
        ("drugs_and_alcohol", "vodka"),
        ("death", "corpse"),
    ]


def test_the_word_file_has_both_languages_for_every_topic() -> None:
    with WORDS_FILE.open("rb") as file:
        data = tomllib.load(file)
    topics = data["topics"]
    expected = {"violence", "death", "weapons", "sex", "drugs_and_alcohol", "swearing", "self_harm"}
    assert expected | {"horror_and_gore", "hate"} == set(topics)
    for lists in [*topics.values(), data["allowed"]]:
        assert set(lists) == {"en", "pt"}
        for entries in lists.values():
            assert entries and all(entry == entry.lower().strip() for entry in entries)


# --- cutting a story ------------------------------------------------------------------------------------------


def test_a_story_is_cut_before_its_first_unsuitable_sentence() -> None:
    story = "Nina woke up early. The sun was out.\nThen the dog died. Nina cried.\n\nThe end came."
    assert cut_at_unsuitable(story, "en") == "Nina woke up early. The sun was out."
    assert cut_at_unsuitable("Nina woke up. She ran.\nThe dog was fine. It died.\nBye.") == (
        "Nina woke up. She ran.\nThe dog was fine."
    )
    assert cut_at_unsuitable("The gun was loaded. Nina ran.") == ""
    assert cut_at_unsuitable("Ana sorriu.\nO gato morreu.", "pt") == "Ana sorriu."
    suitable = "A poem about a cat,\nso soft and white.\n\nIt sleeps all day."
    assert cut_at_unsuitable(suitable) == suitable


def test_enough_left_needs_two_sentences_and_the_least_words() -> None:
    two_short = "Nina woke up. She smiled."
    one_long = "Nina " + "walked and " * 15 + "stopped."
    two_long = one_long + " She smiled at the sun."
    assert len(one_long.split()) >= MIN_KEPT_WORDS
    assert not enough_left(two_short) and not enough_left(one_long) and enough_left(two_long)


# --- the pipeline: every writer's story is checked ------------------------------------------------------------

GOOD = [
    "Nina found a sleepy cat on the red sofa.",
    "The cat would not move, not even for a bowl of milk.",
    "Nina sat beside it and read a book aloud, page after page.",
    "Slowly the cat opened one eye and climbed into her lap.",
    "From then on, the red sofa was the warmest place in the house.",
]
BAD_EN = "Then Luminaria helped Tomas make love to Luna."
INNOCENT_EN = "Then Luminaria helped Tomas with Luna."  # what a translator can make unsuitable
BAD_PT = "Então Luminaria ajudou Tomas a fazer amor a Luna."


def story(*sentences: str) -> str:
    return " ".join(sentences)


LATE_BAD = story(*GOOD[:3], BAD_EN, *GOOD[3:])  # 3 sentences and 33 words before it: enough to cut there
EARLY_BAD = story(GOOD[0], BAD_EN, *GOOD[1:])  # one sentence before it: written again


@dataclass
class PhraseTranslator:
    """Translates sentence by sentence, like the offline translator: "[pt] sentence", or a given translation."""

    phrases: dict[str, str] = field(default_factory=dict)
    name: str = "phrase-translate"
    texts: list[str] = field(default_factory=list)

    def load(self) -> None:
        pass

    async def translate(self, text: str) -> str:
        self.texts.append(text)
        return translate_lines(text, lambda sentence: self.phrases.get(sentence, f"[pt] {sentence}"))


@dataclass
class ScriptedWriter:
    """Writes the given stories in turn (the last one again when they run out); streams them when told to."""

    stories: list[str]
    streams: bool = False
    name: str = "scripted-story"
    calls: int = 0

    def load(self) -> None:
        pass

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        text = self.stories[min(self.calls, len(self.stories) - 1)]
        self.calls += 1
        if self.streams and on_sentence is not None:
            for sentence in split_sentences(text):
                on_sentence(sentence)
        return text


def backends_with(writer: Any, translator: PhraseTranslator | None = None) -> Backends:
    return Backends(
        captioner=FakeCaptioner(),
        story_writer=writer,
        translator=translator or PhraseTranslator(),
        words_translator=FakeTranslator(target="en"),
        synthesizers={"pt": FakeSynthesizer("pt"), "en": FakeSynthesizer("en")},
    )


async def run(backends: Backends, voice_language: Language = "pt", **settings: Any) -> list[Event]:
    pipeline = Pipeline(PipelineSettings(_env_file=None, **settings), backends)
    return [event async for event in pipeline.stream(PipelineInput(jpeg_bytes(), voice_language=voice_language))]


def told_texts(events: Iterable[Event], backends: Backends) -> list[tuple[str, Language]]:
    """Every text the run told: the sentences, the whole story, both languages, and what the voices read."""
    texts: list[tuple[str, Language]] = []
    for event in events:
        if isinstance(event, StorySentence):
            texts += [(event.sentence_en, "en"), (event.sentence_pt, "pt")]
        if isinstance(event, StoryReady):
            texts += [(event.story_en, "en"), (event.story_pt, "pt")]
    for language, synthesizer in backends.synthesizers.items():
        assert isinstance(synthesizer, FakeSynthesizer)
        texts += [(text, "en" if language == "en" else "pt") for text in synthesizer.texts]
    return texts


def assert_nothing_unsuitable_told(events: list[Event], backends: Backends) -> None:
    texts = told_texts(events, backends)
    assert all(is_suitable(text, language) for text, language in texts)
    assert not any("make love" in text or "fazer amor" in text for text, _ in texts)  # not only by the checker


def the_story(events: list[Event]) -> StoryReady:
    (ready,) = [event for event in events if isinstance(event, StoryReady)]
    return ready


class StoriesInTurn(FakeOpenAI):
    """The fake OpenAI-compatible server, answering story requests with `stories` in turn (the last one again)."""

    stories: list[str]

    def _content(self, recorded: Recorded) -> str:
        if recorded.has_image or not getattr(self, "stories", None):
            return super()._content(recorded)
        return self.stories[min(len(self.requests), len(self.stories)) - 1]


@pytest.fixture
async def server() -> AsyncIterator[StoriesInTurn]:
    async with StoriesInTurn(hang_s=5.0) as fake:
        yield fake


async def openai_run(server: StoriesInTurn, *stories: str, voice_language: Language = "pt") -> list[Event]:
    """A whole pipeline run whose story comes from the fake server (the offline fallback must not answer)."""
    server.stories = list(stories)
    settings = PipelineSettings(
        _env_file=None, story_backend="openai", openai_base_url=f"{server.url}/v1", openai_timeout_s=5.0
    )
    writer = openai_story_writer(settings, offline=ScriptedWriter(["The offline writer answered."]))
    backends = backends_with(writer)
    try:
        events = await run(backends, voice_language)
    finally:
        await writer.aclose()
    assert_nothing_unsuitable_told(events, backends)
    return events


async def test_a_late_unsuitable_sentence_from_the_server_is_cut_before_it(
    server: StoriesInTurn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pipeline.core")
    events = await openai_run(server, LATE_BAD)
    ready = the_story(events)
    assert ready.story_en == story(*GOOD[:3])
    assert ready.story_pt == story(*(f"[pt] {sentence}" for sentence in GOOD[:3]))
    assert len(server.requests) == 1 and not [e for e in events if isinstance(e, StageFailed)]
    assert any(isinstance(e, VoiceReady) for e in events)
    (record,) = [r for r in caplog.records if r.getMessage() == "unsuitable story"]
    assert record.__dict__["action"] == "cut"
    assert record.__dict__["caught"] == [{"en": ["make love"], "pt": [], "kept_words": 33}]


async def test_an_early_unsuitable_sentence_from_the_server_is_written_again(server: StoriesInTurn) -> None:
    events = await openai_run(server, EARLY_BAD, story(*GOOD))
    assert the_story(events).story_en == story(*GOOD)
    assert len(server.requests) == 2


async def test_a_server_that_writes_only_unsuitable_stories_fails_the_story_stage(
    server: StoriesInTurn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pipeline.core")
    events = await openai_run(server, EARLY_BAD, story(BAD_EN, *GOOD))
    (failed,) = [e for e in events if isinstance(e, StageFailed)]
    assert failed.stage == Stage.STORY and isinstance(failed.error.__cause__, UnsuitableStory)
    assert not any(isinstance(e, StoryReady | VoiceReady | StorySentence) for e in events)
    assert len(server.requests) == 2
    (record,) = [r for r in caplog.records if r.getMessage() == "unsuitable story"]
    assert record.__dict__["action"] == "failed"
    assert [attempt["kept_words"] for attempt in record.__dict__["caught"]] == [9, 0]


async def test_an_english_voice_reads_only_the_story_as_cut(server: StoriesInTurn) -> None:
    events = await openai_run(server, LATE_BAD, voice_language="en")
    voice = next(e.voice for e in events if isinstance(e, VoiceReady))
    assert voice.language == "en"
    assert the_story(events).story_en == story(*GOOD[:3])


@pytest.mark.parametrize("streams", [True, False], ids=["streamed", "whole"])
async def test_an_unsuitable_english_sentence_is_never_told_nor_anything_after_it(streams: bool) -> None:
    backends = backends_with(ScriptedWriter([LATE_BAD], streams=streams))
    events = await run(backends)
    assert_nothing_unsuitable_told(events, backends)
    told = [e.sentence_en for e in events if isinstance(e, StorySentence)]
    assert told == (GOOD[:3] if streams else [])
    assert the_story(events).story_en == story(*GOOD[:3])


@pytest.mark.parametrize("streams", [True, False], ids=["streamed", "whole"])
async def test_a_translation_that_turns_unsuitable_is_cut_there(streams: bool) -> None:
    translator = PhraseTranslator({INNOCENT_EN: BAD_PT})
    backends = backends_with(ScriptedWriter([story(*GOOD[:3], INNOCENT_EN, *GOOD[3:])], streams=streams), translator)
    events = await run(backends)
    assert_nothing_unsuitable_told(events, backends)
    told = [e.sentence_pt for e in events if isinstance(e, StorySentence)]
    assert told == ([f"[pt] {sentence}" for sentence in GOOD[:3]] if streams else [])
    ready = the_story(events)
    assert ready.story_en == story(*GOOD[:3])
    assert ready.story_pt == story(*(f"[pt] {sentence}" for sentence in GOOD[:3]))
    assert backends.synthesizers["pt"].texts == [ready.story_pt]  # type: ignore[attr-defined]


async def test_an_early_unsuitable_translation_makes_the_writer_write_again() -> None:
    translator = PhraseTranslator({INNOCENT_EN: BAD_PT})
    writer = ScriptedWriter([story(GOOD[0], INNOCENT_EN, *GOOD[1:]), story(*GOOD)], streams=True)
    backends = backends_with(writer, translator)
    events = await run(backends)
    assert_nothing_unsuitable_told(events, backends)
    assert [e.sentence_en for e in events if isinstance(e, StorySentence)] == GOOD[:1]  # shown before the hold
    assert the_story(events).story_en == story(*GOOD) and writer.calls == 2


async def test_a_suitable_story_is_told_whole_and_written_once() -> None:
    writer = ScriptedWriter([story(*GOOD)], streams=True)
    backends = backends_with(writer)
    events = await run(backends)
    assert [e.sentence_en for e in events if isinstance(e, StorySentence)] == GOOD
    assert the_story(events).story_en == story(*GOOD) and writer.calls == 1


# --- the writers' own check -----------------------------------------------------------------------------------


def test_the_llama_writer_holds_back_what_its_old_word_list_let_through() -> None:
    filler = " ".join(f"Maya walked along the quiet shore number {i}." for i in range(12))
    writer = LlamaStoryWriter(PipelineSettings(_env_file=None, story_seed=100))
    fake = ScriptedLlama(f" {GOOD[0]} {BAD_EN} {filler}", f" {filler}", f" {filler}")
    writer._llm = fake
    shown: list[str] = []
    told = writer.write_sync(PhotoFacts("a photo with no clear subject"), on_sentence=shown.append)
    assert "make love" not in told and not any("make love" in sentence for sentence in shown)
    assert len(fake.seeds) >= 2  # the attempt was ended at the unsuitable sentence and another one went on


@pytest.mark.models  # imports torch and transformers (seconds), though the model is a stub
async def test_a_gpt2_story_is_checked_too() -> None:
    import torch

    from pipeline.story.gpt2 import TransformersStoryWriter

    class Tokenizer:
        pad_token_id = 0
        eos_token_id = 0

        def __call__(self, prompt: str, return_tensors: str) -> dict[str, torch.Tensor]:
            return {"input_ids": torch.zeros((1, 3), dtype=torch.long)}

        def decode(self, tokens: torch.Tensor, skip_special_tokens: bool) -> str:
            return f"{GOOD[0]} {BAD_EN} {story(*GOOD[1:])}"

    class Model:
        def eval(self) -> None:
            pass

        def generate(self, **_: object) -> torch.Tensor:
            return torch.zeros((1, 8), dtype=torch.long)

    settings = PipelineSettings(_env_file=None, story_backend="transformers", story_seed=1)
    writer = TransformersStoryWriter(settings, model=Model(), tokenizer=Tokenizer())
    backends = backends_with(writer)
    events = await run(backends)
    assert_nothing_unsuitable_told(events, backends)
    (failed,) = [e for e in events if isinstance(e, StageFailed)]  # written again, as unsuitable: not told
    assert failed.stage == Stage.STORY and isinstance(failed.error.__cause__, UnsuitableStory)


@pytest.mark.models  # loads the offline translator (Bergamot)
async def test_the_real_translation_of_the_reported_story_is_caught() -> None:
    from pipeline.backends import build_translator

    translator = build_translator(PipelineSettings(_env_file=None))
    portuguese = await translator.translate("Luminaria helped Tomas make love to Luna.")
    assert not is_suitable(portuguese, "pt"), portuguese
