"""The story message: cut to Telegram's limit before escaping, so no HTML entity is ever split."""

from __future__ import annotations

import html
import re

import pytest

from handlers import texts
from handlers.formatting import MESSAGE_LIMIT, escaped_within, story_text

_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27);")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_valid_escaped(body: str) -> None:
    """Every & starts a complete entity and no raw < > is left: escaping the unescaped text gives it back."""
    assert html.escape(html.unescape(body)) == body
    assert all(_ENTITY.match(body, m.start()) for m in re.finditer("&", body))
    assert "<" not in body and ">" not in body


@pytest.mark.parametrize("language", ["pt", "en"])
def test_a_long_story_full_of_entities_fits_and_stays_valid(language: str) -> None:
    sentence = "Tom & Ana <amigos> viram o mar & o céu. "
    story = sentence * 400  # far past 4096 once escaped
    text = story_text(language, story)
    title = texts.STORY_TITLE_PT if language == "pt" else texts.STORY_TITLE_EN
    assert text.startswith(title)
    assert len(text) <= MESSAGE_LIMIT and utf16_len(text) <= MESSAGE_LIMIT
    body = text.removeprefix(title)
    assert body.endswith("…")
    assert_valid_escaped(body.removesuffix("…"))
    assert html.unescape(body.removesuffix(" …")).endswith("o céu.")  # cut at a sentence end
    assert utf16_len(text) > MESSAGE_LIMIT - utf16_len(html.escape(sentence)) - 2  # and not much earlier


@pytest.mark.parametrize("shift", range(8))
def test_the_cut_never_splits_an_entity_wherever_it_falls(shift: int) -> None:
    story = "x" * shift + "&" * 2000  # no sentence end, no space: the cut falls between entities
    text = escaped_within("", story, MESSAGE_LIMIT)
    assert utf16_len(text) <= MESSAGE_LIMIT
    assert_valid_escaped(text.removesuffix("…"))


def test_a_story_without_sentence_ends_is_cut_at_a_whole_word() -> None:
    story = " ".join(f"palavra{i}&" for i in range(1000))
    text = escaped_within("", story, 1024)
    assert utf16_len(text) <= 1024 and text.endswith("&amp;…")
    last = html.unescape(text.removesuffix("…")).split()[-1]
    assert last in story.split()  # a whole word


def test_emojis_count_as_telegram_counts_them() -> None:
    text = escaped_within("", "🌊 " * 3000, MESSAGE_LIMIT)
    assert utf16_len(text) <= MESSAGE_LIMIT


def test_a_short_story_is_untouched() -> None:
    story = "Tom & Ana <amigos> viram o mar.\n\nFim."
    assert story_text("pt", story) == texts.STORY_TITLE_PT + html.escape(story)


def test_a_story_that_fits_exactly_is_untouched() -> None:
    title = texts.STORY_TITLE_EN
    story = "a" * (MESSAGE_LIMIT - utf16_len(title) - 5) + "&"  # "&amp;" fills the last 5 units
    assert story_text("en", story) == title + html.escape(story)
    assert utf16_len(story_text("en", story + "b")) <= MESSAGE_LIMIT
