"""`make caption-eval`: does the caption name what is in the photo, and does it claim only what is there?

Runs the configured captioner (the offline default unless settings say otherwise) on the public everyday set
(`tests/data/everyday/photos*.toml`: people, pets, wild animals, food and drink, vehicles, objects, rooms,
streets and buildings, night scenes, sport, landscapes) and on the bundled landscape gallery. Per photo and
for each part of the set (`bench/photo_set.py`: the report part was never tuned on), by category:

- **named**: the caption names the photo's main subject (one of the words its manifest allows);
- **false**: the caption claims something that is not there, counted by kind —
  `subject` (a wrong subject, a landscape that is not one, a word the manifest lists as absent),
  `people` (people where there are none, or more than there are), `setting` ("indoors" outdoors, sky and
  landscape words indoors or on a close-up), `light` (night, dusk or daylight the manifest's `light` denies)
  and `weather` (blue sky, clouds, fog, rain or snow not in its `weather`);
- **hedged**: the caption says it is unsure ("what looks like", "nothing stands out", "a photo taken indoors");
- the caption time (warm).

`--stories` also writes a story for each report-part photo and reports the share that mention the caption's
subject, how the stories open, and the share of Portuguese words outside the pt-BR Hunspell dictionary (names
aside). Results go to `bench/caption_eval.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.photo_set import EVERYDAY, load_photos
from pipeline.backends import Backends
from pipeline.config import PipelineSettings
from pipeline.facts import PhotoFacts
from pipeline.images import decode_image
from pipeline.interfaces import Captioner, StoryWriter, Translator
from pipeline.story.prompt import FRIEND_NAMES, HERO_NAMES
from pipeline.text import split_sentences

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "assets" / "gallery"
OUT = ROOT / "bench" / "caption_eval.json"

PEOPLE_CLAIMS = (
    (2, r"\btwo (people|persons|friends)\b"),
    (3, r"\b(group|crowd|people|friends|family)\b"),
    (1, r"\b(person|man|woman|girl|boy|child|player|diver|bridegroom|portrait)\b"),
)
INDOOR_WORDS = r"\b(indoors|inside|kitchen|living room|bedroom|bathroom|dining room|office|library)\b"
OUTDOOR_WORDS = r"\b(sky|sunset|dusk|landscape|countryside|outdoors|mountains?|meadow|forest|shore|field)\b"
LANDSCAPE_WORDS = r"\b(landscape|countryside|a view of)\b"
# On a landscape, any landscape word names the subject (the gallery credits say "hills", the caption "valley").
LANDSCAPE_NOUNS = (
    r"\b(landscape|countryside|view|mountains?|peaks?|ridge|valley|volcan\w*|cliff|rock\w*|hills?|hay\w*|lake\w*|coast\w*|"
    r"shore\w*|seashore|sea|beach|forest|woodland|trees|meadow|pasture|field|grass|snow\w*|sunset|sky)\b"
)
# A vague but true subject ("an animal" for a kitten) is neither named nor false.
KIND_OF_CATEGORY = {
    "animal": "an animal",
    "pet": "an animal",
    "food": "some food",
    "vehicle": "a vehicle",
    "plant": "a plant",
    "building": "a building",
}
# What a caption's words claim of the light, and the manifest `light` values that make the claim true.
LIGHT_CLAIMS = {
    "night": (r"\b(night|dark of night)\b", ("night",)),
    "dusk": (r"\b(sunset|sunrise|dusk|twilight|evening)\b", ("dusk", "night")),
    "daylight": (r"\b(daylight|sunlit|sunny)\b", ("day", "unknown", "indoor")),
}
# What a caption's words claim of the weather, each true only when the manifest's `weather` lists it (a grey
# sky is also true of fog).
WEATHER_CLAIMS = {
    "clear": r"\b(blue sky|clear sky|clear blue)\b",
    "cloudy": r"\b(cloudy|grey sky|clouds)\b",
    "fog": r"\b(fog|foggy|mist|misty)\b",
    "rain": r"\b(rain|rainy|raining)\b",
    "snow": r"\b(snow\w*|wintry)\b",
}
CLAIM_KINDS = ("subject", "people", "setting", "light", "weather")
HEDGES = r"\b(what looks like|nothing stands out|a photo taken indoors)\b"
# A story mentions a people subject when it speaks of people, or of the two or more characters it names.
PEOPLE_SUBJECT_WORDS = r"\b(person|people|friends?|family|crowd|group|together|everyone|they)\b"


@dataclass
class Verdict:
    file: str
    part: str
    category: str
    light: str  # the manifest's: day, dusk, night, indoor or unknown
    caption: str
    subject: str | None
    seconds: float
    named: bool
    hedged: bool
    false_claims: list[str]  # each "kind: what", kind one of CLAIM_KINDS
    story_en: str | None = None
    story_pt: str | None = None
    story_mentions_subject: bool | None = None
    unknown_pt_words: list[str] = field(default_factory=list)

    def false_kinds(self) -> set[str]:
        return {claim.split(":", 1)[0] for claim in self.false_claims}


def words_pattern(words: list[str]) -> str:
    return r"\b(" + "|".join(re.escape(w.lower()) for w in words) + r")\b"


def claimed_people(caption: str) -> int:
    return next((count for count, pattern in PEOPLE_CLAIMS if re.search(pattern, caption)), 0)


def judge(photo: dict[str, Any], facts: PhotoFacts, seconds: float) -> Verdict:
    """The caption against the manifest entry of its photo."""
    caption = facts.caption.lower()
    allowed = [str(w) for w in photo["subject"]]
    landscape = str(photo["category"]) == "landscape"
    named = re.search(words_pattern(allowed), caption) is not None
    named = named or (landscape and re.search(LANDSCAPE_NOUNS, caption) is not None)
    false = [
        *subject_claims(photo, facts, named),
        *people_claims(photo, caption),
        *setting_claims(photo, caption),
        *light_and_weather_claims(photo, caption),
    ]
    hedged = re.search(HEDGES, caption) is not None
    return Verdict(
        file=str(photo["file"]),
        part=str(photo.get("part", "")),
        category=str(photo["category"]),
        light=str(photo.get("light", "unknown")),
        caption=facts.caption,
        subject=facts.subject,
        seconds=seconds,
        named=named,
        hedged=hedged,
        false_claims=false,
    )


def subject_claims(photo: dict[str, Any], facts: PhotoFacts, named: bool) -> list[str]:
    caption, category = facts.caption.lower(), str(photo["category"])
    allowed = [str(w) for w in photo["subject"]]
    landscape = category == "landscape"
    false = []
    if not landscape and re.search(LANDSCAPE_WORDS, caption) and not named:
        false.append("subject: a landscape that is not one")
    absent = [str(w) for w in photo.get("absent", [])]
    if absent and re.search(words_pattern(absent), caption):
        false.append("subject: names something absent")
    subject = (facts.subject or "").lower()
    true_anyway = claimed_people(subject) > 0 or subject == KIND_OF_CATEGORY.get(category)
    true_anyway = true_anyway or (landscape and re.search(LANDSCAPE_NOUNS, subject) is not None)
    if subject and not re.search(words_pattern(allowed), subject) and not true_anyway:
        false.append(f"subject: says {facts.subject}")
    return false


def people_claims(photo: dict[str, Any], caption: str) -> list[str]:
    people, claimed = int(photo.get("people", 0)), claimed_people(caption)
    if claimed > max(people, 0) and not (people >= 3 and claimed >= 3):
        return [f"people: says {claimed}, there are {people}"]
    return []


def setting_claims(photo: dict[str, Any], caption: str) -> list[str]:
    setting = photo.get("setting")
    if setting == "outdoors" and re.search(INDOOR_WORDS, caption):
        return ["setting: indoors, but it is outdoors"]
    if setting in ("indoors", "unknown") and re.search(OUTDOOR_WORDS, caption):
        return ["setting: sky or landscape words on an indoor or close-up photo"]
    return []


def light_and_weather_claims(photo: dict[str, Any], caption: str) -> list[str]:
    if "light" not in photo:
        return []  # the gallery's credits say nothing of light and weather
    light, weather = str(photo["light"]), [str(w) for w in photo["weather"]]
    false = [
        f"light: says {claim}, it is {light}"
        for claim, (pattern, true_of) in LIGHT_CLAIMS.items()
        if re.search(pattern, caption) and light not in true_of
    ]
    false += [
        f"weather: says {claim}, it shows {', '.join(weather) or 'no weather'}"
        for claim, pattern in WEATHER_CLAIMS.items()
        if re.search(pattern, caption) and claim not in weather and not (claim == "cloudy" and "fog" in weather)
    ]
    return false


def story_mentions(facts: PhotoFacts, story: str) -> bool:
    text = story.lower()
    if facts.people:
        return re.search(PEOPLE_SUBJECT_WORDS, text) is not None or len(set(HERO_NAMES) & set(story.split())) > 0
    if not facts.subject:
        return True  # nothing was named: nothing to mention
    head = facts.subject.lower().split()[-1]
    stem = head[:-1] if head.endswith("s") else head
    return re.search(rf"\b{re.escape(stem)}", text) is not None


def unknown_portuguese_words(text: str) -> tuple[list[str], int]:
    """Words of `text` outside the pt-BR Hunspell dictionary, and the word count; names aside (our heroes,
    and any capitalised word that does not start a sentence: the model invents side characters)."""
    words: list[str] = []
    for sentence in split_sentences(" ".join(text.split())):
        tokens = re.findall(r"[A-Za-zÀ-ÿ]+(?:-[A-Za-zÀ-ÿ]+)*", sentence)
        words += [w for i, w in enumerate(tokens) if i == 0 or not w[0].isupper()]
    checked = [w for w in words if w not in set(HERO_NAMES) | set(FRIEND_NAMES)]
    result = subprocess.run(
        ["hunspell", "-d", "pt_BR", "-l"], input="\n".join(checked), capture_output=True, text=True, check=True
    )
    return result.stdout.split(), len(checked)


def gallery_manifest() -> list[dict[str, object]]:
    """The bundled landscapes, with the words of their credited scene description as allowed subjects."""
    entries = json.loads((GALLERY / "credits.json").read_text(encoding="utf-8"))
    photos = []
    for entry in entries:
        words = re.findall(r"[a-z]+", entry["scene"].lower())
        allowed = sorted({w for w in words if len(w) > 3} | {w.rstrip("s") for w in words if len(w) > 3})
        photos.append(
            {"file": entry["file"], "category": "landscape", "subject": allowed, "people": 0, "setting": "outdoors"}
        )
    return photos


async def caption_all(
    backends: Backends, settings: PipelineSettings, folder: Path, photos: list[dict[str, object]]
) -> list[tuple[Verdict, PhotoFacts]]:
    results = []
    for photo in photos:
        data = (folder / str(photo["file"])).read_bytes()
        image = decode_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels).image
        started = time.perf_counter()
        facts = await backends.captioner.caption(image)
        results.append((judge(photo, facts, time.perf_counter() - started), facts))
    return results


async def add_stories(backends: Backends, results: list[tuple[Verdict, PhotoFacts]]) -> None:
    for index, (verdict, facts) in enumerate(results, 1):
        print(f"  story {index}/{len(results)}: {verdict.file}", file=sys.stderr, flush=True)
        verdict.story_en = await backends.story_writer.write(facts)
        verdict.story_pt = await backends.translator.translate(verdict.story_en)
        verdict.story_mentions_subject = story_mentions(facts, verdict.story_en)
        verdict.unknown_pt_words, _ = unknown_portuguese_words(verdict.story_pt)


def share(values: list[bool]) -> float:
    return sum(values) / len(values) if values else float("nan")


def part_summary(verdicts: list[Verdict]) -> dict[str, object]:
    """Named, false and hedged shares of one part, false claims by kind, and the same by category."""
    night = [v for v in verdicts if v.light == "night"]
    return {
        "photos": len(verdicts),
        "named_share": round(share([v.named for v in verdicts]), 3),
        "false_share": round(share([bool(v.false_claims) for v in verdicts]), 3),
        "hedged_share": round(share([v.hedged for v in verdicts]), 3),
        "false_by_kind": {kind: sum(kind in v.false_kinds() for v in verdicts) for kind in CLAIM_KINDS},
        "night_photos": len(night),
        "night_light_or_weather_false": sum(bool(v.false_kinds() & {"light", "weather"}) for v in night),
        "by_category": {
            category: {
                "photos": len(group),
                "named": sum(v.named for v in group),
                "false": sum(bool(v.false_claims) for v in group),
                "hedged": sum(v.hedged for v in group),
            }
            for category in sorted({v.category for v in verdicts})
            for group in [[v for v in verdicts if v.category == category]]
        },
    }


def story_summary(stories: list[Verdict]) -> dict[str, object]:
    words = sum(unknown_portuguese_words(v.story_pt or "")[1] for v in stories)
    unknown = sum(len(v.unknown_pt_words) for v in stories)
    openings = Counter(" ".join((v.story_en or "").split()[:3]) for v in stories)
    return {
        "stories": len(stories),
        "story_mentions_subject_share": round(share([bool(v.story_mentions_subject) for v in stories]), 3),
        "pt_words": words,
        "pt_unknown_words": unknown,
        "pt_unknown_share": round(unknown / words, 4) if words else None,
        "pt_unknown_list": sorted({w for v in stories for w in v.unknown_pt_words}),
        "most_common_opening": openings.most_common(1)[0],
        "distinct_openings": len(openings),
    }


def summary(everyday: list[Verdict], gallery: list[Verdict]) -> dict[str, object]:
    times = sorted(v.seconds for v in everyday + gallery)
    out: dict[str, object] = {
        part: part_summary([v for v in everyday if v.part == part]) for part in ("report", "tuning")
    }
    out |= {
        "gallery_photos": len(gallery),
        "gallery_right_share": round(share([v.named and not v.false_claims for v in gallery]), 3),
        "caption_median_s": round(times[len(times) // 2], 4),
        "caption_p90_s": round(times[int(0.9 * (len(times) - 1))], 4),
    }
    stories = [v for v in everyday if v.story_pt is not None]
    if stories:
        out["stories"] = story_summary(stories)
    return out


def print_table(title: str, verdicts: list[Verdict]) -> None:
    print(f"\n## {title}\n")
    print("| photo | part | caption | named | false | s |")
    print("|---|---|---|:---:|---|---:|")
    for v in verdicts:
        false = "; ".join(v.false_claims) or ""
        print(f"| {v.file} | {v.part} | {v.caption} | {'✅' if v.named else '❌'} | {false} | {v.seconds:.3f} |")


def print_totals(totals: dict[str, Any]) -> None:
    for part in ("report", "tuning"):
        figures = totals[part]
        print(f"\n## {part.capitalize()} part: {figures['photos']} photos\n")
        print(
            f"- named {figures['named_share']:.1%} (target ≥ 75%), false {figures['false_share']:.1%} (≤ 5%), "
            f"hedged {figures['hedged_share']:.1%}"
        )
        print(f"- false claims by kind: {figures['false_by_kind']}")
        print(
            f"- night scenes with a false light or weather claim: {figures['night_light_or_weather_false']} "
            f"of {figures['night_photos']} (target 0)"
        )
        print("\n| category | photos | named | false | hedged |\n|---|---:|---:|---:|---:|")
        for category, c in figures["by_category"].items():
            print(f"| {category} | {c['photos']} | {c['named']} | {c['false']} | {c['hedged']} |")
    rest = {k: v for k, v in totals.items() if k not in ("report", "tuning")}
    print("\n## Gallery, time, stories\n")
    for key, value in rest.items():
        print(f"- {key}: {value}")


async def main_async(args: argparse.Namespace) -> int:
    settings = PipelineSettings()
    backends = Backends.from_settings(settings)
    to_load: list[Captioner | StoryWriter | Translator] = [backends.captioner]
    if args.stories:
        to_load += [backends.story_writer, backends.translator]
    for backend in to_load:
        backend.load()
    if args.stories and shutil.which("hunspell") is None:
        print("hunspell with the pt_BR dictionary is needed: apt-get install hunspell hunspell-pt-br", file=sys.stderr)
        return 2
    everyday_photos = load_photos()
    await caption_all(backends, settings, EVERYDAY, everyday_photos[:1])  # warm-up, not counted
    everyday = await caption_all(backends, settings, EVERYDAY, everyday_photos)
    gallery = await caption_all(backends, settings, GALLERY, gallery_manifest())
    if args.stories:
        await add_stories(backends, [(v, facts) for v, facts in everyday if v.part == "report"])
    print_table(f"Everyday photos ({settings.caption_backend})", [v for v, _ in everyday])
    print_table("Gallery landscapes", [v for v, _ in gallery])
    totals = summary([v for v, _ in everyday], [v for v, _ in gallery])
    print_totals(totals)
    OUT.write_text(
        json.dumps(
            {
                "summary": totals,
                "everyday": [asdict(v) for v, _ in everyday],
                "gallery": [asdict(v) for v, _ in gallery],
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten: {OUT.relative_to(ROOT)}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", action="store_true", help="also a story per report-part photo (minutes)")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
