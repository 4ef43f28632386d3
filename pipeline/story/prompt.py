"""The plan of one story: the chat for the model (the kind's rules, the photo's facts, the hero), our first
and last sentences, and its length in words and tokens."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.config import PipelineSettings
from pipeline.events import StoryLength, StoryOptions
from pipeline.facts import PhotoFacts
from pipeline.names import spell_names
from pipeline.story.finish import MAX_STORY_WORDS, ends_sentence, finish_story, one_hero_name, word_count
from pipeline.story.styles import CLASSIC, EXAMPLE_FACTS, EXAMPLE_HERO, STYLES, StoryStyle

# --- the prompt: facts in, an opening line that names the subject ---------------------------------------

# Names the offline translator keeps as they are (tests/pipeline/test_translate.py checks each one): "Leo" became
# "Leão", so it is not here.
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
    otherwise copies the example's. Otherwise (the quality tier, OpenAI-compatible models) the system message is
    the kind's rules and RULES, the length begins the request and the photo's facts end it (a chat's next story of
    the same kind and length is evaluated from the facts on), and there is no example: a 1.5B model copied its plot
    and phrases. The kind's rules come first: put after RULES, more stories began alike (measured: README,
    "Stories")."""
    options = options or StoryOptions()
    style = STYLES[options.kind]
    aim = style.word_limits(options.length)[1]
    words = aim if guided or style.poem else round(aim * ASKED_SHARE)
    chat = [{"role": "system", "content": style.system if guided else f"{style.system}\n{style.rules}"}]
    if guided:
        example_facts = EXAMPLE_FACTS.describe_for_prompt()
        example_words = round(word_count(style.example), -1)
        example_ask = style.ask.format(
            facts=example_facts, hero=style.hero_of(EXAMPLE_HERO, 0), name=EXAMPLE_HERO, words=example_words
        )
        chat += [{"role": "user", "content": example_ask}, {"role": "assistant", "content": style.example}]
    ask = style.ask.format(facts=facts.describe_for_prompt(), hero=hero_of(facts, hero, style), name=hero, words=words)
    if not guided:
        ask = f"{length_ask(style, options.length, words)}\n{ask}"
    return [*chat, {"role": "user", "content": ask}]


def length_ask(style: StoryStyle, length: StoryLength, words: int) -> str:
    """How long the quality tier's story is to be: paragraphs, or a poem's stanzas of four lines (lines bound a
    poem better than words do), and its words."""
    if style.poem:
        return f"Write {STANZAS[length]} of four short lines, {words} words in all, and finish the poem."
    return f"Write {PARAGRAPHS[length]} short paragraphs, {words} words in all, and finish the story."


def hero_of(facts: PhotoFacts, name: str, style: StoryStyle) -> str:
    """Who the main character is, for the request: the chat's main character as the user described them, or one
    the user named ("Iara", as the sender says), else the kind's hero."""
    if facts.main_character:
        return facts.main_character
    if facts.hero:
        return f"{name}, as the sender says"
    return style.hero_of(name, facts.people)


# The quality tier is asked for this share of a length's words: asked for all of them it overshoots, and a story
# cut at the most words loses its ending (measured: README, "Stories"). A poem is asked for its stanzas, and for
# all its words.
ASKED_SHARE = 0.55
PARAGRAPHS: Mapping[StoryLength, int] = {"short": 2, "medium": 3, "long": 4}
STANZAS: Mapping[StoryLength, str] = {"short": "one stanza", "medium": "two stanzas", "long": "three stanzas"}


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
    room = word_count(ending) if ends_sentence(ending) else ENDING_WORDS  # ours, or what the model may write
    messages = story_messages(facts, hero, options, guided=guided)
    body = most - room if ending else most
    return StoryPlan(facts, style, messages, start, ending, least, most, body, hero)


def token_budget(settings: PipelineSettings, words: int) -> int:
    """Tokens to allow for `words` words: `story_max_tokens` is the budget of a medium classic story."""
    return settings.story_max_tokens * words // MAX_STORY_WORDS


def chatml_prompt(messages: list[dict[str, str]], answer_start: str) -> str:
    """The ChatML text SmolLM2 and Qwen were tuned on, with the assistant's answer begun by `answer_start`."""
    return f"{_chatml_turns(messages)}<|im_start|>assistant\n{answer_start}"


def unguided_prompt_start() -> str:
    """The beginning every unguided prompt of the default kind shares (its system message), in ChatML."""
    return _chatml_turns(story_messages(PhotoFacts(""), "", guided=False)[:1])


def _chatml_turns(messages: list[dict[str, str]]) -> str:
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def story_seed(settings: PipelineSettings, options: StoryOptions | None) -> int | None:
    """The story's random seed: the one asked for it, else the `story_seed` setting; None: a random story."""
    if options is not None and options.seed is not None:
        return options.seed
    return settings.story_seed
