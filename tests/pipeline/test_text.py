"""The shared text helpers (sentence splitter, long-sentence cutter) and the warn-once logger."""

from __future__ import annotations

import logging
import re
import time

import pytest

from pipeline.logonce import WarnOnce
from pipeline.text import split_long, split_sentences


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def test_sentences_do_not_end_before_a_lowercase_word_or_after_an_initial() -> None:
    assert split_sentences("Wait... then he left. J. Smith came! 'Yes.' Done") == [
        "Wait... then he left.",
        "J. Smith came!",
        "'Yes.'",
        "Done",
    ]
    assert split_sentences("") == [] and split_sentences("  \n ") == []


def test_the_splitter_is_linear_on_hostile_input() -> None:
    hostile = "a. " * 20_000 + "x" * 5_000 + " . " * 20_000  # initials and bare dots: no sentence ends
    started = time.perf_counter()
    split_sentences(hostile)
    assert time.perf_counter() - started < 1.0


def test_a_fitting_sentence_is_kept_whole() -> None:
    assert split_long("One, two, three.", max_words=3, max_chars=100) == ["One, two, three."]
    assert split_long("No limit at all, so it stays.") == ["No limit at all, so it stays."]


@pytest.mark.parametrize(("max_words", "max_chars"), [(7, None), (None, 40), (7, 40)])
def test_long_sentences_are_cut_at_clauses_then_words_within_the_limits(
    max_words: int | None, max_chars: int | None
) -> None:
    sentence = "The fox ran home, the owl flew off; " + " ".join(f"word{i}" for i in range(30)) + ", and it slept."
    pieces = split_long(sentence, max_words=max_words, max_chars=max_chars)
    assert words(" ".join(pieces)) == words(sentence)
    assert all(max_words is None or len(p.split()) <= max_words for p in pieces)
    assert all(max_chars is None or len(p) <= max_chars for p in pieces)
    assert pieces[0].endswith((",", ";"))  # the first cut is at clause punctuation


def test_a_word_longer_than_the_limit_stays_whole() -> None:
    assert split_long("tiny " + "x" * 30 + " end", max_chars=10) == ["tiny", "x" * 30, "end"]


def test_warn_once_warns_then_whispers_per_key_until_reset(caplog: pytest.LogCaptureFixture) -> None:
    warnings = WarnOnce(logging.getLogger("tests.logonce"))
    with caplog.at_level(logging.DEBUG, logger="tests.logonce"):
        for _ in range(3):
            warnings.warn("a", "trouble %s", "a")
        warnings.warn("b", "trouble %s", "b")
        warnings.reset()
        warnings.warn("a", "trouble %s", "a")
    levels = [(r.getMessage(), r.levelno) for r in caplog.records]
    assert levels == [
        ("trouble a", logging.WARNING),
        ("trouble a", logging.DEBUG),
        ("trouble a", logging.DEBUG),
        ("trouble b", logging.WARNING),
        ("trouble a", logging.WARNING),
    ]
    assert all(r.filename == "test_text.py" for r in caplog.records)  # the caller's line, not the helper's
