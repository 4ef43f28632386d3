"""Plain-text helpers shared by the stages: one sentence splitter and one cutter for overlong sentences.

Translation (Bergamot drops input past ~85 words), narration (voices slur past a few hundred characters)
and the story post-processing all need whole sentences, and the first two need a sentence too long for
their model cut into pieces — at clause punctuation first, then between words. These used to be
separate near-identical copies; the rules live here once, each caller passing its own limits.
Every regular expression is linear in the input (no nested quantifiers). No Telegram, no models.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? or … (possibly repeated), followed by closing quotes/brackets and a space or the end.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s|$)")
# A clause ends at a comma, semicolon, colon or dash followed by a space (the mark stays with the clause).
_CLAUSE_END = re.compile(r"[,;:—–](?=\s)")
_NEXT_CHAR = re.compile(r"\s*(\S)")
# "Mr. Smith" or "e.g. this" are not sentence ends.
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "mt", "vs", "etc", "e.g", "i.e", "a.m", "p.m", "fig"}
)


def split_sentences(text: str) -> list[str]:
    """Split one paragraph into sentences, keeping each sentence's own punctuation and closing quotes.

    Not a sentence end: a full stop after an abbreviation ("Mr.", "p.m.") or an initial ("J."), or any
    end mark followed by a lowercase word. A text that does not end with punctuation keeps its tail as a
    last "sentence". Line breaks count as spaces: callers that treat them as ends split lines first.
    """
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        word = _last_word(text, start, match.start()).lower().lstrip("\"'“‘«([")
        following = _next_char(text, match.end())
        is_abbreviation = match.group() == "." and (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()))
        if is_abbreviation or following.islower():
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _last_word(text: str, start: int, end: int) -> str:
    """The last word of text[start:end], found backwards so that the splitter stays linear."""
    while end > start and text[end - 1].isspace():
        end -= 1
    begin = end
    while begin > start and not text[begin - 1].isspace():
        begin -= 1
    return text[begin:end]


def _next_char(text: str, start: int) -> str:
    """The first non-space character from `start` on ("" at the end), without copying the rest."""
    match = _NEXT_CHAR.match(text, start)
    return match[1] if match else ""


def split_long(sentence: str, *, max_words: int | None = None, max_chars: int | None = None) -> list[str]:
    """Cut a sentence longer than the limits into pieces within them, losing no word.

    Clauses (cut after , ; : — –) are packed greedily into pieces; a clause that alone is too long is cut
    between words, each piece the longest run of words that fits. A single word longer than `max_chars`
    stays whole (it cannot be cut without breaking it). With no limit the sentence is returned as it is.
    """

    def fits(piece: str) -> bool:
        return (max_words is None or len(piece.split()) <= max_words) and (max_chars is None or len(piece) <= max_chars)

    if fits(sentence):
        return [sentence]
    pieces: list[str] = []
    current = ""
    start = 0
    for end in [m.end() for m in _CLAUSE_END.finditer(sentence)] + [len(sentence)]:
        clause = sentence[start:end].strip()
        start = end
        candidate = f"{current} {clause}".strip()
        if fits(candidate):
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = clause
        while not fits(current):  # a clause with no usable punctuation: cut by words
            words = current.split()
            count = 1
            while count < len(words) and fits(" ".join(words[: count + 1])):
                count += 1
            pieces.append(" ".join(words[:count]))
            current = " ".join(words[count:])
    if current:
        pieces.append(current)
    return pieces
