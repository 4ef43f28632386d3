"""From what the models saw to what the caption says: ImageNet probabilities, faces and colours → PhotoFacts.

Pure and deterministic (no model inside), so every phrasing rule is tested without a network. The rules, in
order of trust:

1. **People** come from the face detector (ImageNet-1k has no person class), counted as "a person",
   "two people", "a group of people" or "a crowd"; a few ImageNet classes are people too ("ballplayer").
2. **Things**: the 1000 classes are grouped into plain words (`data/imagenet_groups.toml`: 118 dog breeds
   are "a dog", espresso is "a cup of coffee"); a group is named when its summed probability is high enough,
   else a wider family ("a bird") or its kind ("an animal") when those are.
3. **Places**: landscape scenes (`data/caption_vocabulary.toml`) as before, with light and weather read from
   the colours (sunset, fog, night) — but only for photos that look like they were taken outdoors: blue sky,
   or grey sky over land. Warm colours (coffee, skin) and a white backdrop (a cut-out) are not a sky. Under
   open sky a thing must be surer, since landscapes fool the classifier (clouds look like planes).
4. **Honest fallback**: when nothing is sure, a careful guess ("what looks like a cat") or a plain "a photo
   where nothing stands out", never an invented landscape.

The wording varies from photo to photo but is seeded by the pixels, so one photo always gets one caption.
Phrases are chosen so that the offline translator turns them into natural Portuguese ("seen up close", not
"a close-up of", which it leaves in English).
"""

from __future__ import annotations

import hashlib
import random
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from pipeline.caption.objects import COCO_LABELS, Detection
from pipeline.config import DATA_DIR
from pipeline.facts import GUESS, PhotoFacts, Setting

# A landscape scene (the summed probability of its labels) must be at least this likely to be named.
SCENE_THRESHOLD = 0.30
# A second scene is mentioned in passing ("with mountains in the distance") above this.
BACKGROUND_THRESHOLD = 0.15
# A group of classes ("dog", "cup of coffee") is the subject above this summed probability ...
THING_THRESHOLD = 0.40
# ... is named as a guess ("what looks like a dog") above this one ...
GUESS_THRESHOLD = 0.22
# ... and goes with the people seen ("a person with a dog") above this one.
COMPANION_THRESHOLD = 0.30
# Rooms and streets are weak evidence spread over many classes: a lower bar places a subject in them.
PLACE_THRESHOLD = 0.25
# The last resort before "nothing stands out": a landscape scene this likely, when nothing else is.
WEAK_SCENE_THRESHOLD = 0.08
# Under open sky, where landscapes fool the classifier into planes and fountains, a thing needs more.
SKY_THING_THRESHOLD = 0.55
# No group is sure, but its kind is ("a cat" 0.2 + "a dog" 0.2): the kind is named as a guess.
KIND_THRESHOLD = 0.40
KIND_WORDS = {"animal": "an animal", "food": "some food", "vehicle": "a vehicle", "plant": "a plant"}
GUESS_KINDS = ("animal", "food", "plant")
# A kind this likely is named even when none of its groups is sure: animals anywhere, and under open sky
# vehicles and buildings too (elsewhere their summed probability is spread over look-alike objects).
SKY_KINDS = ("animal", "vehicle", "building")
SURE_KIND_THRESHOLD = 0.50

KINDS = ("animal", "food", "drink", "vehicle", "building", "street", "room", "plant", "object", "sport")
OTHER_KINDS = ("person", "clothing", "scene", "unnamed")  # never named as things
# How a thing that is not the subject goes with the people in the photo.
COMPANION_WORDS = {"vehicle": "next to"}
ROOM_PREPOSITIONS = {"stage": "on"}
CLOSE_UP_KINDS = ("food", "drink", "object")
OUTDOOR_KINDS = ("vehicle", "building", "street")


# --------------------------------------------------------------------------------------------------------
# Image statistics: what a classifier trained on objects does not see (light, weather, land cover).


@dataclass(frozen=True)
class ImageStats:
    """Colour statistics of a small thumbnail; fractions are of pixels in the named region (0..1)."""

    brightness: float  # mean HSV value, whole image
    saturation: float  # mean HSV saturation, whole image
    greenery: float  # green vegetation, whole image
    lower_green: float  # green, lower half (meadow, grass)
    lower_gold: float  # yellow-brown, lower half (dry grass, fields)
    lower_white: float  # bright and colourless, lower half (snow on the ground)
    middle_white: float  # bright and colourless, middle band (snow on peaks and slopes)
    sky_blue: float  # blue sky, top third
    sky_grey: float  # colourless, top third (clouds, haze, fog)
    sky_warm: float  # orange/red/yellow, top third (sunset, sunrise)
    twilight: float  # violet and pink, upper two thirds (dusk)
    sky_unevenness: float  # spread of brightness in the top third (fog is flat)
    seed: int  # hash of the thumbnail's pixels: picks the wording
    backdrop: float = 0.0  # near-white and colourless, outer ring (a cut-out or a studio shot: not snow, not sky)
    sky_brightness: float = 0.7  # mean HSV value, top third (a daylight sky is bright; dusk and night are not)


def image_stats(image: Image.Image) -> ImageStats:
    small = ImageOps.contain(image.convert("RGB"), (96, 96), Image.Resampling.BOX)
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32) / 255.0
    hue, sat, val = hsv[..., 0] * 360.0, hsv[..., 1], hsv[..., 2]
    rows = hue.shape[0]
    top, upper = slice(0, max(1, rows // 3)), slice(0, max(1, 2 * rows // 3))
    middle, lower = slice(rows // 4, max(rows // 4 + 1, 3 * rows // 4)), slice(rows // 2, rows)

    green = (hue >= 65) & (hue <= 170) & (sat > 0.2) & (val > 0.12)
    gold = (hue >= 30) & (hue < 65) & (sat > 0.3) & (val > 0.35)
    white = (sat < 0.15) & (val > 0.75)
    blue = (hue >= 185) & (hue <= 250) & (sat > 0.2) & (val > 0.35)
    grey = (sat < 0.18) & (val > 0.35)
    warm = ((hue < 50) | (hue >= 330)) & (sat > 0.3) & (val > 0.3)
    violet = (hue >= 255) & (hue < 345) & (sat > 0.15) & (val > 0.25)
    ring = np.ones(hue.shape, dtype=bool)
    ring[max(1, rows // 20) : -max(1, rows // 20), max(1, hue.shape[1] // 20) : -max(1, hue.shape[1] // 20)] = False
    blank = (sat < 0.08) & (val > 0.9)
    return ImageStats(
        brightness=float(val.mean()),
        saturation=float(sat.mean()),
        greenery=float(green.mean()),
        lower_green=float(green[lower].mean()),
        lower_gold=float(gold[lower].mean()),
        lower_white=float(white[lower].mean()),
        middle_white=float(white[middle].mean()),
        sky_blue=float(blue[top].mean()),
        sky_grey=float(grey[top].mean()),
        sky_warm=float(warm[top].mean()),
        twilight=float(violet[upper].mean()),
        sky_unevenness=float(val[top].std()),
        seed=int.from_bytes(hashlib.sha256(small.tobytes()).digest()[:8], "big"),
        backdrop=float(blank[ring].mean()),
        sky_brightness=float(val[top].mean()),
    )


GLOWING_BELOW = 0.45  # a photo darker than this (mean HSV value) under a warm or violet top: a sunset's light
# A blue top this bright (mean HSV value) is a daylight sky; one less bright only if the photo is not too
# saturated (lamp-lit and pre-dawn scenes are vivid under a mid-bright blue); darker, it is dusk or night.
BRIGHT_SKY, DAYLIGHT_SKY, LAMPLIT = 0.7, 0.55, 0.58


def daylight_sky(stats: ImageStats) -> bool:
    if stats.sky_brightness >= BRIGHT_SKY:
        return True
    return stats.sky_brightness >= DAYLIGHT_SKY and stats.saturation < LAMPLIT


LIGHTS = ("night", "sunset", "dusk", "fog", "clear", "overcast", "plain")  # `plain`: nothing stands out


def light_of(stats: ImageStats) -> str | None:
    """The time of day or weather the colours show, as a key of the vocabulary's [light] table."""
    if stats.brightness < 0.2 and stats.greenery < 0.35:  # a dark forest is not night
        return "night"
    if stats.sky_warm >= 0.25:
        return "dusk" if stats.brightness < 0.3 else "sunset"
    if stats.twilight >= 0.25:
        return "dusk"
    if stats.saturation < 0.08 and stats.sky_grey >= 0.8 and stats.sky_unevenness < 0.06:
        return "fog"
    if stats.sky_blue >= 0.45 and daylight_sky(stats):
        return "clear"
    if stats.sky_grey >= 0.45:
        return "overcast"
    return None


BACKDROP = 0.8  # this much of the outer ring blank: a cut-out or a studio shot


def land_of(stats: ImageStats) -> str | None:
    """The land cover the colours alone suggest (the classifier's weak spots), or None."""
    if stats.backdrop >= BACKDROP:
        return None
    if stats.greenery >= 0.5 and stats.sky_blue < 0.2:
        return "forest"
    if stats.lower_white >= 0.4:
        return "snow"
    if stats.lower_green >= 0.45:
        return "meadow"
    if stats.lower_gold >= 0.5 and max(stats.sky_blue, stats.sky_grey) >= 0.3:
        return "grassland"
    return None


SKY_SHARE = 0.45  # of the top third's pixels in sky colours: the photo shows open sky


def has_sky(stats: ImageStats) -> bool:
    """The top of the photo looks like open sky (blue, grey, sunset or twilight colours)."""
    return max(stats.sky_blue, stats.sky_grey, stats.sky_warm, stats.twilight) >= SKY_SHARE


def looks_outdoors(stats: ImageStats) -> bool:
    """Blue sky above, or a grey one over land: the colours of a landscape, not of a wall or a table.

    Warm colours alone prove nothing (coffee, skin and wood are warm too), nor does a bright grey top.
    """
    if stats.backdrop >= BACKDROP:
        return False
    if stats.sky_blue >= SKY_SHARE:
        return True
    return stats.sky_grey >= SKY_SHARE and land_of(stats) is not None


# --------------------------------------------------------------------------------------------------------
# Words: the landscape vocabulary and the groups of ImageNet classes.


@dataclass(frozen=True)
class Wording:
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]


@dataclass(frozen=True)
class Scene(Wording):
    where: str  # places a named subject in the scene: "by the water"
    beyond: str  # mentions the scene behind another one: "with mountains in the distance"


@dataclass(frozen=True)
class Group:
    """ImageNet classes an ordinary person calls by one name: 118 dog breeds are "a dog"."""

    key: str
    name: str  # reads right after "a"/"an": "dog", "cup of coffee"
    kind: str  # one of KINDS or OTHER_KINDS
    setting: Setting | None
    classes: tuple[int, ...]
    threshold: float | None = None  # a stricter bar for a group that known photos fool (sun flare → fountain)
    subject_name: str | None = None  # how to say it as the photo's subject: "performance on a stage"
    needs_people: bool = False  # named only when people are seen too (a stage)


# The kind of a thing, when that is all the models agree on ("an animal" for a rabbit called a dog).
KIND_GROUPS = {
    kind: Group(
        key=f"kind_{kind}", name=words.removeprefix("a ").removeprefix("an "), kind=kind, setting=None, classes=()
    )
    for kind, words in KIND_WORDS.items()
}


@dataclass(frozen=True)
class Vocabulary:
    labels: tuple[str, ...]  # the 1000 ImageNet-1k class names, by index
    scenes: dict[str, Scene]
    scene_of: dict[int, str]  # class index → the landscape scene it is evidence for
    label_wording: dict[int, Wording]  # classes that decide their scene's wording
    groups: dict[str, Group]
    families: dict[str, Group]  # wider names over several groups ("bird"), named when no one group is sure
    light: dict[str, tuple[str, ...]]
    objects: dict[str, ObjectWord]  # the object detector's COCO labels, in these words

    @classmethod
    def load(cls, directory: Path = DATA_DIR) -> Vocabulary:
        labels = tuple((directory / "imagenet_classes.txt").read_text(encoding="utf-8").splitlines())
        with (directory / "caption_vocabulary.toml").open("rb") as fh:
            raw = tomllib.load(fh)
        with (directory / "imagenet_groups.toml").open("rb") as fh:
            raw_grouping = tomllib.load(fh)
        with (directory / "coco_words.toml").open("rb") as fh:
            raw_objects = tomllib.load(fh)["labels"]
        raw_groups = raw_grouping["groups"]
        index = {label: i for i, label in enumerate(labels)}
        unknown = set(raw["labels"]) - set(labels)
        unknown |= {entry["scene"] for entry in raw["labels"].values()} - set(raw["scenes"])
        unknown |= set(LIGHTS) - set(raw["light"])
        groups = {key: _group(key, entry, index) for key, entry in raw_groups.items()}
        unknown |= {g.kind for g in groups.values()} - {*KINDS, *OTHER_KINDS}
        families = {key: _family(key, entry, groups) for key, entry in raw_grouping.get("families", {}).items()}
        unknown |= set(families) & set(groups)  # one key, one meaning
        unknown |= set(raw_objects) ^ set(COCO_LABELS)
        objects = {label: _object_word(label, entry, {**groups, **families}) for label, entry in raw_objects.items()}
        grouped = sorted(i for g in groups.values() for i in g.classes)
        if len(labels) != 1000 or unknown or grouped != list(range(1000)):
            missing = sorted({labels[i] for i in set(range(1000)) - set(grouped)})
            raise ValueError(f"caption vocabulary does not match ImageNet-1k: {sorted(unknown) + missing}")
        scenes = {
            name: Scene(tuple(s["nouns"]), tuple(s["adjectives"]), s["where"], s["beyond"])
            for name, s in raw["scenes"].items()
        }
        return cls(
            labels=labels,
            scenes=scenes,
            scene_of={index[label]: entry["scene"] for label, entry in raw["labels"].items()},
            label_wording={
                index[label]: Wording(tuple(entry["nouns"]), tuple(entry.get("adjectives", ())))
                for label, entry in raw["labels"].items()
                if "nouns" in entry
            },
            groups=groups,
            families=families,
            light={key: tuple(phrases) for key, phrases in raw["light"].items()},
            objects=objects,
        )

    def group_probabilities(self, probs: np.ndarray) -> dict[str, float]:
        """Summed probability of every group and family, by key."""
        everything = {**self.groups, **self.families}
        return {key: float(probs[list(group.classes)].sum()) for key, group in everything.items()}


def _group(key: str, entry: dict[str, Any], index: dict[str, int]) -> Group:
    """One [groups.KEY] table; a label written `name#123` is class 123 (for names ImageNet repeats)."""

    def class_of(label: str) -> int:
        name, _, number = label.partition("#")
        if number:
            return int(number)
        if name not in index:
            raise ValueError(f"caption vocabulary does not match ImageNet-1k: {name!r}")
        return index[name]

    setting = entry.get("setting", "any")
    return Group(
        key=key,
        name=str(entry["name"]),
        kind=str(entry["kind"]),
        setting=setting if setting in ("indoors", "outdoors") else None,
        classes=tuple(class_of(label) for label in entry["labels"]),
        threshold=float(entry["threshold"]) if "threshold" in entry else None,
        subject_name=str(entry["subject_name"]) if "subject_name" in entry else None,
        needs_people=bool(entry.get("needs_people", False)),
    )


def _family(key: str, entry: dict[str, Any], groups: dict[str, Group]) -> Group:
    """One [families.KEY] table: a wider name over several groups ("bird" over swan, goose, pelican...)."""
    members = [groups[name] for name in entry["groups"]]
    return Group(
        key=key,
        name=str(entry["name"]),
        kind=str(entry["kind"]),
        setting=None,
        classes=tuple(c for group in members for c in group.classes),
    )


@dataclass(frozen=True)
class ObjectWord:
    """A COCO label in the caption's words (`data/coco_words.toml`)."""

    group: Group  # the word: an ImageNet group's, or the label's own (with no classes)
    agrees: frozenset[str]  # keys of the groups that name the same thing (the label's own included)
    subject: bool  # may be a photo's subject (furniture and tableware are in too many photos to be)


def _object_word(label: str, entry: dict[str, Any], groups: dict[str, Group]) -> ObjectWord:
    if "group" in entry:
        if entry["group"] not in groups:
            raise ValueError(f"coco_words.toml: {label!r} names an unknown group {entry['group']!r}")
        group = groups[entry["group"]]
    else:
        group = Group(key=f"coco_{label}", name=str(entry["name"]), kind=str(entry["kind"]), setting=None, classes=())
    unknown = set(entry.get("agrees", ())) - set(groups)
    if unknown or group.kind not in (*KINDS, *OTHER_KINDS):
        raise ValueError(f"coco_words.toml: {label!r} has unknown groups or kind: {sorted(unknown)} {group.kind}")
    agrees = frozenset({group.key, *entry.get("agrees", ())})
    return ObjectWord(group, agrees, subject=not entry.get("skip", False) and group.kind != "person")


@cache
def default_vocabulary() -> Vocabulary:
    return Vocabulary.load()


def with_article(phrase: str) -> str:
    if phrase.startswith("some "):
        return phrase
    return f"{'an' if phrase[0].lower() in 'aeiou' else 'a'} {phrase}"


# --------------------------------------------------------------------------------------------------------
# Faces → people.


@dataclass(frozen=True)
class Face:
    """A detected face: its box as fractions of the image's width and height, and the detector's confidence."""

    left: float
    top: float
    right: float
    bottom: float
    probability: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


# A face smaller than this (fraction of the image height) is a face in a crowd, not someone the photo is of;
# faces much smaller than the largest one are bystanders.
MIN_FACE = 0.035
BYSTANDER_RATIO = 0.35
CROWD = 8  # this many faces or more: "a crowd"
PORTRAIT_FACE = 0.22  # one face this tall (fraction of the image height): a portrait


def count_people(faces: Sequence[Face]) -> tuple[int, int]:
    """(people the photo is of, all faces seen); the first is 0, 1, 2 or 3 (three or more)."""
    seen = [f.height for f in faces if f.height >= MIN_FACE]
    return main_people(seen), len(seen)


def main_people(heights: Sequence[float]) -> int:
    """How many of these people (face or body heights) the photo is of: 0 to 3, those much smaller than the
    largest being bystanders."""
    largest = max(heights, default=0.0)
    return min(sum(h >= BYSTANDER_RATIO * largest for h in heights), 3)


# The object detector's scores run lower than a classifier's probabilities (they also say how well the box
# fits): a detection counts from OBJECT_THRESHOLD, a person from PERSON_THRESHOLD, and an object is the
# photo's subject from SUBJECT_OBJECT_THRESHOLD when its box covers MIN_OBJECT_AREA of the photo.
OBJECT_THRESHOLD = 0.4
PERSON_THRESHOLD = 0.6
MAX_BODY_AREA = 0.7  # a person box this big without a face is a pattern, a sofa or a staircase
MIN_PERSON = 0.25  # the tallest person box, as a fraction of the photo's height: smaller, they are passers-by
SUBJECT_OBJECT_THRESHOLD = 0.5
MIN_OBJECT_AREA = 0.02
GUESS_OBJECT_THRESHOLD = 0.55  # nothing else is named: any object this likely is a guess
SURE_OBJECT_THRESHOLD = 0.7  # the detector alone names a thing; below, only its kind, and not under open sky
BIG_OBJECT_AREA = 0.25  # an object this big (any score counted) makes the photo a photo of it, not a landscape
# When the two models disagree: the classifier keeps its thing when this sure, else the detector wins when
# this sure, else neither is named.
SURE_THING_THRESHOLD = 0.6
OBJECT_OVER_CLASSIFIER_THRESHOLD = 0.6


def count_bodies(objects: Sequence[Detection], faces: bool) -> tuple[int, int]:
    """(people the photo is of, all people seen) from the detector's person boxes, as `count_people` does from
    faces: people seen from behind or too small for the face detector still count. With no face in the
    photo, a box that fills it is not believed."""
    people = [
        d for d in objects if d.label == "person" and d.score >= PERSON_THRESHOLD and (faces or d.area <= MAX_BODY_AREA)
    ]
    heights = [d.box[3] - d.box[1] for d in people]
    return (main_people(heights) if max(heights, default=0.0) >= MIN_PERSON else 0), len(people)


def people_phrase(people: int, faces_seen: int, largest_face: float) -> str:
    if faces_seen >= CROWD:
        return "a crowd of people"
    if people == 1:
        return "a portrait of a person" if largest_face >= PORTRAIT_FACE else "a person"
    return {2: "two people"}.get(people, "a group of people")


# --------------------------------------------------------------------------------------------------------
# The sentence.


@dataclass(frozen=True)
class Evidence:
    """What the caption is built from: everything the models and the colours said about one photo."""

    probs: np.ndarray  # ImageNet-1k class probabilities (1000, summing to 1)
    stats: ImageStats
    faces: tuple[Face, ...] = ()
    objects: tuple[Detection, ...] = ()  # the object detector's, best first


def facts_from_evidence(evidence: Evidence, vocab: Vocabulary) -> PhotoFacts:
    """The caption and its facts, by the rules in this module's docstring."""
    return _EvidenceReader(evidence, vocab).facts()


class _EvidenceReader:
    def __init__(self, evidence: Evidence, vocab: Vocabulary) -> None:
        self.vocab, self.stats = vocab, evidence.stats
        self.rng = random.Random(evidence.stats.seed)
        self.probs = evidence.probs
        self.group_probs = vocab.group_probabilities(evidence.probs)
        self.scene_probs: dict[str, float] = {}
        for cls, scene in vocab.scene_of.items():
            self.scene_probs[scene] = self.scene_probs.get(scene, 0.0) + float(evidence.probs[cls])
        self.ranked_scenes = sorted(self.scene_probs, key=self.scene_probs.__getitem__, reverse=True)
        self.faces = evidence.faces
        self.objects = [d for d in evidence.objects if d.score >= OBJECT_THRESHOLD]
        people, faces_seen = count_people(evidence.faces)
        bodies, bodies_seen = count_bodies(self.objects, faces=people > 0)
        self.people, self.faces_seen = max(people, bodies), max(faces_seen, bodies_seen)
        self.anyone = faces_seen > 0 or any(d.label == "person" for d in self.objects)  # even a passer-by

    # --- what is there

    def best(self, kinds: Iterable[str], threshold: float) -> Group | None:
        """The likeliest group of these kinds, if it passes `threshold` (and its own stricter one)."""
        wanted = set(kinds)
        candidates = [g for g in self.vocab.groups.values() if g.kind in wanted and (self.anyone or not g.needs_people)]
        if not candidates or self.group_probs[max(candidates, key=lambda g: self.group_probs[g.key]).key] < threshold:
            candidates += [f for f in self.vocab.families.values() if f.kind in wanted]
        top = max(candidates, key=lambda g: self.group_probs[g.key], default=None)
        if top is None or self.group_probs[top.key] < max(threshold, top.threshold or 0.0):
            return None
        return top

    def kind_probability(self, kind: str) -> float:
        return sum(
            p for key, p in self.group_probs.items() if key in self.vocab.groups and self.vocab.groups[key].kind == kind
        )

    def scene(self) -> str | None:
        top = self.ranked_scenes[0] if self.ranked_scenes else None
        return top if top is not None and self.scene_probs[top] >= SCENE_THRESHOLD else None

    def outdoor_scene(self) -> str | None:
        """A landscape scene: the classifier's, or the colours' when the photo also shows sky or land cover and
        no big object (a cake on a white plate is not a snowfield)."""
        scene = self.scene()
        if scene:
            return scene
        land = land_of(self.stats)
        indoors = self.best(["room"], PLACE_THRESHOLD) is not None
        big_object = any(d.area >= BIG_OBJECT_AREA for d in self.objects)
        if not indoors and not big_object and land and (has_sky(self.stats) or land in ("forest", "meadow")):
            return land
        return None

    def light(self, outdoors: bool, city: bool = False) -> str | None:
        """The light of a photo of something: only a bright blue sky over a photo taken outdoors is sure enough
        to be said, a sunset when a dark photo glows at the top, and the night when a street or a building is
        that dark. Warm colours are as often wood, skin or food as a sunset, a dark photo as often a room or a
        shadow as the night, and a grey top a wall (measured: `make caption-eval`, false light claims)."""
        if not outdoors or self.stats.backdrop >= BACKDROP:
            return None
        light = light_of(self.stats)
        if light in ("sunset", "dusk"):  # a warm or violet top (light_of) over a dark photo
            return light if self.stats.brightness < GLOWING_BELOW else None
        return light if light == "clear" or (city and light == "night") else None

    # --- the sentence

    def facts(self) -> PhotoFacts:
        if self.people:
            return self.people_facts()
        # Under open sky a landscape is likely, and the classifier's false friends (a plane in the clouds,
        # a fountain in a sun flare) with it: a thing must be surer there.
        open_sky = looks_outdoors(self.stats) and not self.best(["room"], PLACE_THRESHOLD)
        thing = self.with_objects(self.best(KINDS, SKY_THING_THRESHOLD if open_sky else THING_THRESHOLD))
        scene = self.scene()
        person = self.best(["person"], THING_THRESHOLD)
        if person and not thing:
            return self.thing_facts(person)
        if thing and not (scene and self.scene_beats(scene, thing)):
            return self.thing_facts(thing)
        if sure_kind := self.sure_kind(open_sky):
            return sure_kind
        landscape = self.outdoor_scene()
        if landscape:
            return self.landscape_facts(landscape)
        if open_sky:
            return self.landscape_facts("landscape")
        return self.fallback_facts()

    def likeliest_object(self, min_score: float, *, subjects_only: bool) -> Detection | None:
        """The detected object (never a person) the photo is most likely of, by score and size: at least
        `min_score`, not tiny, and with `subjects_only` a thing a photo can be of (not furniture or tableware)."""
        candidates = [
            d
            for d in self.objects
            if d.label != "person"
            and d.score >= min_score
            and d.area >= MIN_OBJECT_AREA
            and (self.vocab.objects[d.label].subject or not subjects_only)
        ]
        return max(candidates, key=lambda d: d.score * d.area**0.5, default=None)

    def with_objects(self, thing: Group | None) -> Group | None:
        """The classifier's thing, checked against the detector's main object.

        They agree: the classifier's finer word. Only the detector saw something: its word if it is sure,
        else only the thing's kind ("some food"), or nothing under open sky, where clouds look like planes.
        They disagree: the classifier keeps its thing when it is sure; else two animals become "an animal"
        (neither is sure of the species); else the detector wins when it is sure, and nothing is named when
        it is not.
        """
        found = self.likeliest_object(SUBJECT_OBJECT_THRESHOLD, subjects_only=True)
        if found is None:
            return thing
        word = self.vocab.objects[found.label]
        if thing is not None and thing.key in word.agrees:
            return thing
        if thing is None:
            if found.score >= SURE_OBJECT_THRESHOLD:
                return word.group
            return KIND_GROUPS.get(word.group.kind) if not has_sky(self.stats) else None
        if self.group_probs[thing.key] >= SURE_THING_THRESHOLD:
            return thing
        if thing.kind == word.group.kind == "animal":
            return KIND_GROUPS["animal"]
        return word.group if found.score >= OBJECT_OVER_CLASSIFIER_THRESHOLD else None

    def object_guess(self) -> Group | None:
        """The detector's likeliest object of any label but a person's, as a guess ("what looks like a cup")."""
        best = self.likeliest_object(GUESS_OBJECT_THRESHOLD, subjects_only=False)
        return self.vocab.objects[best.label].group if best else None

    def confirmed(self, thing: Group) -> bool:
        """The detector found this thing (or what it is a finer word for)."""
        return any(
            thing.key in self.vocab.objects[d.label].agrees for d in self.objects if d.score >= SUBJECT_OBJECT_THRESHOLD
        )

    def scene_beats(self, scene: str, thing: Group) -> bool:
        """The landscape is likelier than the thing (a label that is evidence for both counts for the thing);
        a thing the detector found too is never beaten."""
        if thing.key not in self.group_probs or self.confirmed(thing):
            return False
        shared = sum(float(self.probs[c]) for c in thing.classes if self.vocab.scene_of.get(c) == scene)
        return self.scene_probs[scene] - shared > self.group_probs[thing.key]

    def sure_kind(self, open_sky: bool) -> PhotoFacts | None:
        """No one thing is sure, but its kind is: "an animal" (dog 0.3, rabbit 0.15, ...), "a building"."""
        kinds = SKY_KINDS if open_sky else ("animal",)
        kind = max(kinds, key=self.kind_probability)
        if self.kind_probability(kind) < SURE_KIND_THRESHOLD:
            return None
        setting = self.setting_of(None)
        light = self.light(setting == "outdoors")
        if kind == "building":
            top = self.best(["building"], 0.0)
            assert top is not None
            return self.sentence(with_article(top.name), with_article(top.name), "outdoors", light)
        scene = self.outdoor_scene() if setting == "outdoors" else None
        place = f" {self.vocab.scenes[scene].where}" if scene and scene != "landscape" else ""
        return self.sentence(f"{KIND_WORDS[kind]}{place}", KIND_WORDS[kind], setting, light)

    def people_facts(self) -> PhotoFacts:
        largest = max((f.height for f in self.faces), default=0.0)
        subject = people_phrase(self.people, self.faces_seen, largest)
        person = self.best(["person"], THING_THRESHOLD)
        if person and self.people == 1:
            subject = with_article(person.name)
        companion = self.best([k for k in KINDS if k not in ("building", "street")], COMPANION_THRESHOLD)
        clothing = self.best(["clothing"], COMPANION_THRESHOLD)
        extra = ""
        if companion and companion.kind == "room":
            extra = f" {ROOM_PREPOSITIONS.get(companion.key, 'in')} {with_article(companion.name)}"
        elif companion:
            extra = f" {COMPANION_WORDS.get(companion.kind, 'with')} {with_article(companion.name)}"
        elif clothing and self.people == 1:
            extra = f" in {with_article(clothing.name)}"
        setting = self.setting_of(companion)
        place = ""
        scene = self.scene()
        if setting == "outdoors" and scene and not extra:
            place = f" {self.vocab.scenes[scene].where}"
        elif setting and not (companion and companion.kind == "room"):
            place = f" {setting}"
        light = self.light(setting == "outdoors")
        return self.sentence(f"{subject}{extra}{place}", subject, setting, light)

    def setting_of(self, thing: Group | None, *, from_colours: bool = True) -> Setting | None:
        """Indoors or outdoors, when something in the photo says so; None when nothing does."""
        if thing is not None and thing.kind == "room":
            return "indoors"
        if self.best(["room"], PLACE_THRESHOLD):
            return "indoors"
        if thing is not None and thing.setting:
            return thing.setting
        if self.scene() or self.best(["building", "street"], PLACE_THRESHOLD):
            return "outdoors"
        if from_colours and looks_outdoors(self.stats):
            return "outdoors"
        return None

    def thing_facts(self, thing: Group) -> PhotoFacts:
        subject = with_article(thing.subject_name or thing.name)
        # A close-up's colours say nothing of the sky: a white backdrop is not snow under a grey sky.
        setting = self.setting_of(thing, from_colours=thing.kind not in (*CLOSE_UP_KINDS, "vehicle"))
        if thing.kind in OUTDOOR_KINDS and setting is None and self.stats.sky_blue >= SKY_SHARE:
            setting = "outdoors"
        place = ""
        scene = self.scene()
        street = self.best(["street"], PLACE_THRESHOLD)
        room = self.best(["room"], PLACE_THRESHOLD)
        if thing.kind == "street" and light_of(self.stats) == "night":
            subject = "a city street"
        elif thing.kind not in ("room", "street", "building") and room and room.key != thing.key:
            place = f" in {with_article(room.name)}"
        elif thing.kind == "vehicle" and street:
            place = " on a street"
        elif setting == "outdoors" and scene and thing.kind in ("animal", "vehicle", "plant", "sport"):
            place = f" {self.vocab.scenes[scene].where}"
        elif thing.kind in CLOSE_UP_KINDS and not room:
            place = " seen up close"  # "um close-up de" is not Portuguese; "visto de perto" is
        light = self.light(setting == "outdoors", city=thing.kind in ("street", "building"))
        return self.sentence(f"{subject}{place}", with_article(thing.subject_name or thing.name), setting, light)

    def landscape_facts(self, scene_name: str) -> PhotoFacts:
        vocab, rng = self.vocab, self.rng
        scene = vocab.scenes[scene_name]
        confident = self.scene() == scene_name
        wording: Wording = scene
        worded = [cls for cls in vocab.label_wording if vocab.scene_of[cls] == scene_name]
        if worded and confident:
            wording = vocab.label_wording[max(worded, key=lambda cls: self.probs[cls])]
        adjective = _adjective_from_colours(scene_name, self.stats) or rng.choice(
            wording.adjectives or scene.adjectives
        )
        noun = rng.choice(wording.nouns)
        subject = with_article(noun if adjective in noun.split() else f"{adjective} {noun}")
        background = None
        if confident:
            background = next(
                (s for s in self.ranked_scenes if s != scene_name and self.scene_probs[s] >= BACKGROUND_THRESHOLD),
                None,
            )
            if background is None and scene_name == "mountain" and land_of(self.stats) == "meadow":
                background = "meadow"
        extra = f" {vocab.scenes[background].beyond}" if background else ""
        light = light_of(self.stats)
        template = rng.choice(
            ("{subject}{light}{extra}", "{subject}{extra}{light}", "a view of {subject}{light}{extra}")
        )
        text = template.format(subject=subject, light=f" {self.light_phrase(light)}", extra=extra)
        return PhotoFacts(_tidy(text), with_article(rng.choice(wording.nouns)), 0, "outdoors", light or "plain")

    def fallback_facts(self) -> PhotoFacts:
        """Nothing sure: a careful guess, or only what can be told (a sunset, indoors, a close-up)."""
        guess = self.best([*KINDS, "person"], GUESS_THRESHOLD)
        if (
            guess
            and guess.kind in GUESS_KINDS
            and self.kind_probability(guess.kind) >= 1.5 * self.group_probs[guess.key]
        ):
            guess = None  # its kind is far surer than it: "some food" rather than "a bowl of soup"
        guess = guess or self.object_guess()
        room = self.best(["room"], GUESS_THRESHOLD)
        setting: Setting | None = "indoors" if room else None
        if guess:
            subject = with_article(guess.subject_name or guess.name)
            return PhotoFacts(f"{GUESS}{subject}", subject, 0, guess.setting or setting, None)
        light = light_of(self.stats)
        # A sunset photo is dark below a glowing sky; a bright, warm close-up (fruit, skin) is not.
        glowing = max(self.stats.sky_warm, self.stats.twilight) >= SKY_SHARE and self.stats.brightness < 0.5
        if not room and ((glowing and light in ("sunset", "dusk")) or light == "fog"):
            return PhotoFacts(f"a view {self.light_phrase(light)}", None, 0, "outdoors", light)
        kind = max(GUESS_KINDS, key=self.kind_probability)
        if self.kind_probability(kind) >= KIND_THRESHOLD:
            return PhotoFacts(f"{GUESS}{KIND_WORDS[kind]}", KIND_WORDS[kind], 0, setting, None)
        if room:
            return PhotoFacts("a photo taken indoors", None, 0, "indoors", None)
        weak_scene = self.ranked_scenes[0] if self.ranked_scenes else None
        if weak_scene and self.scene_probs[weak_scene] >= WEAK_SCENE_THRESHOLD and self.stats.backdrop < BACKDROP:
            # Nothing else in sight, and this landscape is the likeliest: said as the guess it is.
            view = self.landscape_facts(weak_scene)
            text = f"{GUESS}{view.caption.removeprefix('a view of ')}"
            return PhotoFacts(text, view.subject, 0, view.setting, view.light)
        # Neither "up close" nor "a landscape": nothing here says which, and a wrong guess is worse than none.
        return PhotoFacts("a photo where nothing stands out", None, 0, None, None)

    def light_phrase(self, light: str | None) -> str:
        return self.rng.choice(self.vocab.light[light or "plain"])

    def sentence(self, text: str, subject: str, setting: Setting | None, light: str | None) -> PhotoFacts:
        if light:
            text = f"{text} {self.light_phrase(light)}"
        return PhotoFacts(_tidy(text), subject, self.people, setting, light)


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _adjective_from_colours(scene: str, stats: ImageStats) -> str | None:
    """An adjective the statistics support better than a generic one (snow, greenery)."""
    if scene in ("mountain", "snow") and stats.middle_white >= 0.08:
        return "snowy"
    if scene in ("meadow", "field") and stats.lower_green >= 0.4:
        return "green"
    return None
