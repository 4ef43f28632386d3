"""The user's own words about a photo ("minha filha Iara em Gramado") and a chat's main character, as story facts.

The words are data, never instructions: they are made one line of plain text (`names.clean_words`), capped in
length and checked by the front ends (`names.words_problem`, which they explain politely), quoted in the prompt as
what the sender says (`PhotoFacts.describe_for_prompt`), and the story is checked for children like any other.
They outrank the captioner: an animal or thing they name replaces the one the captioner guessed, of the same kind
("meu esquilo" beats "a monkey"), and the hero is the main character, or the first person they name. Names and
places stay as written (`names`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from pipeline.caption.evidence import KIND_WORDS, KINDS, Vocabulary, with_article
from pipeline.events import StoryOptions
from pipeline.facts import GUESS, PhotoFacts
from pipeline.names import clean_words, find_names, mentions, translated_hiding, user_words
from pipeline.safety import fold

__all__ = ["Told", "clearer", "names_coda", "read_told", "told_facts"]


@dataclass(frozen=True)
class Told:
    """What the user told, ready for an English writer: the words and the main character in English, who the hero
    is, and every name and place to keep as written."""

    words: str = ""
    main_character: str = ""
    hero: str | None = None
    names: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # those of the names that are places


async def read_told(options: StoryOptions, translate: Callable[[str], Awaitable[str]]) -> Told:
    """The options' words and main character translated (by `translate`, Portuguese → English) with their names
    hidden from the translator, so kept in one pass; the hero is the main character's name, else the first person
    the words name."""
    words, character = clean_words(options.hint), clean_words(options.main_character)
    if not (words or character):
        return Told()
    words, character = clearer(words), clearer(character)
    found = [*find_names(character), *find_names(words)]  # the main character's name first: the hero
    names = tuple(dict.fromkeys(name.text for name in found))
    people = [name.text for name in found if not name.place]
    return Told(
        words=await translated_hiding(translate, words, names) if words else "",
        main_character=await translated_hiding(translate, character, names) if character else "",
        hero=people[0] if people else None,
        names=names,
        places=tuple(dict.fromkeys(name.text for name in found if name.place)),
    )


def clearer(words: str) -> str:
    """The words with a synonym for each the translator gets wrong ("no sítio" came out as "the site", "no rancho"
    comes out as "the ranch"; `names.WORDS_FILE`)."""
    synonyms: dict[str, str] = user_words()["synonyms"]
    return re.sub(r"\w+", lambda word: synonyms.get(word[0].lower(), word[0]), words)


def told_facts(facts: PhotoFacts, told: Told, vocab: Vocabulary) -> PhotoFacts:
    """The captioner's facts with what the user told on top: a thing the words name replaces a guess of the same
    kind (`_with_subject`), the words are the caption when the captioner saw nothing it could name, and the story's
    hero and names are theirs."""
    if told == Told():
        return facts
    facts = _with_subject(facts, _named_things(told.words, vocab), vocab)
    if facts.scene() is None and told.words:  # the captioner saw nothing it could name: the user's words say it
        facts = replace(facts, caption=told.words)
    return replace(
        facts,
        told=told.words or None,
        main_character=told.main_character or None,
        hero=told.hero,
        names=told.names,
        places=told.places,
    )


def names_coda(story: str, facts: PhotoFacts) -> str:
    """Our last sentence for a story that left out names the user wrote (a writer may forget a town or an aunt):
    who else was there, and where; "" when the story has every one."""
    missing = [name for name in facts.names if not mentions(story, name)]
    people = [name for name in missing if name not in facts.places]
    places = [name for name in missing if name in facts.places]
    where = f"that day in {_listed(places)}" if places else ""
    if people:
        were = "was" if len(people) == 1 else "were"
        ending = f", and nobody would ever forget {where}." if where else ", smiling from ear to ear."
        return f"{_listed(people)} {were} there too{ending}"
    return f"Nobody would ever forget {where}." if where else ""


def _listed(names: list[str]) -> str:
    """Names as English lists them: "Iara", "Iara and Caio", "Iara, Caio and Bia"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _named_things(told: str, vocab: Vocabulary) -> list[tuple[str, str]]:
    """The animals and things of the caption's vocabulary the words name, with their kinds, longest first
    ("squirrel", "animal"); a plural counts ("strawberries")."""
    folded = f" {fold(told)} "
    found = {
        (group.name, group.kind)
        for group in [*vocab.groups.values(), *vocab.families.values()]
        if group.name and group.kind in KINDS and re.search(rf"\b{_plural_too(group.name)}\b", folded)
    }
    return sorted(found, key=lambda thing: (-len(thing[0]), thing))


def _plural_too(name: str) -> str:
    """A pattern of `name` and its plural: "dogs", "boxes", "strawberries"."""
    if name.endswith("y") and name[-2:-1] not in tuple("aeiou"):
        return f"{re.escape(name[:-1])}(?:y|ies)"
    return f"{re.escape(name)}(?:s|es)?"


def _with_subject(facts: PhotoFacts, things: list[tuple[str, str]], vocab: Vocabulary) -> PhotoFacts:
    """`facts` with a thing the user named as the subject when the captioner named none, only guessed one, or
    named another of the same kind (that one then): "a photo of what looks like a monkey" and "a monkey on a
    branch" become "a squirrel", but "two people" stay (the user's dog is there too, unseen)."""
    if not things:
        return facts
    guessed = facts.subject
    if guessed is None or facts.caption.startswith(GUESS):
        subject = with_article(things[0][0])
        return replace(facts, caption=subject, subject=subject)
    kind = _kind_of(guessed, vocab)
    same_kind = [name for name, thing_kind in things if thing_kind == kind]
    if not same_kind or guessed == with_article(same_kind[0]):
        return facts
    subject = with_article(same_kind[0])
    return replace(facts, caption=facts.caption.replace(guessed, subject, 1), subject=subject)


def _kind_of(subject: str, vocab: Vocabulary) -> str | None:
    """The kind of a thing the captioner named ("a monkey", "an animal" → "animal"); None for people, scenes."""
    kinds = {words: kind for kind, words in KIND_WORDS.items()}
    bare = subject.removeprefix("an ").removeprefix("a ")
    named = (g.kind for g in [*vocab.groups.values(), *vocab.families.values()] if bare in (g.name, g.subject_name))
    return kinds.get(subject) or next(named, None)
