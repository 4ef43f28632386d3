"""The words a user writes about a photo ("minha filha Iara em Gramado"): checked, cleaned, and their names and
places kept exactly as written in both directions.

`words_problem` is what every front end asks first: too long (`MAX_WORDS_CHARS`) or unfit for children's stories.

Names are found in the Portuguese words (`find_names`: capitalised words; "em Gramado" is a place), kept through
each translation (`translated_keeping`: the translator would make "Pipoca" "Popcorn"), and spelled as written in
the English story ("Antonio" is Antônio: `spell_names`). `clean_words` makes the words one line of plain text,
since they are quoted in a prompt as data. Imports nothing heavy.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pipeline.config import DATA_DIR
from pipeline.safety import fold, is_suitable

__all__ = [
    "MAX_WORDS_CHARS",
    "Name",
    "WordsProblem",
    "clean_words",
    "edits",
    "find_names",
    "mentions",
    "spell_names",
    "translated_hiding",
    "translated_keeping",
    "user_words",
    "words_problem",
]

MAX_WORDS_CHARS = 200  # of the user's words, and of a main character: a sentence or two, not a plot
WordsProblem = Literal["too_long", "unsuitable"]

WORDS_FILE = DATA_DIR / "user_words.toml"
# Stand-ins for a name the translator would not keep: made-up words it leaves alone (tests/pipeline/test_own_words.py).
STAND_INS = ("Kwazi", "Vexley", "Nomex", "Zorvak", "Qorbin", "Zubra", "Kelvix", "Yorbel")
_CHAT_MARKUP = re.compile(r"<\|[^|>]*\|>|<\/?[a-z]+>|```|[\x00-\x1f]+|\s+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


@dataclass(frozen=True)
class Name:
    """A name the user wrote, exactly as written; `place` when the words say it is where ("em Gramado")."""

    text: str
    place: bool = False


@cache
def user_words() -> dict[str, Any]:
    """`WORDS_FILE`: the Portuguese words around names, and the synonyms the translator needs."""
    with WORDS_FILE.open("rb") as fh:
        return tomllib.load(fh)


def _words(which: str) -> frozenset[str]:
    """One list of `WORDS_FILE`: the words before a place, inside a name, or that only start a sentence."""
    return frozenset(user_words()[which].split())


def words_problem(text: str) -> WordsProblem | None:
    """Why the user's words cannot be used (longer than `MAX_WORDS_CHARS`, or a word unfit for children's stories
    in either language), or None when they can."""
    if len(text.strip()) > MAX_WORDS_CHARS:
        return "too_long"
    if not is_suitable(text, "pt"):  # the Portuguese check has the English words too
        return "unsuitable"
    return None


def clean_words(text: str) -> str:
    """The words as one line of plain text: no chat-turn markers, tags, code fences or line breaks (a user's
    words are quoted in the prompt, and nothing in them may look like a new turn or a new rule)."""
    return " ".join(_CHAT_MARKUP.sub(" ", text).replace("«", '"').replace("»", '"').split())


def find_names(text: str) -> list[Name]:
    """The names and places in Portuguese words, in order, each once: runs of capitalised words ("Belo Horizonte",
    "Rio de Janeiro"), but not a common word that only starts a sentence ("Minha filha Iara" names Iara)."""
    words = list(_WORD.finditer(text))
    names: list[Name] = []
    i = 0
    while i < len(words):
        word = words[i][0]
        starts_sentence = i == 0 or text[words[i - 1].end() : words[i].start()].strip()[-1:] in (".", "!", "?")
        if not word[0].isupper() or (starts_sentence and word.lower() in _words("common_starts")):
            i += 1
            continue
        run = [word]
        j = i + 1
        while j < len(words):
            joined = words[j][0].lower() in _words("joiners") and j + 1 < len(words) and words[j + 1][0][0].isupper()
            if joined:
                run += [words[j][0], words[j + 1][0]]
                j += 2
            elif words[j][0][0].isupper() and not text[words[j - 1].end() : words[j].start()].strip():
                run.append(words[j][0])
                j += 1
            else:
                break
        before = [word[0].lower() for word in words[max(i - 2, 0) : i]]
        name = Name(" ".join(run), place=_before_a_place(before))
        if name.text not in {n.text for n in names}:
            names.append(name)
        i = j
    return names


def _before_a_place(before: list[str]) -> bool:
    """Whether the two words before a name make it a place: "em Gramado", "praia de Ubatuba", "Lagoa Ibirapuera"."""
    last = before[-1] if before else ""
    place_noun = (before[-2] if len(before) == 2 else "") if last in _words("joiners") else last
    return last in _words("place") or place_noun in _words("place_nouns")


@cache
def _name_pattern(name: str) -> re.Pattern[str]:
    """A name however a writer or translator spells its case and accents ("antonio" for Antônio)."""
    letters = "".join(f"[{re.escape(c)}{re.escape(fold(c))}]" if fold(c) != c.lower() else re.escape(c) for c in name)
    return re.compile(rf"(?<![\w])(?:the )?{letters}(?![\w])", re.IGNORECASE)


def mentions(text: str, name: str) -> bool:
    """Whether `text` has `name` in it, however it spells its case and accents (`spell_names` mends them)."""
    return bool(_name_pattern(name).search(text))


def spell_names(text: str, names: Iterable[str]) -> str:
    """`text` with each of `names` spelled exactly as written: its case and accents, without an English "the"
    before it ("the Thor", from "o Thor"), and a long name a letter or two off mended ("Prata do Rosa" for Praia do
    Rosa; `_near`)."""
    for name in sorted(names, key=len, reverse=True):  # "Belo Horizonte" before a name inside it
        text = _name_pattern(name).sub(name, text)
        text = _mend_near(text, name)
    return text


def _mend_near(text: str, name: str) -> str:
    """`text` with each run of capitalised words near `name` (`_near`) replaced by it."""
    count = len(name.split())
    run = r"\b[^\W\d_][\w'-]*" + rf"(?: [\w'-]+){{{count - 1}}}" + r"\b"
    return re.sub(run, lambda match: name if _near(match[0], name) else match[0], text)


def _near(written: str, name: str) -> bool:
    """A capitalised run a letter or two from a long name, beginning alike: one letter in six may differ."""
    a, b = fold(written), fold(name)
    return written[0].isupper() and a != b and a[0] == b[0] and edits(a, b) <= len(b) // 6


def edits(a: str, b: str) -> int:
    """Levenshtein distance: the fewest letters to insert, delete or change to turn `a` into `b`."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


async def translated_keeping(translate: Callable[[str], Awaitable[str]], text: str, names: Sequence[str]) -> str:
    """`text` translated with each of `names` in it kept as written. The names go through the translator first
    (it then agrees words with them: "Iara estava cansada"); when one is lost, the text is translated again with
    stand-ins for them (`translated_hiding`)."""
    present = [name for name in names if mentions(text, name)]
    translated = spell_names(await translate(text), present)
    if all(name in translated for name in present):
        return translated
    return await translated_hiding(translate, text, present)


async def translated_hiding(translate: Callable[[str], Awaitable[str]], text: str, names: Sequence[str]) -> str:
    """`text` translated with made-up stand-ins for `names`, which the translator leaves alone, put back as written
    afterwards (without an English "the" before them: "o Thor" is "Thor"). One translation, whatever the names."""
    stand_ins = dict(zip(names, STAND_INS, strict=False))
    hidden = text
    for name, stand_in in stand_ins.items():
        hidden = _name_pattern(name).sub(stand_in, hidden)
    translated = await translate(hidden)
    for name, stand_in in stand_ins.items():
        translated = re.sub(rf"(?:\b[Tt]he )?\b{stand_in}\b", name, translated)
    return translated
