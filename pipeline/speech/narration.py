"""Turns a story into text a speech engine reads well, in chunks a voice model can take.

Speech engines read digits, abbreviations, emojis and markup badly or not at all: RHVoice spells "Dra."
letter by letter, espeak reads "1990" digit by digit in some contexts, neural voices babble on emojis. So
the text is cleaned and spelled out here, once, for every backend (numbers through num2words, per
language). Then it is cut into whole sentences, capped to the longest voice message we send (estimated
from the voice's words per minute, trimmed at a sentence end) and grouped into chunks small enough for
the neural voices, which degrade on very long inputs.

Every regular expression here is linear in the input (no nested quantifiers), and oversized input is cut
before any work, so a 50 000-character story costs milliseconds.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from num2words import num2words

from pipeline.errors import SpeechTextError
from pipeline.text import split_long, split_sentences

WORDS_PER_MINUTE: dict[str, float] = {"pt": 165.0, "en": 175.0}
"""A typical storytelling rate, for voices that do not state their own (each backend measures its own)."""

MAX_CHUNK_CHARS = 350
"""Longest chunk handed to a voice at once (a few sentences: neural voices slur past a few hundred)."""

_RAW_CHARS_PER_WORD = 40
"""Raw input kept per budgeted word: generous (markup, links), yet bounds the work on giant inputs."""


@dataclass(frozen=True)
class _Unit:
    singular: str
    plural: str
    feminine: bool = False


@dataclass(frozen=True)
class _Rules:
    """How one language writes and says numbers, units and abbreviations."""

    num2words_lang: str
    decimal_sep: str
    thousands_sep: str
    ordinal_suffixes: str  # regex alternation of ordinal markers written after the digits
    abbreviations: dict[str, str]
    units: dict[str, _Unit]
    currencies: dict[str, _Unit]
    cents: _Unit
    currency_joiner: str
    range_word: str
    minus: str
    time_words: Callable[[int, int], str]
    date_words: Callable[[int, int, int], str | None]  # numbers as written (d/m/y, m/d/y); None: no date
    spoken_years: bool = False  # "1990" → "nineteen ninety"
    large_number_of: str = ""  # "um milhão de reais"
    feminize: Callable[[str, str], str] = field(default=lambda words, _next: words)


def _words(number: int | Decimal, rules: _Rules, to: str = "cardinal") -> str:
    """num2words without its commas ("mil, novecentos e noventa"): a comma would be read as a pause.

    Numbers too large to name (num2words stops at 10**18 in Portuguese) are read digit by digit.
    """
    try:
        return num2words(number, lang=rules.num2words_lang, to=to).replace(",", "")
    except (OverflowError, NotImplementedError):
        return " ".join(num2words(int(d), lang=rules.num2words_lang) for d in str(number) if d.isdigit())


# --- Portuguese -------------------------------------------------------------------------------------

# Words ending like feminine nouns that are not: masculine nouns in -a ("dois dias", never "duas dias")
# and the small words that follow numbers ("de dois a três", "dois para um").
_PT_NOT_FEMININE_WORDS = (
    "dia dias mapa mapas planeta planetas problema problemas sistema sistemas tema temas poema poemas "
    "programa programas clima climas idioma idiomas cometa cometas a as da das na nas pela pelas para "
    "mas nessa essa esta toda todas agora ainda nunca contra cada"
)
_PT_NOT_FEMININE = frozenset(_PT_NOT_FEMININE_WORDS.split())
_PT_FEMININE_ENDINGS = ("a", "as", "ã", "ãs", "ção", "ções", "dade", "dades", "gem", "gens")


def _pt_feminine(words: str) -> str:
    """Agree a cardinal with a feminine noun: "um/dois/duzentos" → "uma/duas/duzentas"."""
    if "milh" in words or "bilh" in words:  # "dois milhões de pessoas": the noun is "milhões"
        return words
    words = re.sub(r"\bum\b", "uma", words)
    words = re.sub(r"\bdois\b", "duas", words)
    return re.sub(r"entos\b", "entas", words)


def _pt_feminize_before(words: str, next_word: str) -> str:
    lower = next_word.lower()
    if lower.endswith(_PT_FEMININE_ENDINGS) and lower not in _PT_NOT_FEMININE:
        return _pt_feminine(words)
    return words


def _pt_time(hours: int, minutes: int) -> str:
    said = _pt_feminine(_words(hours, _PT)) + (" hora" if hours == 1 else " horas")
    return f"{said} e {_words(minutes, _PT)}" if minutes else said


_PT_MONTHS = [
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
]
_EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _pt_date(day: int, month: int, year: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    said_day = "primeiro" if day == 1 else _words(day, _PT)
    return f"{said_day} de {_PT_MONTHS[month - 1]} de {_words(year, _PT)}"


def _en_date(month: int, day: int, year: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{_EN_MONTHS[month - 1]} {_words(day, _EN, to='ordinal')}, {_words(year, _EN, to='year')}"


def _en_time(hours: int, minutes: int) -> str:
    if not minutes:
        return f"{_words(hours, _EN)} o'clock"
    said_minutes = _words(minutes, _EN) if minutes >= 10 else f"oh {_words(minutes, _EN)}"
    return f"{_words(hours, _EN)} {said_minutes}"


_PT = _Rules(
    num2words_lang="pt_BR",
    decimal_sep=",",
    thousands_sep=".",
    ordinal_suffixes="º|ª|o|a",
    abbreviations={
        "Sr.": "Senhor",
        "Sra.": "Senhora",
        "Srta.": "Senhorita",
        "Dr.": "Doutor",
        "Dra.": "Doutora",
        "Prof.": "Professor",
        "Profa.": "Professora",
        "Av.": "Avenida",
        "nº": "número",
        "n.º": "número",
        "p.ex.": "por exemplo",
        "etc.": "etcétera",
        "Ltda.": "Limitada",
    },
    units={
        "%": _Unit("por cento", "por cento"),
        "km/h": _Unit("quilômetro por hora", "quilômetros por hora"),
        "km": _Unit("quilômetro", "quilômetros"),
        "cm": _Unit("centímetro", "centímetros"),
        "mm": _Unit("milímetro", "milímetros"),
        "m": _Unit("metro", "metros"),
        "kg": _Unit("quilo", "quilos"),
        "g": _Unit("grama", "gramas"),
        "h": _Unit("hora", "horas", feminine=True),
        "min": _Unit("minuto", "minutos"),
        "°C": _Unit("grau Celsius", "graus Celsius"),
        "°": _Unit("grau", "graus"),
    },
    currencies={
        "R$": _Unit("real", "reais"),
        "US$": _Unit("dólar", "dólares"),
        "$": _Unit("dólar", "dólares"),
        "€": _Unit("euro", "euros"),
    },
    cents=_Unit("centavo", "centavos"),
    currency_joiner=" e ",
    range_word="a",
    minus="menos",
    time_words=_pt_time,
    date_words=_pt_date,
    large_number_of=" de",
    feminize=_pt_feminize_before,
)

_EN = _Rules(
    num2words_lang="en",
    decimal_sep=".",
    thousands_sep=",",
    ordinal_suffixes="st|nd|rd|th",
    abbreviations={
        "Mr.": "Mister",
        "Mrs.": "Missus",
        "Ms.": "Miz",
        "Dr.": "Doctor",
        "Prof.": "Professor",
        "St.": "Saint",
        "Mt.": "Mount",
        "Ave.": "Avenue",
        "Jr.": "Junior",
        "No.": "number",
        "vs.": "versus",
        "e.g.": "for example",
        "i.e.": "that is",
        "etc.": "et cetera",
    },
    units={
        "%": _Unit("percent", "percent"),
        "km/h": _Unit("kilometer per hour", "kilometers per hour"),
        "mph": _Unit("mile per hour", "miles per hour"),
        "km": _Unit("kilometer", "kilometers"),
        "cm": _Unit("centimeter", "centimeters"),
        "mm": _Unit("millimeter", "millimeters"),
        "m": _Unit("meter", "meters"),
        "kg": _Unit("kilogram", "kilograms"),
        "lb": _Unit("pound", "pounds"),
        "ft": _Unit("foot", "feet"),
        "h": _Unit("hour", "hours"),
        "min": _Unit("minute", "minutes"),
        "°C": _Unit("degree Celsius", "degrees Celsius"),
        "°F": _Unit("degree Fahrenheit", "degrees Fahrenheit"),
        "°": _Unit("degree", "degrees"),
    },
    currencies={
        "US$": _Unit("dollar", "dollars"),
        "$": _Unit("dollar", "dollars"),
        "€": _Unit("euro", "euros"),
        "£": _Unit("pound", "pounds"),
        "R$": _Unit("real", "reais"),
    },
    cents=_Unit("cent", "cents"),
    currency_joiner=" and ",
    range_word="to",
    minus="minus",
    time_words=_en_time,
    date_words=_en_date,
    spoken_years=True,
)

_RULES: dict[str, _Rules] = {"pt": _PT, "en": _EN}


def _alternation(keys: list[str]) -> str:
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


@dataclass(frozen=True)
class _Patterns:
    abbreviation: re.Pattern[str]
    number: re.Pattern[str]
    time: re.Pattern[str]
    date: re.Pattern[str]
    num_range: re.Pattern[str]


def _compile(rules: _Rules) -> _Patterns:
    thousands, decimal = re.escape(rules.thousands_sep), re.escape(rules.decimal_sep)
    number = (
        rf"(?:(?P<cur>{_alternation(list(rules.currencies))})\s?)?"
        r"(?P<neg>(?<![\w-])[-−](?=\d))?"
        rf"(?<![\d{thousands}{decimal}])(?P<int>\d{{1,3}}(?:{thousands}\d{{3}})+|\d+)"
        rf"(?:{decimal}(?P<dec>\d+))?"
        rf"(?:(?P<ord>{rules.ordinal_suffixes})(?![^\W\d_]))?"
        rf"(?:\s?(?P<unit>{_alternation(list(rules.units))})(?![^\W\d_]))?"
        r"(?=(?:\s+(?P<next>[^\W\d_]+))?)"
    )
    return _Patterns(
        abbreviation=re.compile(rf"(?<![\w.])(?:{_alternation(list(rules.abbreviations))})(?!\w)"),
        number=re.compile(number),
        time=re.compile(r"(?<!\d)([01]?\d|2[0-3])(?::|h)([0-5]\d)(?!\d)"),
        date=re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])"),
        num_range=re.compile(r"(?<=\d)\s?[-–]\s?(?=\d)"),
    )


_PATTERNS: dict[str, _Patterns] = {lang: _compile(rules) for lang, rules in _RULES.items()}


def _say_number(match: re.Match[str], rules: _Rules) -> str:
    integer = int(match["int"].replace(rules.thousands_sep, ""))
    decimals = match["dec"]
    currency = rules.currencies.get(match["cur"] or "")
    unit = rules.units.get(match["unit"] or "")
    if currency:
        said = _before_noun(_words(integer, rules), rules)
        said += f" {currency.singular if integer == 1 else currency.plural}"
        cents = int((decimals or "0")[:2].ljust(2, "0"))
        if cents:
            said += f"{rules.currency_joiner}{_words(cents, rules)} "
            said += rules.cents.singular if cents == 1 else rules.cents.plural
        return said + (f" {match['unit']}" if match["unit"] else "")
    if match["ord"] and not decimals:
        said = _words(integer, rules, to="ordinal")
        return re.sub(r"o\b", "a", said) if match["ord"] in ("ª", "a") else said
    if decimals:
        said = _words(Decimal(f"{integer}.{decimals}"), rules)
    elif rules.spoken_years and 1100 <= integer < 2100 and not unit and match["int"].isdigit():
        said = _words(integer, rules, to="year")  # "in 1990" → "nineteen ninety"
    else:
        said = _words(integer, rules)
    if unit:
        plural = decimals is not None or integer != 1
        if unit.feminine:
            said = _pt_feminine(said)
        said = f"{_before_noun(said, rules)} {unit.plural if plural else unit.singular}"
    elif match["ord"]:  # a letter after a decimal ("3,5a"): keep it as written
        said += match["ord"]
    elif match["next"]:
        said = rules.feminize(said, match["next"])
    return f"{rules.minus} {said}" if match["neg"] else said


def _before_noun(said: str, rules: _Rules) -> str:
    """ "um milhão" + "reais" → "um milhão de reais" (in Portuguese)."""
    return said + rules.large_number_of if said.endswith(("lhão", "lhões")) else said


def _say_date(match: re.Match[str], rules: _Rules) -> str:
    return rules.date_words(int(match[1]), int(match[2]), int(match[3])) or match[0]


def expand(text: str, language: str) -> str:
    """Spell out abbreviations, times, ranges and numbers (with their units) as words."""
    rules, patterns = _RULES[language], _PATTERNS[language]
    text = patterns.abbreviation.sub(lambda m: rules.abbreviations[m[0]], text)
    text = patterns.date.sub(lambda m: _say_date(m, rules), text)
    text = patterns.time.sub(lambda m: rules.time_words(int(m[1]), int(m[2])), text)
    text = patterns.num_range.sub(f" {rules.range_word} ", text)
    return patterns.number.sub(lambda m: _say_number(m, rules), text)


# --- Markup and symbols ------------------------------------------------------------------------------

_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|br|div|li|tr|h[1-6])\b[^<>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^<>]*>")
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()\s]*\)")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_MD_SYMBOLS = re.compile(r"[*_#`~|>\[\]{}]+|^\s*[-+]\s+", re.MULTILINE)
_DASHES = re.compile(r"\s[—–-]+\s|^\s*[—–]\s*|—", re.MULTILINE)
_QUOTES = re.compile(r"[\"“”«»„]")
_COMMA_AFTER_PUNCT = re.compile(r"([.!?…,;:])(?:\s*,)+")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LONG_WORD = re.compile(r"\S{51,}")  # hashes, base64, "aaaa…": nothing a voice can say
_SPACED_CATEGORIES = frozenset({"So", "Sk", "Cs", "Co", "Cn", "Cc"})  # emojis, pictographs, controls
_KEPT = frozenset("°\n")


def _symbol_free(ch: str) -> str:
    if ch in _KEPT:
        return ch
    category = unicodedata.category(ch)
    if category in _SPACED_CATEGORIES:
        return " "
    if category == "Cf" or 0xFE00 <= ord(ch) <= 0xFE0F:  # joiners, soft hyphens, variation selectors
        return ""
    return ch


def strip_markup(text: str) -> str:
    """Plain text from HTML/Markdown-ish input: tags, links, URLs, emphasis marks and emojis removed."""
    text = html.unescape(_HTML_TAG.sub(" ", _BLOCK_TAG.sub("\n", text)))
    text = _HTML_TAG.sub(" ", _BLOCK_TAG.sub("\n", text))  # tags that arrived escaped (&lt;b&gt;)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _MD_SYMBOLS.sub(" ", text)
    text = _COMMA_AFTER_PUNCT.sub(r"\1", _DASHES.sub(", ", text))
    text = _QUOTES.sub("", text).replace("’", "'").replace("‘", "'")
    text = "".join(map(_symbol_free, unicodedata.normalize("NFC", text)))
    return _LONG_WORD.sub(" ", text)


# --- Sentences, budget, chunks -----------------------------------------------------------------------

_HAS_LETTER = re.compile(r"[^\W\d_]")
_LEADING_PUNCT = re.compile(r"^[\s,;:.!?…)]+")


def _speakable_sentences(text: str) -> list[str]:
    """Whole sentences, each ending with punctuation (a voice pauses there); a line break ends one too
    (titles, list items); pieces with no letter are dropped."""
    found = []
    for line in text.split("\n"):
        for raw in split_sentences(_SPACES.sub(" ", line)):
            sentence = _LEADING_PUNCT.sub("", raw).strip()
            if not _HAS_LETTER.search(sentence):
                continue
            if sentence[-1] not in ".!?…":
                sentence = sentence.rstrip(",;:") + "."
            found.append(sentence)
    return found


def _group(sentences: list[str], max_chars: int) -> list[str]:
    chunks: list[str] = []
    for sentence in sentences:
        if chunks and len(chunks[-1]) + 1 + len(sentence) <= max_chars:
            chunks[-1] += " " + sentence
        else:
            chunks.append(sentence)
    return chunks


def prepare_narration(
    text: str,
    language: str,
    max_seconds: float,
    words_per_minute: float | None = None,
    max_chunk_chars: int = MAX_CHUNK_CHARS,
) -> list[str]:
    """Clean, spell out and split `text` into chunks of whole sentences lasting at most `max_seconds`.

    Raises SpeechTextError when nothing speakable is left (empty, only emojis, only markup).
    """
    if language not in _RULES:
        raise ValueError(f"unsupported narration language: {language!r}")
    budget_words = max(1, int(max_seconds * (words_per_minute or WORDS_PER_MINUTE[language]) / 60.0))
    text = strip_markup(text[: budget_words * _RAW_CHARS_PER_WORD])
    spoken = _speakable_sentences(expand(text, language))
    sentences = [piece for s in spoken for piece in split_long(s, max_chars=max_chunk_chars)]
    if not sentences:
        raise SpeechTextError("nothing speakable in the text")
    kept: list[str] = []
    used = 0
    for sentence in sentences:
        words = len(sentence.split())
        if used + words > budget_words:
            if not kept:  # a single sentence over budget: keep its first words rather than nothing
                kept.append(" ".join(sentence.split()[:budget_words]))
            break
        kept.append(sentence)
        used += words
    return _group(kept, max_chunk_chars)
