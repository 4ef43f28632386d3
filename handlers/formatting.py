"""The texts of a story's messages: caption, story and error lines, escaped and cut to Telegram's limits."""

from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from pipeline.events import CaptionReady

from . import texts

CAPTION_LIMIT = 1500  # per language: two of them and the markup stay under Telegram's 4096
MESSAGE_LIMIT = 4096  # Telegram's limit for a message's text; 1024 for a media caption

_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s)")


def caption_text(caption: CaptionReady) -> str:
    """The caption message; each language fits well within it, even from a chatty vision model."""
    return texts.CAPTION.format(
        caption_pt=escaped_within("", caption.caption_pt, CAPTION_LIMIT),
        caption_en=escaped_within("", caption.caption_en, CAPTION_LIMIT),
    )


def story_text(language: str, story: str) -> str:
    """The story message: its title line and the escaped story, within Telegram's limit."""
    title = texts.STORY_TITLE_PT if language == "pt" else texts.STORY_TITLE_EN
    return escaped_within(title, story, MESSAGE_LIMIT)


def story_buttons(show: str, story_id: str) -> InlineKeyboardMarkup:
    """Under a story: show it in the other language, or ask for another story of the same photo."""
    label = texts.BUTTON_SHOW_EN if show == "en" else texts.BUTTON_SHOW_PT
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"story:{show}:{story_id}"),
                InlineKeyboardButton(texts.BUTTON_ANOTHER, callback_data=f"again:{story_id}"),
            ]
        ]
    )


def _utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def escaped_within(html_prefix: str, plain: str, limit: int) -> str:
    """`html_prefix` + the HTML-escaped `plain`, shortened so the whole fits `limit` (UTF-16 units).

    The plain text is cut *before* escaping, so no entity (&amp;) is ever split: at the last sentence end
    if that keeps at least three quarters of what fits, else after the last whole word (same proviso),
    else where the room ends; a shortened text ends in "…".
    """
    escaped = html.escape(plain)
    if _utf16_len(html_prefix) + _utf16_len(escaped) <= limit:
        return html_prefix + escaped
    room = limit - _utf16_len(html_prefix) - 2  # 2: " …"
    fits = 0
    for ch in plain:
        room -= _utf16_len(html.escape(ch))
        if room < 0:
            break
        fits += 1
    keep = fits * 3 // 4
    sentence_end = max((m.end() for m in _SENTENCE_END.finditer(plain, 0, fits + 1)), default=0)
    if sentence_end >= keep:
        return html_prefix + html.escape(plain[:sentence_end]) + " …"
    head = plain[:fits]
    if not plain[fits].isspace():  # the room ends inside a word: drop that word
        space = max(head.rfind(" "), head.rfind("\n"))
        head = head[:space] if space >= keep else head
    return html_prefix + html.escape(head.rstrip()) + "…"
