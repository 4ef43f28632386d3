"""`make personal-eval`: does a story keep the names and places the user wrote, and stay about the photo?

Runs 20 photos of the everyday set's report part (never tuned on; `bench/photo_set.py`) through the whole
pipeline (`Pipeline.run`: caption, the user's words, story, translation; the voice is a silent stand-in), each
with the words a family would send with it (`bench/personal_words.toml`: "minha filha Iara em Gramado", a
chat's main character "Thor, nosso cachorro"), and reports:

- **names kept**: every name and place in the words and the main character (`pipeline.names.find_names`) is in
  the Portuguese story exactly as written (case and accents, whole words); per story (all of its names) and per
  name. A name missing is told apart by where it went: never in the English story (the writer left it out), in
  the English story but not in the Portuguese one (the translation lost it), or in the Portuguese story with
  other case or accents;
- **about the photo**: the English story names one of the entry's `about` words (any case, plural allowed);
- **words translation time**: `own_words.read_told` with the offline pt→en translator (loaded first) on the 20
  entries' words, several rounds, median and p90 seconds (target ≤ 0.05 s); and the pipeline's own
  `translate_words` stage time (it runs beside the captioner, so on a busy machine it says less);
- each Portuguese caption and the words in English, for a reader to judge.

The issue's targets: every name kept in every story, stories about the photo, words translated in ≤ 0.05 s.
Options: `--tier quality|light` (default quality), `--limit N`, `--seed N` (a story's seed is N + its place),
`--rounds N` (timing rounds), `--kind`, `--length`. `make personal-eval PERSONAL_EVAL_ARGS="--tier light"`.

Writes `bench/personal_eval.json` (the figures and every story with its facts and checks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, get_args

from bench.photo_set import EVERYDAY, PERSONAL_WORDS, load_photos
from bench.safety_eval import SilentVoice
from bench.story_eval import edit_distance, rss_mb, settings_for, writer_for
from pipeline.backends import Backends, build_captioner, build_translator
from pipeline.core import Pipeline
from pipeline.events import PipelineInput, StoryKind, StoryLength, StoryOptions
from pipeline.names import find_names
from pipeline.own_words import read_told
from pipeline.safety import fold
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.models import StoryTier
from pipeline.translation.translators import OfflineTranslator

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "personal_eval.json"

TIERS: tuple[StoryTier, ...] = get_args(StoryTier)
KINDS: tuple[StoryKind, ...] = get_args(StoryKind)
LENGTHS: tuple[StoryLength, ...] = get_args(StoryLength)
SEED = 2000
TRANSLATE_TARGET_S = 0.05
SHOW_FAILURES = 5

# Where a name the Portuguese story lacks went (see the module docstring).
NOT_WRITTEN = "not in the English story"
MISSPELT = "misspelt in the English story"
LOST_IN_TRANSLATION = "in the English story, lost in the Portuguese"
RESPELT = "in the Portuguese story with other case or accents"


@dataclass(frozen=True)
class Entry:
    """One photo with the words a user sent with it (`bench/personal_words.toml`)."""

    file: str
    hint: str
    main_character: str
    about: tuple[str, ...]

    @property
    def options(self) -> StoryOptions:
        return StoryOptions(hint=self.hint, main_character=self.main_character)

    def names(self) -> list[str]:
        """Every name and place the user wrote, in the main character first, each once."""
        found = [*find_names(self.main_character), *find_names(self.hint)]
        return list(dict.fromkeys(name.text for name in found))


@dataclass
class Outcome:
    """One photo's run and its checks."""

    file: str
    hint: str
    main_character: str
    seed: int
    names: list[str]
    caption_en: str = ""
    caption_pt: str = ""
    told_en: str = ""  # the words as the writer read them (facts.told)
    main_character_en: str = ""
    hero: str | None = None
    facts_names: list[str] = field(default_factory=list)
    story_en: str = ""
    story_pt: str = ""
    names_missing: dict[str, str] = field(default_factory=dict)  # name → where it went (NOT_WRITTEN, ...)
    names_respelt: list[str] = field(default_factory=list)  # kept, but also spelt otherwise somewhere
    about: bool = False
    about_words: list[str] = field(default_factory=list)  # the entry's words the English story names
    timings: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def names_kept(self) -> bool:
        return not self.names_missing

    @property
    def failed(self) -> bool:
        return bool(self.names_missing) or not self.about or bool(self.errors)


# --- the checks (pure functions) ------------------------------------------------------------------------------------


def load_entries(path: Path = PERSONAL_WORDS) -> list[Entry]:
    """The entries of the words file, checked: each photo in the report part of the set, once."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)["entry"]
    parts = {str(photo["file"]): photo["part"] for photo in load_photos()}
    entries = [
        Entry(str(e["file"]), str(e.get("hint", "")), str(e.get("main_character", "")), tuple(e["about"])) for e in raw
    ]
    wrong = [e.file for e in entries if parts.get(e.file) != "report"]
    files = [e.file for e in entries]
    repeated = sorted({file for file in files if files.count(file) > 1})
    if wrong or repeated:
        raise SystemExit(f"{path.name}: not in the report part {wrong}, repeated {repeated}")
    return entries


def has_word(text: str, word: str) -> bool:
    """`word` in `text` exactly as written (case and accents), as whole words."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def where_missing(name: str, story_en: str, story_pt: str) -> str | None:
    """None when the Portuguese story has `name` exactly as written; else where it went."""
    if has_word(story_pt, name):
        return None
    if has_word(fold(story_pt), fold(name)):
        return RESPELT
    if has_word(fold(story_en), fold(name)):
        return LOST_IN_TRANSLATION
    return MISSPELT if misspelt(name, story_en) else NOT_WRITTEN


def misspelt(name: str, text: str) -> bool:
    """`text` has a run of as many words as `name` that a writer could have meant for it: at most three letters
    apart, and under a third of the name ("Piracabia" for Piracicaba, "Antonia" for Antônio)."""
    wanted = fold(name).lower()
    words = re.findall(r"[^\W\d_]+", fold(text).lower())
    size = len(wanted.split())
    runs = {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
    return any(0 < edit_distance(run, wanted) <= 3 and 3 * edit_distance(run, wanted) < len(wanted) for run in runs)


def respelt(name: str, story_pt: str) -> bool:
    """The Portuguese story also spells `name` with other case or accents ("Antonio" beside "Antônio")."""
    exact = len(re.findall(rf"(?<!\w){re.escape(name)}(?!\w)", story_pt))
    loose = len(re.findall(rf"(?<!\w){re.escape(fold(name))}(?!\w)", fold(story_pt), re.IGNORECASE))
    return loose > exact


def about_words(story_en: str, words: tuple[str, ...]) -> list[str]:
    """The words of `words` the English story names, any case, plural allowed (dog/dogs, berry/berries)."""
    found = []
    for word in words:
        stem = re.escape(word.lower())
        plural = rf"{stem}(?:s|es)?" if not word.endswith("y") else rf"(?:{stem}s?|{re.escape(word.lower()[:-1])}ies)"
        if re.search(rf"\b{plural}\b", story_en.lower()):
            found.append(word)
    return found


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def summary(outcomes: list[Outcome], translate_s: list[float]) -> dict[str, Any]:
    """The run's figures."""
    named = [o for o in outcomes if o.names]
    names = sum(len(o.names) for o in outcomes)
    lost = sum(len(o.names_missing) for o in outcomes)
    where = Counter(where for o in outcomes for where in o.names_missing.values())
    pipeline_words = [o.timings["translate_words"] for o in outcomes if "translate_words" in o.timings]
    stories = [o.timings["story"] for o in outcomes if "story" in o.timings]
    return {
        "stories": len(outcomes),
        "errors": sum(bool(o.errors) for o in outcomes),
        "stories_with_names": len(named),
        "names_all_kept_share": share(sum(o.names_kept for o in named), len(named)),
        "names": names,
        "names_kept_share": share(names - lost, names),
        "names_lost": dict(where.most_common()),
        "names_lost_list": {o.file: o.names_missing for o in outcomes if o.names_missing},
        "stories_with_a_kept_name_also_respelt": sum(bool(o.names_respelt) for o in outcomes),
        "names_respelt_list": {o.file: o.names_respelt for o in outcomes if o.names_respelt},
        "about_share": share(sum(o.about for o in outcomes), len(outcomes)),
        "translate_words_calls": len(translate_s),
        "translate_words_median_s": round(statistics.median(translate_s), 4) if translate_s else None,
        "translate_words_p90_s": round(quantile(translate_s, 0.9), 4) if translate_s else None,
        "translate_words_max_s": round(max(translate_s), 4) if translate_s else None,
        "pipeline_translate_words_median_s": round(statistics.median(pipeline_words), 4) if pipeline_words else None,
        "story_median_s": round(statistics.median(stories), 2) if stories else None,
    }


# --- the runs --------------------------------------------------------------------------------------------------------


async def time_read_told(entries: list[Entry], translator: OfflineTranslator, rounds: int) -> list[float]:
    """Seconds of `read_told` (the words and the main character translated, names kept) per entry and round."""
    seconds = []
    for _ in range(rounds):
        for entry in entries:
            started = time.perf_counter()
            await read_told(entry.options, translator.translate)
            seconds.append(time.perf_counter() - started)
    return seconds


async def run_entry(
    pipeline: Pipeline, writer: LlamaStoryWriter, entry: Entry, seed: int, kind: StoryKind, length: StoryLength
) -> Outcome:
    """One photo through the pipeline with its words and the story's seed, and its checks."""
    writer.settings = settings_for(writer.settings.story_tier, seed)  # read at each write: one model, many seeds
    options = StoryOptions(kind, length, entry.main_character, entry.hint)
    result = await pipeline.run(PipelineInput(EVERYDAY / entry.file, options=options))
    outcome = Outcome(entry.file, entry.hint, entry.main_character, seed, entry.names())
    outcome.caption_en, outcome.caption_pt = result.caption_en or "", result.caption_pt or ""
    if result.facts is not None:
        outcome.told_en = result.facts.told or ""
        outcome.main_character_en = result.facts.main_character or ""
        outcome.hero = result.facts.hero
        outcome.facts_names = list(result.facts.names)
    outcome.story_en, outcome.story_pt = result.story_en or "", result.story_pt or ""
    for name in outcome.names:
        where = where_missing(name, outcome.story_en, outcome.story_pt)
        if where is not None:
            outcome.names_missing[name] = where
        elif respelt(name, outcome.story_pt):
            outcome.names_respelt.append(name)
    outcome.about_words = about_words(outcome.story_en, entry.about)
    outcome.about = bool(outcome.about_words)
    outcome.timings = {stage: round(seconds, 3) for stage, seconds in result.timings.items()}
    outcome.errors = dict(result.errors)
    return outcome


def build_pipeline(tier: StoryTier, seed: int, words: OfflineTranslator) -> tuple[Pipeline, LlamaStoryWriter]:
    """The pipeline of `tier` (stopping when another tier would run) with silent voices and `words` for pt→en,
    and its writer."""
    settings = settings_for(tier, seed)
    writer, _ = writer_for(tier)
    voices = {"pt": SilentVoice("pt"), "en": SilentVoice("en")}
    backends = Backends(build_captioner(settings), writer, build_translator(settings), words, voices)
    return Pipeline(settings, backends), writer


# --- the report ------------------------------------------------------------------------------------------------------


def print_outcome(number: int, total: int, o: Outcome) -> None:
    flags = [f"missing {', '.join(f'{n} ({w})' for n, w in o.names_missing.items())}" if o.names_missing else ""]
    flags += [f"also respelt {', '.join(o.names_respelt)}" if o.names_respelt else ""]
    flags += ["not about the photo" if not o.about else "", f"errors {o.errors}" if o.errors else ""]
    said = " — ".join(flag for flag in flags if flag)
    print(
        f"{number}/{total} {o.file}: {len(o.names) - len(o.names_missing)}/{len(o.names)} names, "
        f"about {'/'.join(o.about_words) or 'no'}, story {o.timings.get('story', 0):.1f} s"
        f"{' — ' + said if said else ''}",
        file=sys.stderr,
        flush=True,
    )


def print_report(outcomes: list[Outcome], figures: dict[str, Any]) -> None:
    print("\n## Captions and words (for a reader to judge)\n")
    for o in outcomes:
        words = " / ".join(part for part in (o.hint, o.main_character) if part)
        told = " / ".join(part for part in (o.told_en, o.main_character_en) if part)
        print(f"- {o.file}: «{o.caption_pt}»\n    words: «{words}» → «{told}» (hero {o.hero})")
    failures = [o for o in outcomes if o.failed]
    print(f"\n## Failures: {len(failures)} of {len(outcomes)} stories (the first {SHOW_FAILURES} in full)\n")
    for o in failures[:SHOW_FAILURES]:
        print(f"### {o.file} (seed {o.seed})")
        print(f"hint: «{o.hint}»; main character: «{o.main_character}»; names: {o.names}")
        if o.names_missing:
            print("missing in the Portuguese story: " + "; ".join(f"{n}: {w}" for n, w in o.names_missing.items()))
        if o.names_respelt:
            print(f"kept, but elsewhere spelt otherwise in the Portuguese story: {', '.join(o.names_respelt)}")
        if not o.about:
            print("not about the photo: none of its words named")
        if o.errors:
            print(f"errors: {o.errors}")
        print(f"\nstory_en:\n{o.story_en}\n\nstory_pt:\n{o.story_pt}\n")
    rows = (
        ("stories", "stories", ""),
        ("errors", "stories with a failed stage", "0"),
        ("names_all_kept_share", "stories keeping every name and place", "1.0"),
        ("names_kept_share", f"names and places kept (of {figures['names']})", "1.0"),
        ("stories_with_a_kept_name_also_respelt", "stories with a kept name also spelt otherwise", "0"),
        ("about_share", "stories about the photo", "1.0"),
        ("translate_words_median_s", "words translation s, median (read_told)", f"<= {TRANSLATE_TARGET_S}"),
        ("translate_words_p90_s", "words translation s, p90 (read_told)", f"<= {TRANSLATE_TARGET_S}"),
        ("translate_words_max_s", "words translation s, max (read_told)", ""),
        ("pipeline_translate_words_median_s", "pipeline's translate_words stage s, median", ""),
        ("story_median_s", "story stage s, median", ""),
    )
    print("| figure | value | target |\n|---|---:|---|")
    for key, label, target in rows:
        print(f"| {label} | {figures[key]} | {target} |")
    print(f"\nnames lost: {figures['names_lost'] or 'none'}")


def write_json(run: dict[str, Any], outcomes: list[Outcome], translate_s: list[float]) -> None:
    """`OUT`: the run, its figures and every story with its checks."""
    stories = [asdict(o) | {"names_kept": o.names_kept} for o in outcomes]
    data = {"run": run, "figures": summary(outcomes, translate_s), "stories": stories}
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


async def main_async(args: argparse.Namespace) -> int:
    entries = load_entries()[: args.limit]
    words = OfflineTranslator("pt", "en")
    words.load()
    translate_s = await time_read_told(entries, words, args.rounds)
    print(
        f"read_told: {len(translate_s)} calls, median {statistics.median(translate_s):.4f} s, "
        f"p90 {quantile(translate_s, 0.9):.4f} s",
        flush=True,
    )
    pipeline, writer = build_pipeline(args.tier, args.seed, words)
    print(f"models loaded in {await pipeline.warm_up():.1f} s, RSS {rss_mb()} MB", flush=True)
    run: dict[str, Any] = {"tier": args.tier, "limit": args.limit, "seed": args.seed, "rounds": args.rounds}
    run |= {"kind": args.kind, "length": args.length, "words_file": str(PERSONAL_WORDS.relative_to(ROOT))}
    outcomes: list[Outcome] = []
    for number, entry in enumerate(entries, 1):
        outcome = await run_entry(pipeline, writer, entry, args.seed + number - 1, args.kind, args.length)
        print_outcome(number, len(entries), outcome)
        outcomes.append(outcome)
        write_json(run | {"done": f"{number}/{len(entries)}"}, outcomes, translate_s)  # a stopped run keeps its part
    print_report(outcomes, summary(outcomes, translate_s))
    print(f"\nwritten: {OUT.relative_to(ROOT)}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=TIERS, default="quality", help="story tier (default quality)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N entries of the words file")
    parser.add_argument("--seed", type=int, default=SEED, help=f"the first story's seed (default {SEED})")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds of the words translation (default 5)")
    parser.add_argument("--kind", choices=KINDS, default="classic", help="every story's kind (default classic)")
    parser.add_argument("--length", choices=LENGTHS, default="medium", help="every story's length (default medium)")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
