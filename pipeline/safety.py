"""Is a text fit for a children's story? One content check for English and Portuguese, for every writer.

The words and phrases are in `data/unsuitable_words.toml`, by topic (violence, death, weapons, sex, drugs and
alcohol, swearing, self-harm, horror and gore, hate), with the innocent phrases that contain one of them ("kill
time", "matar a sede", "a olho nu"); its header says how an entry matches. Matching is by whole words, ignoring
case and accents. Portuguese text is checked against both languages' lists, since the translator leaves the
English words it does not know as they are.

The pipeline (`core.Pipeline`) runs every story through this, streamed sentence by sentence or whole, in English
and in Portuguese: an unsuitable sentence is never shown, and a story is cut before it (`cut_at_unsuitable`) when
enough is left (`enough_left`), else written again, else not told. Imports nothing heavy.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pipeline.config import DATA_DIR
from pipeline.text import split_sentences

__all__ = [
    "MIN_KEPT_SENTENCES",
    "MIN_KEPT_WORDS",
    "WORDS_FILE",
    "Finding",
    "cut_at_unsuitable",
    "enough_left",
    "findings",
    "fold",
    "is_suitable",
    "sentences_of",
    "unsuitable_words",
]

Language = Literal["en", "pt"]  # the same values as pipeline.config.Language, without importing pydantic

WORDS_FILE = DATA_DIR / "unsuitable_words.toml"
# A story cut before an unsuitable sentence is still told when at least this much is left of it.
MIN_KEPT_SENTENCES = 2
MIN_KEPT_WORDS = 25


@dataclass(frozen=True)
class Finding:
    """One unsuitable word or phrase in a text: its topic and the words as the text writes them."""

    topic: str
    words: str


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character in lower case without its accent ("Ã" → "a"); always one character."""
    lowered = char.lower()
    if len(lowered) != 1:  # "İ" lowers to two characters
        return char
    return unicodedata.normalize("NFD", lowered)[0]


def fold(text: str) -> str:
    """`text` in lower case without accents, character for character (so positions stay the same)."""
    return "".join(_fold_char(char) for char in text)


def _entry_pattern(entry: str) -> str:
    """A regular expression for one list entry (see the data file's header: *, (a|b), spaces and hyphens)."""
    parts = []
    for char in fold(" ".join(entry.split())):
        if char == "(":
            parts.append("(?:")
        elif char in ")|":
            parts.append(char)
        elif char == "*":
            parts.append(r"\w*")
        elif char in " -":
            parts.append(r"[\s\-]+")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def _whole_words(alternatives: Iterable[str]) -> str:
    """A pattern matching any of the entries as whole words."""
    return r"(?<!\w)(?:" + "|".join(_entry_pattern(entry) for entry in alternatives) + r")(?!\w)"


def _languages(language: Language) -> tuple[Language, ...]:
    """The lists a text in `language` is checked against: Portuguese keeps untranslated English words."""
    return ("pt", "en") if language == "pt" else ("en",)


@functools.cache
def _word_lists() -> dict[str, dict[str, list[str]]]:
    """The data file: each topic's entries by language, and the innocent phrases (topic "allowed")."""
    with WORDS_FILE.open("rb") as file:
        data = tomllib.load(file)
    return {**data["topics"], "allowed": data["allowed"]}


def _entries(topic: str, language: Language) -> list[str]:
    """A topic's entries that apply to text in `language`."""
    return [entry for lang in _languages(language) for entry in _word_lists()[topic][lang]]


@functools.cache
def _unsuitable(language: Language) -> re.Pattern[str]:
    """One pattern for every topic's entries, each topic a named group (the topic of a match)."""
    topics = [topic for topic in _word_lists() if topic != "allowed"]
    return re.compile("|".join(f"(?P<{topic}>{_whole_words(_entries(topic, language))})" for topic in topics))


@functools.cache
def _allowed(language: Language) -> re.Pattern[str]:
    """The innocent phrases, taken out of a text before it is checked."""
    return re.compile(_whole_words(_entries("allowed", language)))


def _checked_text(text: str, language: Language) -> str:
    """`text` folded (see `fold`) with its innocent phrases blanked out, positions kept."""
    return _allowed(language).sub(lambda match: " " * len(match.group()), fold(text))


def findings(text: str, language: Language = "en") -> list[Finding]:
    """Every unsuitable word or phrase in `text`, in order, with its topic."""
    matches = _unsuitable(language).finditer(_checked_text(text, language))
    return [Finding(match.lastgroup or "", text[match.start() : match.end()]) for match in matches]


def unsuitable_words(text: str, language: Language = "en") -> list[str]:
    """The unsuitable words and phrases of `text`, as it writes them, in order ([] when it is fit for children)."""
    return [finding.words for finding in findings(text, language)]


def is_suitable(text: str, language: Language = "en") -> bool:
    """True when `text` has no word or phrase that has no place in a children's story."""
    return _unsuitable(language).search(_checked_text(text, language)) is None


def sentences_of(text: str) -> list[str]:
    """The sentences of a story, line by line (a poem's lines are cut at their sentence ends too)."""
    return [sentence for line in text.split("\n") for sentence in split_sentences(line)]


def cut_at_unsuitable(text: str, language: Language = "en") -> str:
    """`text` up to its first unsuitable sentence, line breaks kept ("" when that is the first one)."""
    kept: list[str] = []
    for line in text.split("\n"):
        if is_suitable(line, language):
            kept.append(line)
            continue
        good: list[str] = []
        for sentence in split_sentences(line):
            if not is_suitable(sentence, language):
                break
            good.append(sentence)
        kept.append(" ".join(good))
        break
    cut = "\n".join(kept).rstrip()
    return cut if is_suitable(cut, language) else ""


def enough_left(text: str) -> bool:
    """Whether a cut story is still worth telling: MIN_KEPT_SENTENCES sentences and MIN_KEPT_WORDS words."""
    return len(sentences_of(text)) >= MIN_KEPT_SENTENCES and len(text.split()) >= MIN_KEPT_WORDS
