"""`make caption-eval`: does the caption name what is in the photo, and is the story about it?

Runs the configured captioner (the offline default unless settings say otherwise) on the public everyday set
(`tests/data/everyday/photos.toml`: people, animals, food, vehicles, rooms, streets, ...) and on the bundled
landscape gallery, and prints per photo and in total:

- **named**: the caption names the photo's main subject (one of the words its manifest allows);
- **false**: the caption asserts something that is not there — a wrong subject, people where there are none
  or more than there are, "indoors" outdoors or sky and landscape words on an indoor or close-up photo,
  or a word the manifest lists as absent;
- the caption time (warm).

With stories (the default), it also writes a story for each everyday photo and reports the share that mention
the caption's subject, how the stories open, and the share of Portuguese words outside the pt-BR Hunspell
dictionary (names aside). `--captions-only` skips the stories. Results go to `bench/caption_eval.json`.
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
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.caption import Captioner
from pipeline.config import PipelineSettings
from pipeline.core import Backends
from pipeline.facts import PhotoFacts
from pipeline.images import decode_image
from pipeline.story import FRIEND_NAMES, HERO_NAMES, StoryWriter
from pipeline.text import split_sentences
from pipeline.translate import Translator

ROOT = Path(__file__).resolve().parents[1]
EVERYDAY = ROOT / "tests" / "data" / "everyday"
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
    r"\b(landscape|countryside|view|mountains?|peaks?|ridge|valley|volcan\w*|cliff|hills?|lake\w*|coast\w*|"
    r"shore\w*|seashore|sea|beach|forest|woodland|trees|meadow|pasture|field|grass|snow\w*|sunset|sky)\b"
)
# A vague but true subject ("an animal" for a kitten) is neither named nor false.
KIND_OF_CATEGORY = {
    "animal": "an animal",
    "food": "some food",
    "vehicle": "a vehicle",
    "plant": "a plant",
    "building": "a building",
}
# A story mentions a people subject when it speaks of people, or of the two or more characters it names.
PEOPLE_SUBJECT_WORDS = r"\b(person|people|friends?|family|crowd|group|together|everyone|they)\b"


@dataclass
class Verdict:
    file: str
    category: str
    caption: str
    subject: str | None
    seconds: float
    named: bool
    false_claims: list[str]
    story_en: str | None = None
    story_pt: str | None = None
    story_mentions_subject: bool | None = None
    unknown_pt_words: list[str] = field(default_factory=list)


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
    false: list[str] = []
    people, setting, category = int(photo.get("people", 0)), photo.get("setting"), str(photo["category"])
    claimed = claimed_people(caption)
    if claimed > max(people, 0) and not (people >= 3 and claimed >= 3):
        false.append(f"people: says {claimed}, there are {people}")
    if setting == "outdoors" and re.search(INDOOR_WORDS, caption):
        false.append("indoors, but it is outdoors")
    if setting in ("indoors", "unknown") and re.search(OUTDOOR_WORDS, caption):
        false.append("sky or landscape words on an indoor or close-up photo")
    if category != "landscape" and re.search(LANDSCAPE_WORDS, caption) and not named:
        false.append("a landscape that is not one")
    absent = [str(w) for w in photo.get("absent", [])]
    if absent and re.search(words_pattern(absent), caption):
        false.append("names something absent")
    subject = (facts.subject or "").lower()
    true_anyway = claimed_people(subject) > 0 or subject == KIND_OF_CATEGORY.get(category)
    true_anyway = true_anyway or (landscape and re.search(LANDSCAPE_NOUNS, subject) is not None)
    if subject and not re.search(words_pattern(allowed), subject) and not true_anyway:
        false.append(f"wrong subject: {facts.subject}")
    return Verdict(str(photo["file"]), category, facts.caption, facts.subject, seconds, named, false)


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


def load_manifest(path: Path) -> list[dict[str, object]]:
    with path.open("rb") as fh:
        return list(tomllib.load(fh)["photo"])


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


def summary(everyday: list[Verdict], gallery: list[Verdict]) -> dict[str, object]:
    times = sorted(v.seconds for v in everyday + gallery)
    out: dict[str, object] = {
        "everyday_photos": len(everyday),
        "named_share": round(share([v.named for v in everyday]), 3),
        "false_share": round(share([bool(v.false_claims) for v in everyday]), 3),
        "gallery_photos": len(gallery),
        "gallery_right_share": round(share([v.named and not v.false_claims for v in gallery]), 3),
        "caption_median_s": round(times[len(times) // 2], 4),
        "caption_p90_s": round(times[int(0.9 * (len(times) - 1))], 4),
        "by_category": {
            category: f"{sum(v.named for v in everyday if v.category == category)}/{count}"
            for category, count in sorted(Counter(v.category for v in everyday).items())
        },
    }
    stories = [v for v in everyday if v.story_pt is not None]
    if stories:
        words = sum(unknown_portuguese_words(v.story_pt or "")[1] for v in stories)
        unknown = sum(len(v.unknown_pt_words) for v in stories)
        openings = Counter(" ".join((v.story_en or "").split()[:3]) for v in stories)
        out |= {
            "stories": len(stories),
            "story_mentions_subject_share": round(share([bool(v.story_mentions_subject) for v in stories]), 3),
            "pt_words": words,
            "pt_unknown_words": unknown,
            "pt_unknown_share": round(unknown / words, 4) if words else None,
            "pt_unknown_list": sorted({w for v in stories for w in v.unknown_pt_words}),
            "most_common_opening": openings.most_common(1)[0],
            "distinct_openings": len(openings),
        }
    return out


def print_table(title: str, verdicts: list[Verdict]) -> None:
    print(f"\n## {title}\n")
    print("| photo | caption | named | false | s |")
    print("|---|---|:---:|---|---:|")
    for v in verdicts:
        false = "; ".join(v.false_claims) or ""
        print(f"| {v.file} | {v.caption} | {'✅' if v.named else '❌'} | {false} | {v.seconds:.3f} |")


async def main_async(args: argparse.Namespace) -> int:
    settings = PipelineSettings()
    backends = Backends.from_settings(settings)
    to_load: list[Captioner | StoryWriter | Translator] = [backends.captioner]
    if not args.captions_only:
        to_load += [backends.story_writer, backends.translator]
    for backend in to_load:
        backend.load()
    if not args.captions_only and shutil.which("hunspell") is None:
        print("hunspell with the pt_BR dictionary is needed: apt-get install hunspell hunspell-pt-br", file=sys.stderr)
        return 2
    everyday_photos = load_manifest(EVERYDAY / "photos.toml")
    await caption_all(backends, settings, EVERYDAY, everyday_photos[:1])  # warm-up, not counted
    everyday = await caption_all(backends, settings, EVERYDAY, everyday_photos)
    gallery = await caption_all(backends, settings, GALLERY, gallery_manifest())
    if not args.captions_only:
        await add_stories(backends, everyday)
    print_table(f"Everyday photos ({settings.caption_backend})", [v for v, _ in everyday])
    print_table("Gallery landscapes", [v for v, _ in gallery])
    totals = summary([v for v, _ in everyday], [v for v, _ in gallery])
    print("\n## Totals\n")
    for key, value in totals.items():
        print(f"- {key}: {value}")
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
    parser.add_argument("--captions-only", action="store_true", help="skip the stories (seconds instead of minutes)")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
