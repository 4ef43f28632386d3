"""`make story-eval`: do the stories hold together, tier against tier, on photos no prompt was tuned on?

Runs the public everyday set (`tests/data/everyday/photos.toml`) through both story tiers (quality: the 1.5B model;
light: SmolLM2-135M) with fixed seeds, and prints, per tier:

- **finished**: the English story ends a sentence and its word count is within its kind and length's limits;
- **kind kept**: a bedtime story ends in sleep, a fable with its moral, a poem is in lines;
- **hero's name kept**: no other name close to the hero's (Clara / Cara / Lara: edit distance, or the same first
  three letters) and the hero's name kept as it is in the Portuguese story;
- **meta talk**: the story speaks of the picture, the photo, the caption, the prompt, "the main subject", "the
  story", word counts, or as an AI; the leaked fallback caption ("nothing stands out") is counted apart;
- **repeated 4-grams**: the share of the story's word 4-grams that occur more than once (a small model's loops);
- **subject named**: the story speaks of the caption's subject (`caption_eval.story_mentions`), or of a landscape
  in the captioner's own other words for its place (`place_words`: "shore" for "a shoreline", "forest" for "a
  woodland"); the literal share is printed too;
- **distinct openings**: the share of distinct first four words across the tier's stories;
- **pt-BR words outside the dictionary** (Hunspell, names aside), words per story, and seconds per story (writing,
  and writing with translation; on a busy machine they say little).

Names are capitalised words inside sentences, and our hero and friend names; with the en_US Hunspell dictionary
(`hunspell-en-us`) English words are no names ("Grandma") and other words are, even at a sentence start ("Cara").

Why a report part: a figure tuned and reported on the same photos overstates. The set is split once
(`bench/photo_set.py`), and only the tuning part may be used to tune prompts and rules. The default runs the
report part, less the photos whose stories were read while something was tuned (`stories_read`).

Each photo is captioned once (the offline captioner); its seed (1000 + its place in the sorted set) is the same for
both tiers, and the kinds and lengths cycle over the photos so that every one is exercised. All photos run
through one tier before the next, so only one story model is in memory at a time. The quality tier must be the
one that runs when it is asked for: a fallback to the light tier (model missing, memory short) stops the run.
Options (`make story-eval STORY_EVAL_ARGS="..."`): `--part report|tuning|all`, `--skip N`, `--limit N`,
`--tiers quality,light`, `--kind KIND` and `--length LENGTH` to fix them.

Writes `bench/story_eval.json` (the figures), `out/story-eval-stories.json` (every story with its facts, seed,
kind, length and figures), and `out/story-eval-blind.md`: for each photo its Portuguese caption and the tiers'
Portuguese stories as A and B, in an order shuffled per photo, for a person to read blind; the key is at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast, get_args

from app.wording import KIND_NAMES, LENGTH_BUTTONS
from bench.caption_eval import story_mentions, unknown_portuguese_words
from bench.photo_set import EVERYDAY, load_photos, stories_read
from pipeline.backends import build_captioner, build_story_writer, build_translator
from pipeline.caption.evidence import Vocabulary
from pipeline.config import PipelineSettings
from pipeline.events import StoryKind, StoryLength, StoryOptions
from pipeline.facts import PhotoFacts
from pipeline.images import decode_image
from pipeline.interfaces import Translator
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.models import StoryModel, StoryTier
from pipeline.story.prompt import FRIEND_NAMES, HERO_NAMES
from pipeline.story.styles import EXAMPLE_HERO, STYLES
from pipeline.text import split_sentences

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "story_eval.json"
STORIES_OUT = ROOT / "out" / "story-eval-stories.json"
BLIND_OUT = ROOT / "out" / "story-eval-blind.md"

TIERS: tuple[StoryTier, ...] = get_args(StoryTier)
KINDS: tuple[StoryKind, ...] = get_args(StoryKind)
LENGTHS: tuple[StoryLength, ...] = get_args(StoryLength)
PARTS = ("report", "tuning", "all")
SEED_BASE = 1000  # a photo's seed: SEED_BASE + its place in the sorted set, the same for every tier
BLIND_SEED = 22  # the A/B order of the blind file

# The targets for the quality tier (issue 22), printed beside the figures; not asserted anywhere.
TARGETS = {
    "finished_share": ">= 1.0",
    "meta_talk_stories": "0",
    "fallback_leaks": "0",
    "hero_kept_share": ">= 0.95",
    "distinct_openings_share": ">= 0.9",
    "subject_named_share": ">= 0.9",
    "pt_unknown_share": "< 0.003",
}

# --- the photos ---------------------------------------------------------------------------------------------------


def split_part(
    photos: Iterable[dict[str, Any]], part: str, read: Collection[str] = ()
) -> list[tuple[int, dict[str, Any]]]:
    """The photos of one part ("all" is both), each with its place in the whole set sorted by file name; the report
    part without the photos in `read`."""
    ordered = sorted(photos, key=lambda photo: str(photo["file"]))
    return [
        (index, photo)
        for index, photo in enumerate(ordered)
        if part == "all" or (photo["part"] == part and not (part == "report" and photo["file"] in read))
    ]


def story_options(position: int, kind: StoryKind | None = None, length: StoryLength | None = None) -> StoryOptions:
    """The kind and length of the story at `position` in the run: each cycles unless fixed (7 kinds and 3 lengths
    have no common divisor, so 21 photos cover every pair)."""
    return StoryOptions(kind=kind or KINDS[position % len(KINDS)], length=length or LENGTHS[position % len(LENGTHS)])


# --- the figures of one story (pure functions) --------------------------------------------------------------------

_CLOSERS = "\"'”’)»"
# Capitalised words that are not names: function words, titles and family words (Mama is two edits from Maya),
# days, months and feasts. The English dictionary, when installed, drops the other common words.
_NOT_NAMES = """
    I The A An And But Or So Then If When While After Before As At In On Of To For With From By Up Out Not No Yes Oh
    Ah Wow Hey Hi Hello Okay Ok Please Thank Thanks Dear Good Once One My Your His Her Our Their Its We You He She
    They It This That These Those There Here What Who Why How Where Which Let Mr Mrs Ms Dr Miss Sir Madam Mister
    Lady Lord King Queen Prince Princess Captain Saint St Aunt Auntie Uncle Grandma Grandpa Granny Grandmother
    Grandfather Mom Mum Mommy Mummy Dad Daddy Mama Papa Mother Father Sister Brother Baby God Moral Story Poem End
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
    September October November December Christmas Easter Halloween English"""
NOT_NAMES = frozenset(_NOT_NAMES.split())
KNOWN_NAMES = frozenset((*HERO_NAMES, *FRIEND_NAMES, EXAMPLE_HERO))  # ours: names even where English has the word
_OPENING_MARKS = "\"'“‘«([—–-"
_TOKEN = re.compile(r"^[" + re.escape(_OPENING_MARKS) + r"]*([^\W\d_]+(?:['’][^\W\d_]+)*)")
_NAME_SHAPE = re.compile(r"^[A-ZÀ-Þ][a-zß-ÿ]+$")

_THE = r"\b(the|this|that|these|those|our|your)\s+"
META_TALK = {
    # "the picture", "this photo": the photo itself; "a picture of a dinosaur" on a screen is a thing in the story.
    "picture": _THE + r"pictures?\b",
    "photo": _THE + r"photo(graph)?s?\b",
    "image": _THE + r"images?\b",
    "caption": r"\bcaptions?\b",
    "prompt": r"\bprompts?\b",
    "main subject": r"\bmain subject\b",
    "the story": r"(?<!moral of )\b(the|this) (story|poem|tale)\b",  # the fable's "The moral of the story" aside
    "as an AI": r"\bas an ai\b|\blanguage model\b|\bai assistant\b",
    "word count": r"\b\d+[- ]words?\b|\bword (count|limit)s?\b|\bwords long\b",
    "nothing stands out": r"\bnothing (stands?|standing|stood) out\b",
    "nothing in particular": r"\bnothing in particular\b",
}
# What a kind's story must have to be of that kind: a bedtime story ends in sleep, a fable with its moral (in its
# last two sentences), a poem is in lines. The other kinds have no shape a pattern can check.
KIND_ENDINGS: dict[str, str] = {"bedtime": r"\b(asleep|sleep\w*|dream\w*)\b", "fable": r"\b(moral|lesson)\b"}
POEM_LINES = 4
FALLBACK_LEAK = r"\bnothing (stands?|standing|stood) out\b|\bnothing in particular\b"


def word_count(text: str) -> int:
    return len(text.split())


def ends_sentence(story: str) -> bool:
    """The story's last character (closing quotes aside) ends a sentence."""
    return story.rstrip().rstrip(_CLOSERS).endswith((".", "!", "?", "…"))


def finished(story: str, kind: StoryKind, length: StoryLength) -> bool:
    """The story ends a sentence, and its words are within its kind and length's least and most."""
    least, _, most = STYLES[kind].word_limits(length)
    return ends_sentence(story) and least <= word_count(story) <= most


def kind_kept(story: str, kind: StoryKind) -> bool:
    """The story has its kind's shape (KIND_ENDINGS; a poem: at least POEM_LINES lines)."""
    if kind == "poem":
        return len([line for line in story.split("\n") if line.strip()]) >= POEM_LINES
    if kind not in KIND_ENDINGS:
        return True
    last = " ".join(split_sentences(" ".join(story.split()))[-2:])
    return re.search(KIND_ENDINGS[kind], last, re.IGNORECASE) is not None


def capitalised_words(text: str) -> list[tuple[str, bool]]:
    """Each capitalised word of `text` (a possessive 's dropped), and whether it begins a sentence: the first word
    of a line or sentence, after a colon or a semicolon, or opening a quote."""
    found: list[tuple[str, bool]] = []
    for line in text.split("\n"):
        for sentence in split_sentences(" ".join(line.split())):
            previous = ""
            for position, token in enumerate(sentence.split()):
                match = _TOKEN.match(token)
                at_start = position == 0 or previous.endswith((":", ";")) or token[0] in _OPENING_MARKS
                previous = token
                if not match:
                    continue
                word = re.sub(r"['’]s$", "", match.group(1))
                if _NAME_SHAPE.match(word):
                    found.append((word, at_start))
    return found


def proper_names(text: str, english: Collection[str] | None = None) -> Counter[str]:
    """The names in an English story, counted (in order of first use): capitalised words that are not in
    NOT_NAMES and do not begin a sentence, and our own hero and friend names wherever they are.

    `english`: lower-case words known to an English dictionary. With it, a capitalised word that is an English word
    is no name (Grandma, Sunny), and one that is not is a name even at the start of a sentence ("Cara smiled.")."""

    def name_like(word: str, at_start: bool) -> bool:
        if word in KNOWN_NAMES:
            return True
        if word in NOT_NAMES:
            return False
        return word.lower() not in english if english is not None else not at_start

    words = capitalised_words(text)
    names = {word for word, at_start in words if name_like(word, at_start)}
    return Counter(word for word, _ in words if word in names)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest letters inserted, deleted or replaced to turn `a` into `b`."""
    previous = list(range(len(b) + 1))
    for i, letter in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other)))
        previous = current
    return previous[-1]


def similar_names(a: str, b: str) -> bool:
    """Two different names a reader could take for one misspelt: the same first three letters (Theo, Theodore), or
    at most two edits apart (Clara, Cara, Lara; Sofia, Sophia) where that is under half the longer name — two
    edits turn any short name into another (Bia, Ben; Nina, Ana), and those are different names."""
    a, b = a.lower(), b.lower()
    if a == b:
        return False
    distance = edit_distance(a, b)
    return (min(len(a), len(b)) >= 3 and a[:3] == b[:3]) or (distance <= 2 and 2 * distance < max(len(a), len(b)))


@dataclass(frozen=True)
class NameCheck:
    """The hero (the story's most used name) and what changes it: similar names, or its loss in translation."""

    hero: str | None
    similar: tuple[str, ...] = ()
    missing_in_portuguese: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.similar) or self.missing_in_portuguese


def check_names(names: Counter[str], story_pt: str) -> NameCheck:
    """The hero of a story with these names (ties: the first used), the other names too close to it, and whether
    the Portuguese story lost it (the translation must keep names exactly)."""
    if not names:
        return NameCheck(None)
    hero = names.most_common(1)[0][0]
    similar = tuple(name for name in names if similar_names(hero, name))
    missing = re.search(rf"\b{re.escape(hero)}\b", story_pt) is None
    return NameCheck(hero, similar, missing)


def meta_talk(story: str) -> list[str]:
    """What the story says about itself or its making (META_TALK's labels), English, any case."""
    return [label for label, pattern in META_TALK.items() if re.search(pattern, story, re.IGNORECASE)]


@functools.cache
def _places() -> tuple[tuple[tuple[str, ...], str], ...]:
    """Each wording of a landscape in the captioner's vocabulary (a scene's nouns, or those of a label that decides
    its scene's wording), with its scene's name."""
    vocabulary = Vocabulary.load()
    scenes = tuple((scene.nouns, name) for name, scene in vocabulary.scenes.items())
    labels = tuple((w.nouns, vocabulary.scene_of[index]) for index, w in vocabulary.label_wording.items())
    return scenes + labels


def place_words(subject: str) -> set[str]:
    """The captioner's words for the place a landscape subject names: the last word of each noun of its wording
    (the one whose noun ends the subject, the longest such), and its scene's name ("a volcanic peak": volcano, peak,
    mountain); none for other subjects."""
    subject = subject.lower()
    ends = [
        (len(noun), nouns, scene)
        for nouns, scene in _places()
        for noun in nouns
        if subject == noun or subject.endswith(f" {noun}")
    ]
    longest = max((length for length, _, _ in ends), default=0)
    return {
        word
        for length, nouns, scene in ends
        if length == longest
        for word in (scene, *(noun.split()[-1] for noun in nouns))
    }


def subject_named(facts: PhotoFacts, story: str) -> bool:
    """The story names the caption's subject: as `story_mentions` finds it, or by one of `place_words` (a plural
    or a longer word from the same stem counts: "mountains", "shoreline" for "shore")."""
    text = story.lower()
    words = place_words(facts.subject or "") if not facts.people else set()
    return story_mentions(facts, story) or any(re.search(rf"\b{re.escape(word)}", text) for word in words)


def fallback_leak(story: str) -> bool:
    """The story repeats the fallback caption ("a photo where nothing stands out")."""
    return re.search(FALLBACK_LEAK, story, re.IGNORECASE) is not None


def plain_words(text: str) -> list[str]:
    """The words of `text`, lower case, without punctuation (an apostrophe inside a word stays)."""
    return re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text.lower())


def repeated_ngram_share(text: str, n: int = 4) -> float:
    """The share of the text's word n-grams (every position) whose n-gram occurs more than once; 0 when too short."""
    words = plain_words(text)
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    counts = Counter(grams)
    return sum(counts[gram] > 1 for gram in grams) / len(grams) if grams else 0.0


def opening(story: str, words: int = 4) -> str:
    """The story's first words, lower case, without punctuation."""
    return " ".join(plain_words(story)[:words])


def distinct_share(values: Sequence[str]) -> float:
    """The share of distinct values (1.0: all differ); NaN for none."""
    return len(set(values)) / len(values) if values else float("nan")


# --- the English dictionary ----------------------------------------------------------------------------------------


def english_words(words: Iterable[str]) -> set[str] | None:
    """Which of `words` (lower case) the en_US Hunspell dictionary knows; None without Hunspell or that dictionary
    (`apt-get install hunspell-en-us`): names are then only the capitalised words inside sentences."""
    asked = sorted(set(words))
    if shutil.which("hunspell") is None:
        return None
    result = subprocess.run(["hunspell", "-d", "en_US", "-l"], input="\n".join(asked), capture_output=True, text=True)
    if result.returncode != 0 or "Can't open" in result.stderr:
        return None
    return set(asked) - set(result.stdout.split())


def names_in(story_en: str) -> Counter[str]:
    """`proper_names` with the English dictionary when it is installed."""
    return proper_names(story_en, english_words(word.lower() for word, _ in capitalised_words(story_en)))


# --- one run ---------------------------------------------------------------------------------------------------------


@dataclass
class Photo:
    """A photo of the run: its place in the sorted set (its seed), the story asked for, and what the captioner saw."""

    index: int
    file: str
    seed: int
    kind: StoryKind
    length: StoryLength
    facts: PhotoFacts
    caption_pt: str


@dataclass
class Story:
    """One tier's story of one photo, and its figures."""

    file: str
    tier: str
    seed: int
    kind: StoryKind
    length: StoryLength
    story_en: str
    story_pt: str
    write_s: float
    total_s: float  # writing and translation
    error: str | None = None
    words: int = 0
    finished: bool = False
    kind_kept: bool = False
    names: dict[str, int] = field(default_factory=dict)
    hero: str | None = None
    similar_names: list[str] = field(default_factory=list)
    hero_missing_in_pt: bool = False
    meta_talk: list[str] = field(default_factory=list)
    fallback_leak: bool = False
    repeated_4grams: float = 0.0
    subject_named: bool = False
    subject_named_literally: bool = False
    opening: str = ""
    pt_words: int = 0
    pt_unknown: list[str] = field(default_factory=list)

    @property
    def hero_kept(self) -> bool:
        return not self.similar_names and not self.hero_missing_in_pt


def judge(story: Story, facts: PhotoFacts, names: Counter[str], pt_unknown: tuple[list[str], int]) -> Story:
    """`story` with its figures filled in (its names and its unknown Portuguese words found by the caller)."""
    check = check_names(names, story.story_pt)
    story.words = word_count(story.story_en)
    story.finished = finished(story.story_en, story.kind, story.length)
    story.kind_kept = bool(story.story_en) and kind_kept(story.story_en, story.kind)
    story.names = dict(names)
    story.hero, story.similar_names = check.hero, list(check.similar)
    story.hero_missing_in_pt = check.missing_in_portuguese
    story.meta_talk = meta_talk(story.story_en)
    story.fallback_leak = fallback_leak(story.story_en)
    story.repeated_4grams = round(repeated_ngram_share(story.story_en), 3)
    story.subject_named = bool(story.story_en) and subject_named(facts, story.story_en)
    story.subject_named_literally = bool(story.story_en) and story_mentions(facts, story.story_en)
    story.opening = opening(story.story_en)
    story.pt_unknown, story.pt_words = pt_unknown
    return story


def percentile(values: Sequence[float], share: float) -> float:
    """The value `share` of the way up the sorted values (the nearest below), like caption_eval's p90."""
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] if ordered else float("nan")


def share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 3) if values else float("nan")


def summary(stories: Sequence[Story]) -> dict[str, Any]:
    """One tier's figures over its stories."""
    words = [s.words for s in stories]
    pt_words = sum(s.pt_words for s in stories)
    pt_unknown = sum(len(s.pt_unknown) for s in stories)
    return {
        "stories": len(stories),
        "errors": sum(s.error is not None for s in stories),
        "finished_share": share(s.finished for s in stories),
        "kind_kept_share": share(s.kind_kept for s in stories),
        "hero_kept_share": share(s.hero_kept for s in stories),
        "no_hero_named": sum(s.hero is None for s in stories),
        "meta_talk_stories": sum(bool(s.meta_talk) for s in stories),
        "meta_talk_kinds": dict(Counter(label for s in stories for label in s.meta_talk)),
        "fallback_leaks": sum(s.fallback_leak for s in stories),
        "repeated_4grams_mean": round(statistics.fmean(s.repeated_4grams for s in stories), 3) if stories else None,
        "subject_named_share": share(s.subject_named for s in stories),
        "subject_named_literally_share": share(s.subject_named_literally for s in stories),
        "distinct_openings_share": round(distinct_share([s.opening for s in stories]), 3),
        "pt_words": pt_words,
        "pt_unknown_words": pt_unknown,
        "pt_unknown_share": round(pt_unknown / pt_words, 4) if pt_words else None,
        "pt_unknown_list": sorted({w for s in stories for w in s.pt_unknown}),
        "words_mean": round(statistics.fmean(words), 1) if words else None,
        "words_min": min(words, default=None),
        "words_max": max(words, default=None),
        "write_median_s": round(statistics.median([s.write_s for s in stories]), 2) if stories else None,
        "write_p90_s": round(percentile([s.write_s for s in stories], 0.9), 2),
        "total_median_s": round(statistics.median([s.total_s for s in stories]), 2) if stories else None,
        "total_p90_s": round(percentile([s.total_s for s in stories], 0.9), 2),
    }


# --- the blind file ------------------------------------------------------------------------------------------------


def blind_order(tiers: Sequence[str], photos: int, seed: int = BLIND_SEED) -> list[list[str]]:
    """For each photo, the tiers in the order they are shown (A, B, ...): shuffled by a fixed rng."""
    rng = random.Random(seed)
    orders = []
    for _ in range(photos):
        order = list(tiers)
        rng.shuffle(order)
        orders.append(order)
    return orders


def blind_markdown(photos: Sequence[Photo], stories: dict[tuple[str, str], Story], tiers: Sequence[str]) -> str:
    """The blind side-by-side file: per photo, its Portuguese caption and the tiers' Portuguese stories as A, B, ...
    (shuffled per photo), the key at the end."""
    orders = blind_order(tiers, len(photos))
    letters = "ABCDEFGH"
    lines = [
        "# Histórias lado a lado (leitura às cegas)",
        "",
        f"{len(photos)} fotos do conjunto cotidiano, uma história por modelo. Leia cada par e anote qual prefere e se "
        "alguma frase contradiz a foto ou a própria história. A chave (que letra é qual modelo) está no fim: "
        "não olhe antes.",
        "",
    ]
    for number, (photo, order) in enumerate(zip(photos, orders, strict=True), 1):
        kind, length = KIND_NAMES[photo.kind], LENGTH_BUTTONS[photo.length].split(" ")[0]
        lines += [f"## {number}. {photo.file} — {kind}, {length.lower()}", ""]
        lines += [f"![{photo.file}](../tests/data/everyday/{photo.file})", "", f"**Legenda:** {photo.caption_pt}", ""]
        for letter, tier in zip(letters, order, strict=False):
            lines += [f"### {letter}", "", stories[(photo.file, tier)].story_pt or "(sem história)", ""]
        lines += ["---", ""]
    lines += ["## Chave", "", "| # | foto | " + " | ".join(letters[: len(tiers)]) + " |"]
    lines += ["|---|---|" + "---|" * len(tiers)]
    for number, (photo, order) in enumerate(zip(photos, orders, strict=True), 1):
        lines.append(f"| {number} | {photo.file} | " + " | ".join(order) + " |")
    return "\n".join(lines) + "\n"


# --- running the models --------------------------------------------------------------------------------------------


def settings_for(tier: StoryTier, seed: int | None = None) -> PipelineSettings:
    """This run's settings: the offline defaults (no .env), the llama writer of `tier`, a fixed seed."""
    return PipelineSettings(_env_file=None, story_backend="llama", story_tier=tier, story_seed=seed)


async def caption_photos(
    chosen: list[tuple[int, dict[str, Any]]], translator: Translator, kind: StoryKind | None, length: StoryLength | None
) -> list[Photo]:
    """Caption every photo once (the offline captioner, warmed up on the first) and translate the captions."""
    settings = settings_for("light")
    captioner = build_captioner(settings)
    captioner.load()
    photos = []
    for position, (index, entry) in enumerate(chosen):
        data = (EVERYDAY / str(entry["file"])).read_bytes()
        image = decode_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels).image
        facts = await captioner.caption(image)
        options = story_options(position, kind, length)
        caption_pt = await translator.translate(facts.caption)
        photos.append(
            Photo(index, str(entry["file"]), SEED_BASE + index, options.kind, options.length, facts, caption_pt)
        )
    return photos


def writer_for(tier: StoryTier) -> tuple[LlamaStoryWriter, StoryModel]:
    """The tier's llama writer (not loaded yet) and the model it will run; stops the run when the quality tier was
    asked for and the light one would run instead."""
    writer = build_story_writer(settings_for(tier))
    if not isinstance(writer, LlamaStoryWriter):
        raise SystemExit(f"story-eval needs the llama story writer, got {writer.name}")
    model = writer.story_model()
    print(f"tier {tier}: runs {model.tier} ({model.path or 'SmolLM2-135M, packaged'}): {model.reason}", flush=True)
    if model.tier != tier:
        raise SystemExit(
            f"story-eval: the {tier} tier was asked for but the {model.tier} tier would run ({model.reason}); "
            "fix that first (`.venv/bin/python -m pipeline.story.models` joins the quality model)"
        )
    return writer, model


async def write_story(writer: LlamaStoryWriter, translator: Translator, photo: Photo, tier: StoryTier) -> Story:
    """One photo's story by the loaded writer, with the photo's seed, translated, timed and judged."""
    writer.settings = settings_for(tier, photo.seed)  # the seed is read at each write: one loaded model, many seeds
    options = StoryOptions(kind=photo.kind, length=photo.length)
    started = time.perf_counter()
    error = None
    try:
        story_en = await writer.write(photo.facts, options)
    except Exception as exc:  # a story that fails is a figure too; the run goes on
        story_en, error = "", f"{type(exc).__name__}: {exc}"
    written = time.perf_counter()
    story_pt = await translator.translate(story_en) if story_en else ""
    total = time.perf_counter() - started
    story = Story(photo.file, tier, photo.seed, photo.kind, photo.length, story_en, story_pt, written - started, total)
    story.error = error
    pt_unknown = unknown_portuguese_words(story_pt) if story_pt else ([], 0)
    return judge(story, photo.facts, names_in(story_en), pt_unknown)


def rss_mb() -> int:
    """This process's resident memory, in MB (0 where /proc is missing)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    found = re.search(r"VmRSS:\s+(\d+)", status)
    return int(found.group(1)) // 1024 if found else 0


async def run_tier(
    tier: StoryTier, writer: LlamaStoryWriter, translator: Translator, photos: list[Photo]
) -> list[Story]:
    """Every photo's story by one tier (its model loaded once)."""
    started = time.perf_counter()
    writer.load()
    print(f"tier {tier}: model loaded in {time.perf_counter() - started:.1f} s, RSS {rss_mb()} MB", flush=True)
    stories = []
    for number, photo in enumerate(photos, 1):
        story = await write_story(writer, translator, photo, tier)
        flags = ", ".join(
            flag
            for flag, on in (
                ("unfinished", not story.finished),
                (f"not a {story.kind}", not story.kind_kept),
                (f"names {story.hero}~{'/'.join(story.similar_names)}", bool(story.similar_names)),
                (f"{story.hero} lost in pt", story.hero_missing_in_pt),
                (f"meta: {'/'.join(story.meta_talk)}", bool(story.meta_talk)),
                ("subject not named", not story.subject_named),
                (f"error: {story.error}", story.error is not None),
            )
            if on
        )
        print(
            f"  {tier} {number}/{len(photos)} {photo.file} {photo.kind}/{photo.length}: {story.words} words, "
            f"{story.write_s:.1f} s{' — ' + flags if flags else ''}",
            file=sys.stderr,
            flush=True,
        )
        stories.append(story)
    return stories


# --- the report ------------------------------------------------------------------------------------------------------

ROWS = (
    ("stories", "stories"),
    ("errors", "stories that failed"),
    ("finished_share", "finished within length"),
    ("kind_kept_share", "kind's shape kept (bedtime, fable, poem)"),
    ("hero_kept_share", "hero's name kept"),
    ("no_hero_named", "stories naming nobody"),
    ("meta_talk_stories", "stories with meta talk"),
    ("fallback_leaks", "fallback caption leaked"),
    ("repeated_4grams_mean", "repeated 4-grams (mean share)"),
    ("subject_named_share", "subject named"),
    ("subject_named_literally_share", "subject named, its word itself"),
    ("distinct_openings_share", "distinct openings"),
    ("pt_unknown_share", "pt-BR words outside the dictionary"),
    ("words_mean", "words, mean"),
    ("words_min", "words, min"),
    ("words_max", "words, max"),
    ("write_median_s", "writing s, median"),
    ("write_p90_s", "writing s, p90"),
    ("total_median_s", "writing + translation s, median"),
    ("total_p90_s", "writing + translation s, p90"),
)


def print_table(figures: dict[str, dict[str, Any]]) -> None:
    tiers = list(figures)
    print("\n| figure | " + " | ".join(tiers) + " | target (quality) |")
    print("|---|" + "---:|" * len(tiers) + "---|")
    for key, label in ROWS:
        print(f"| {label} | " + " | ".join(str(figures[t][key]) for t in tiers) + f" | {TARGETS.get(key, '')} |")
    for tier in tiers:
        f = figures[tier]
        print(f"\n{tier}: meta talk {f['meta_talk_kinds'] or 'none'}; pt-BR unknown: {f['pt_unknown_list'] or 'none'}")


def write_outputs(
    args: argparse.Namespace,
    photos: list[Photo],
    stories: dict[tuple[str, str], Story],
    figures: dict[str, dict[str, Any]],
    models: dict[str, StoryModel],
) -> None:
    run = {
        "part": args.part,
        "skip": args.skip,
        "limit": args.limit,
        "tiers": args.tiers,
        "kind": args.kind,
        "length": args.length,
    }
    run["models"] = {
        tier: {"tier": m.tier, "path": str(m.path or "SmolLM2"), "why": m.reason} for tier, m in models.items()
    }
    OUT.write_text(json.dumps({"run": run, "figures": figures}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    STORIES_OUT.parent.mkdir(exist_ok=True)
    everything = [
        asdict(photo) | {"facts": photo.facts.to_dict(), "stories": [asdict(stories[(photo.file, t)]) for t in models]}
        for photo in photos
    ]
    STORIES_OUT.write_text(json.dumps({"run": run, "photos": everything}, indent=1, ensure_ascii=False) + "\n")
    written = [OUT, STORIES_OUT]
    if len(models) > 1:
        BLIND_OUT.write_text(blind_markdown(photos, stories, list(models)), encoding="utf-8")
        written.append(BLIND_OUT)
    else:
        BLIND_OUT.unlink(missing_ok=True)  # an older run's pairs would no longer match the stories written
    print("\nwritten: " + ", ".join(str(path.relative_to(ROOT)) for path in written))
    if len(models) == 1:
        print(f"({BLIND_OUT.relative_to(ROOT)} needs two tiers: not written)")


def parse_tiers(text: str) -> list[StoryTier]:
    """`--tiers quality,light`: the tiers to run, in this order."""
    tiers = [t.strip() for t in text.split(",") if t.strip()]
    if not tiers or any(t not in TIERS for t in tiers):
        raise argparse.ArgumentTypeError(f"tiers are {', '.join(TIERS)}; got {text!r}")
    return [cast(StoryTier, t) for t in dict.fromkeys(tiers)]


async def main_async(args: argparse.Namespace) -> int:
    if shutil.which("hunspell") is None:
        print("hunspell with the pt_BR dictionary is needed: apt-get install hunspell hunspell-pt-br", file=sys.stderr)
        return 2
    if english_words(["house"]) is None:
        print("note: no en_US Hunspell dictionary (hunspell-en-us); names are read without it", file=sys.stderr)
    chosen = split_part(load_photos(), args.part, stories_read())[args.skip :][: args.limit]
    writers = {tier: writer_for(tier) for tier in args.tiers}  # every tier checked before any story is written
    translator = build_translator(settings_for("light"))
    translator.load()
    photos = await caption_photos(chosen, translator, args.kind, args.length)
    print(f"{len(photos)} photos ({args.part} part) captioned; RSS {rss_mb()} MB", flush=True)
    models = {tier: model for tier, (_, model) in writers.items()}
    stories: dict[tuple[str, str], Story] = {}
    for tier in args.tiers:
        writer = writers.pop(tier)[0]
        for story in await run_tier(tier, writer, translator, photos):
            stories[(story.file, tier)] = story
        del writer  # its model goes before the next tier's loads
        gc.collect()
    figures = {tier: summary([stories[(p.file, tier)] for p in photos]) for tier in args.tiers}
    print_table(figures)
    write_outputs(args, photos, stories, figures, models)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS, default="report", help="report (default; never tuned on), tuning, all")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N photos of the part (read already)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos of the part (after --skip)")
    parser.add_argument("--tiers", type=parse_tiers, default=list(TIERS), help="comma-separated: quality,light")
    parser.add_argument("--kind", choices=KINDS, default=None, help="one kind for every story (default: cycle)")
    parser.add_argument("--length", choices=LENGTHS, default=None, help="one length for every story (default: cycle)")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
