"""Model text → a story: whole sentences within the asked words, no title, chat markers or afterword, one
spelling of the hero's name. Small models ramble, echo the prompt and stop mid-sentence; every writer's
text goes through `finish_story`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.names import edits
from pipeline.story.styles import CLASSIC
from pipeline.text import split_long, split_sentences

MIN_STORY_WORDS, _, MAX_STORY_WORDS = CLASSIC.word_limits("medium")  # 90 and 160 words


# --- post-processing ---------------------------------------------------------------------------------

_SPECIAL_TOKEN = re.compile(r"<\|[^|>]*\|>")
END_MARKERS = ("<|im_end|>", "<|endoftext|>", "<|im_start|>")
_MARKDOWN = re.compile(r"^\s*[-•]\s+|^#+\s*|^>\s*|\*+|__", re.MULTILINE)
# Lines that are labels, not story: "Title: …", "Story:", "The End", "Note: …" and what follows a note.
_TITLE_LINE = re.compile(r"^\s*(title|chapter \w+)\s*:.*$", re.IGNORECASE | re.MULTILINE)
_STORY_LABEL = re.compile(r"^\s*(the )?story\s*:\s*", re.IGNORECASE)
# Numbered paragraphs and stanzas: "Paragraph 1: …", "1st Paragraph:", "Stanza 2:", "1. …" (the quality tier,
# asked for paragraphs or stanzas, sometimes numbers them).
_PARAGRAPH_LABEL = re.compile(
    r"^[ \t]*((\d+(st|nd|rd|th)\s+)?(paragraph|stanza|verse)(\s+\d+)?\s*:|\d+[.)](?=\s))[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
_LABEL_AT_THE_END = re.compile(r"\n[^\n]*:\s*$")  # "A short poem inspired by this scene:" after the poem
# "The End" as a sentence or line of its own, and what follows it (an afterword: "She wanted to share this story").
_THE_END = re.compile(r"(^|(?<=[.!?\n]))\s*\(?the end\)?([.!]+|\s*\n|\s*$).*$", re.IGNORECASE | re.DOTALL)
_AFTERWORD = re.compile(
    r"\n\s*(note|moral|summary|word count|i hope|(this|the) (story|poem) (is|was|teaches|shows|aims|helps)"
    r"|the (main )?(subject|theme|message|topic) of (the|this) (story|poem)"
    r"|in (the|this) [^\n:]{0,30}\b(story|poem)\s*:).*$",
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
    """Remove a leading repeat of the caption standing as a sentence or line of its own (the model sometimes opens
    by restating its prompt); "A baseball, a soft ball," goes on as it is."""
    echo = echo.strip().rstrip(".").lower()
    head = text.lstrip()
    rest = head[len(echo) :]
    if echo and head.lower().startswith(echo) and re.match(r"\s*([.:\-–—\n]|$)", rest):
        head = rest.lstrip(" .:-–—\n")
    return head


def ends_sentence(sentence: str) -> bool:
    return sentence.rstrip(_CLOSERS).endswith(tuple(_SENTENCE_END_CHARS + "…"))


def _to_last_sentence_end(lines: list[str]) -> list[str]:
    """A poem's last stanza back to its last line that ends a sentence (all of it when none does): a poem cut at
    its words or tokens does not end on "She felt proud of herself,"."""
    ends = [number for number, line in enumerate(lines) if ends_sentence(line)]
    return lines[: ends[-1] + 1] if ends else lines


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
            if (whole and not ends_sentence(piece)) or words + count > max_words:
                return [*kept_blocks, kept] if kept else kept_blocks
            if piece.lower() not in seen:
                seen.add(piece.lower())
                kept.append(piece)
                words += count
        if kept:
            kept_blocks.append(kept)
    return kept_blocks


def _prose_lines(text: str) -> list[str]:
    """The text's lines, a line that ends inside a sentence (prose written in lines, like verse) joined to the
    next one."""
    lines: list[str] = []
    for line in text.split("\n"):
        if lines and lines[-1].strip() and line.strip() and not ends_sentence(lines[-1].rstrip()):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return lines


def _whole_sentences(text: str, max_words: int) -> list[list[str]]:
    """Paragraphs (lines) of whole sentences: stop at an unfinished sentence or before passing `max_words`."""
    lines = _prose_lines(text)
    return _kept((split_sentences(" ".join(line.split())) for line in lines), max_words, whole=True)


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
    return text[: text.rfind(pieces[-1])] if pieces and not ends_sentence(pieces[-1]) else text


def _stanzas(text: str, max_words: int) -> list[list[str]]:
    """Stanzas (separated by blank lines) of short lines, before passing `max_words`."""
    return _kept((_poem_lines(stanza) for stanza in re.split(r"\n\s*\n", text)), max_words, whole=False)


def finish_story(text: str, *, echo: str = "", max_words: int = MAX_STORY_WORDS, poem: bool = False) -> str:
    """Turn raw model output into a clean story text; "" when nothing usable is left.

    Cuts at the first end-of-turn token, removes special tokens, markdown, titles, paragraph labels and numbers
    ("Paragraph 1:", "1."), chat openers
    ("Sure! Here's a story…"), a leading echo of `echo` (the caption), afterwords ("The End", "Note:");
    keeps whole sentences only (an unfinished tail is dropped, a trailing "..." becomes "."), at most
    `max_words` words; paragraphs are kept, whitespace normalised. Returning "" rather than raising lets
    each backend decide (the writers retry, then raise StoryError).

    A `poem` is kept in lines (stanzas apart), prose and long lines cut into short ones; its last line is
    unfinished, and dropped but for its whole sentences, unless a line break follows it (writers add one when
    the model ended the text).
    """
    for marker in END_MARKERS:
        text = text.split(marker, 1)[0]
    if poem:
        text = _without_unfinished_line(text)
    text = _SPECIAL_TOKEN.sub("", text)
    text = _MARKDOWN.sub("", text)
    text = _TITLE_LINE.sub("", text)
    text = _PARAGRAPH_LABEL.sub("", text)
    text = _drop_title(text)
    text = _strip_echo(text, echo)
    text = _STORY_LABEL.sub("", _PREAMBLE.sub("", text, count=1), count=1)
    text = _AFTERWORD.sub("", text)
    text = _THE_END.sub("", text)
    text = _LABEL_AT_THE_END.sub("", text)

    if poem:
        stanzas = _stanzas(text, max_words)
        if stanzas:
            stanzas[-1] = _to_last_sentence_end(stanzas[-1])
        story = "\n\n".join("\n".join(lines) for lines in stanzas)
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
