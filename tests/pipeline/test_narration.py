"""Text preparation for the voices: cleaning, spelling out, sentence chunks and the length cap."""

from __future__ import annotations

import re

import pytest

from pipeline.errors import SpeechTextError
from pipeline.speech.narration import MAX_CHUNK_CHARS, WORDS_PER_MINUTE, prepare_narration


def estimate_seconds(text: str, language: str, words_per_minute: float | None = None) -> float:
    """Expected narration length of prepared text, at the voice's speaking rate (the rate narration plans with)."""
    return len(text.split()) * 60.0 / (words_per_minute or WORDS_PER_MINUTE[language])


def narrate(text: str, language: str = "pt", max_seconds: float = 180.0) -> str:
    return " ".join(prepare_narration(text, language, max_seconds))


def test_portuguese_numbers_and_accents() -> None:
    said = narrate("Em 1990, João viu 3 pássaros à beira do rio.")
    assert said == "Em mil novecentos e noventa, João viu três pássaros à beira do rio."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("O Sr. Lima e a Dra. Ana.", "O Senhor Lima e a Doutora Ana."),
        ("Andaram 5 km e 1 km.", "Andaram cinco quilômetros e um quilômetro."),
        ("Choveu 50% do dia.", "Choveu cinquenta por cento do dia."),
        ("Eram 2 horas, 2 dias e 21 crianças.", "Eram duas horas, dois dias e vinte e uma crianças."),
        ("Custou R$ 3,50.", "Custou três reais e cinquenta centavos."),
        ("Foi o 1º lugar e a 2ª vez.", "Foi o primeiro lugar e a segunda vez."),
        ("Chegou às 10h30 com 1.500 livros.", "Chegou às dez horas e trinta com mil e quinhentos livros."),
        ("Mediu 1,5 m.", "Mediu um vírgula cinco metros."),
        ("Fazia -5 graus entre 1990-2000.", "Fazia menos cinco graus entre mil novecentos e noventa a dois mil."),
        ("Nasceu em 25/12/2020.", "Nasceu em vinte e cinco de dezembro de dois mil e vinte."),
        ("Ganhou R$ 1.000.000,00.", "Ganhou um milhão de reais."),
    ],
)
def test_portuguese_expansions(text: str, expected: str) -> None:
    assert narrate(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("In 1990, Mr. Smith saw 3 birds.", "In nineteen ninety, Mister Smith saw three birds."),
        ("Dr. Jones walked 5 km, 50% uphill.", "Doctor Jones walked five kilometers, fifty percent uphill."),
        ("It cost $3.50 on the 2nd day.", "It cost three dollars and fifty cents on the second day."),
        ("We met at 7:00 with 1,500 people.", "We met at seven o'clock with one thousand five hundred people."),
        ("Born on 12/25/2020 at -3 degrees.", "Born on December twenty-fifth, twenty twenty at minus three degrees."),
    ],
)
def test_english_expansions(text: str, expected: str) -> None:
    assert narrate(text, "en") == expected


def test_numbers_too_large_to_name_are_read_digit_by_digit() -> None:
    digits = ("um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove", "zero")
    said = narrate("Código 1234567890123456789012.")
    assert said == f"Código {' '.join(digits * 2)} um dois."


def test_markup_links_and_emojis_are_removed() -> None:
    text = (
        "<p>Olá <b>mundo</b> 🌄</p><p>Segunda linha</p>\n"
        "## Título\n**negrito** e _itálico_ 👍🏽 [um link](https://exemplo.com/x) e https://x.org/y?z=1 fim ☀️"
    )
    assert narrate(text) == "Olá mundo. Segunda linha. Título. negrito e itálico um link e fim."


def test_dialogue_dashes_become_pauses_not_words() -> None:
    assert narrate("— Olá — disse ela. — Tudo bem?\n— Sim!") == "Olá, disse ela. Tudo bem? Sim!"


@pytest.mark.parametrize(
    "text", ["", "   \n ", "🌄🐦👍🏽☀️", "<p></p> ** # []", "a" * 5000, "https://exemplo.com/foto.jpg"]
)
def test_nothing_speakable_raises(text: str) -> None:
    with pytest.raises(SpeechTextError):
        prepare_narration(text, "pt", 180)


def test_chunks_are_whole_sentences_in_order() -> None:
    sentences = [f"Esta é a frase número {i} da história, contada devagar." for i in range(1, 40)]
    chunks = prepare_narration(" ".join(sentences), "pt", 180)
    assert len(chunks) > 1
    assert all(len(c) <= MAX_CHUNK_CHARS and c.endswith(".") for c in chunks)
    pieces = re.split(r"(?<=\.) ", " ".join(chunks))
    assert pieces == [narrate(s) for s in sentences]


def test_a_sentence_without_punctuation_is_still_cut_into_chunks() -> None:
    chunks = prepare_narration(" ".join(["palavra"] * 600), "pt", 180)
    assert len(chunks) > 1
    assert all(len(c) <= MAX_CHUNK_CHARS for c in chunks)


@pytest.mark.parametrize("language", ["pt", "en"])
def test_long_text_is_capped_at_a_sentence_end(language: str) -> None:
    sentence = {
        "pt": "O menino correu até o rio e viu os pássaros voando sobre a água clara. ",
        "en": "The boy ran down to the river and watched the birds fly over the clear water. ",
    }[language]
    text = (sentence * 1000)[:50_000]
    chunks = prepare_narration(text, language, max_seconds=180)
    spoken = " ".join(chunks)
    assert spoken.endswith(".")
    assert 0.9 * 180 <= estimate_seconds(spoken, language) <= 180
    assert len(spoken.split()) <= 180 * WORDS_PER_MINUTE[language] / 60


def test_slower_voices_get_fewer_words() -> None:
    text = "Uma frase curta de teste. " * 400
    fast = prepare_narration(text, "pt", 60, words_per_minute=200)
    slow = prepare_narration(text, "pt", 60, words_per_minute=100)
    assert len(" ".join(slow).split()) < len(" ".join(fast).split())


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="language"):
        prepare_narration("Bonjour.", "fr", 60)
