"""The caption's phrasing rules, without any model: probabilities, faces and colours in, PhotoFacts out."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pipeline.caption.evidence import (
    Evidence,
    Face,
    ImageStats,
    Vocabulary,
    count_people,
    default_vocabulary,
    facts_from_evidence,
    image_stats,
    light_of,
)
from pipeline.caption.objects import COCO_LABELS, Detection
from pipeline.facts import PhotoFacts

VOCAB = default_vocabulary()
SKY_WORDS = r"\b(sky|sunset|dusk|night|landscape|countryside|mountains?|forest|meadow|outdoors)\b"


def flat_stats(seed: int = 1, **overrides: Any) -> ImageStats:
    neutral = ImageStats(
        brightness=0.5,
        saturation=0.3,
        greenery=0.0,
        lower_green=0.0,
        lower_gold=0.0,
        lower_white=0.0,
        middle_white=0.0,
        sky_blue=0.0,
        sky_grey=0.0,
        sky_warm=0.0,
        twilight=0.0,
        sky_unevenness=0.1,
        seed=seed,
    )
    return dataclasses.replace(neutral, **overrides)


def probs_with(**labels: float) -> np.ndarray:
    """A probability vector with the given labels (underscores for spaces); the rest, like a real
    classifier's, is mostly on one class that is never named, and a little spread over all others."""
    probs = np.zeros(1000, dtype=np.float32)
    for label, p in labels.items():
        probs[VOCAB.labels.index(label.replace("_", " "))] = p
    rest = 1.0 - probs.sum()
    probs[probs == 0] = 0.1 * rest / np.count_nonzero(probs == 0)
    probs[VOCAB.labels.index("web site")] += 0.9 * rest
    return probs


def face(height: float, left: float = 0.4) -> Face:
    return Face(left=left, top=0.2, right=left + height * 0.8, bottom=0.2 + height, probability=0.999)


def caption(probs: np.ndarray, stats: ImageStats | None = None, faces: tuple[Face, ...] = ()) -> PhotoFacts:
    return facts_from_evidence(Evidence(probs, stats or flat_stats(), faces), VOCAB)


# --- landscapes, as before -------------------------------------------------------------------------------


def test_confident_scene_is_named() -> None:
    facts = caption(probs_with(alp=0.8), flat_stats(sky_blue=0.7, middle_white=0.2))
    assert re.search(r"\bsnowy (mountain|volcano)", facts.caption) and "blue sky" in facts.caption, facts
    assert facts.setting == "outdoors" and facts.light == "clear" and facts.people == 0


def test_second_scene_in_the_background() -> None:
    assert "with mountains in the distance" in caption(probs_with(lakeside=0.5, alp=0.2)).caption


def test_wording_varies_with_the_picture_but_not_for_one_picture() -> None:
    probs = probs_with(lakeside=0.6)
    captions = {caption(probs, flat_stats(seed, sky_grey=0.6)).caption for seed in range(12)}
    assert len(captions) >= 4
    for text in captions:
        assert re.search(r"\b(lake|lakeshore)\b", text) and re.search(r"cloud|grey", text), text
    assert caption(probs, flat_stats(5)) == caption(probs, flat_stats(5))


def test_forest_is_read_from_the_colours_when_the_classifier_is_unsure() -> None:
    facts = caption(probs_with(picket_fence=0.15), flat_stats(greenery=0.7, lower_green=0.6))
    assert re.search(r"\b(forest|woodland|trees)\b", facts.caption), facts


# --- everyday things ---------------------------------------------------------------------------------------


def test_breeds_add_up_to_a_plain_dog() -> None:
    facts = caption(probs_with(beagle=0.12, basset=0.12, Walker_hound=0.12, English_foxhound=0.12))
    assert facts.subject == "a dog" and re.search(r"\ba dog\b", facts.caption), facts
    assert not re.search(r"beagle|basset|foxhound|hound", facts.caption), facts


@pytest.mark.parametrize(
    ("label", "subject"),
    [("espresso", "a cup of coffee"), ("tabby", "a cat"), ("moped", "a motorbike"), ("soccer_ball", "a football")],
)
def test_everyday_classes_in_plain_words(label: str, subject: str) -> None:
    facts = caption(probs_with(**{label: 0.7}))
    assert facts.subject == subject and subject in facts.caption, facts


def test_a_close_up_gets_no_sky_even_when_its_top_is_warm() -> None:
    # The espresso in the reserved set was once "a wide landscape under a golden evening sky".
    facts = caption(probs_with(espresso=0.6), flat_stats(sky_warm=0.6, brightness=0.5))
    assert "cup of coffee" in facts.caption and not re.search(SKY_WORDS, facts.caption), facts
    assert facts.light is None


def test_things_outdoors_keep_their_light_and_place() -> None:
    facts = caption(probs_with(moped=0.6, traffic_light=0.3), flat_stats(sky_blue=0.6))
    assert facts.caption.startswith("a motorbike on a street") and "blue sky" in facts.caption, facts
    assert facts.setting == "outdoors"


def test_a_room_is_indoors_and_has_no_weather() -> None:
    facts = caption(probs_with(refrigerator=0.3, stove=0.3), flat_stats(sky_blue=0.7))
    assert facts.subject == "a kitchen" and facts.setting == "indoors", facts
    assert not re.search(SKY_WORDS, facts.caption), facts


def test_a_street_at_night() -> None:
    facts = caption(probs_with(traffic_light=0.5), flat_stats(brightness=0.1))
    assert re.search(r"\bstreet\b", facts.caption) and re.search(r"\bnight\b", facts.caption), facts
    assert facts.light == "night" and facts.setting == "outdoors"


# --- people -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("faces", "subject", "people"),
    [
        ((face(0.5),), "a portrait of a person", 1),
        ((face(0.15),), "a person", 1),
        ((face(0.15, 0.1), face(0.14, 0.6)), "two people", 2),
        (tuple(face(0.1, x / 10) for x in range(4)), "a group of people", 3),
        (tuple(face(0.05, x / 12) for x in range(9)), "a crowd of people", 3),
    ],
)
def test_people_are_counted_from_faces(faces: tuple[Face, ...], subject: str, people: int) -> None:
    facts = caption(probs_with(jersey=0.2), faces=faces)
    assert facts.subject == subject and facts.caption.startswith(subject) and facts.people == people, facts


def test_bystanders_and_specks_do_not_count() -> None:
    assert count_people([face(0.4), face(0.08)]) == (1, 2)  # a face far behind the one the photo is of
    assert count_people([face(0.02)]) == (0, 0)  # too small to tell
    assert count_people([]) == (0, 0)


def test_a_person_with_a_thing() -> None:
    facts = caption(probs_with(golden_retriever=0.5), faces=(face(0.2),))
    assert facts.caption.startswith("a person with a dog"), facts
    assert facts.subject == "a person" and facts.people == 1


def test_a_person_indoors_has_no_sky() -> None:
    facts = caption(probs_with(dining_table=0.2, refrigerator=0.3), flat_stats(sky_blue=0.7), (face(0.3),))
    assert facts.setting == "indoors" and not re.search(SKY_WORDS, facts.caption), facts


def test_people_classes_name_a_person_without_faces() -> None:
    facts = caption(probs_with(ballplayer=0.6))
    assert facts.subject == "a baseball player", facts


# --- honesty when unsure --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "probs",
    [
        probs_with(golden_retriever=0.08),  # an animal, far from sure
        probs_with(jigsaw_puzzle=0.95),  # sure, but not a thing we ever name
    ],
)
def test_unsure_photos_are_not_called_landscapes(probs: np.ndarray) -> None:
    for seed in range(10):
        facts = caption(probs, flat_stats(seed))
        assert not re.search(SKY_WORDS + r"|retriever|dog|puzzle", facts.caption), facts
        assert facts.subject is None


def test_a_weak_landscape_with_nothing_else_is_a_hedged_guess() -> None:
    facts = caption(probs_with(alp=0.15), flat_stats(sky_grey=0.3))
    assert facts.caption.startswith("a photo of what looks like a") and "mountain" in facts.caption, facts
    assert caption(probs_with(alp=0.05)).caption == "a photo where nothing stands out"  # too weak to guess


def test_a_half_sure_thing_is_a_guess() -> None:
    facts = caption(probs_with(tabby=0.3))
    assert facts.caption == "a photo of what looks like a cat" and facts.subject == "a cat", facts


def test_a_glowing_sky_with_nothing_else_is_a_view_at_sunset() -> None:
    facts = caption(probs_with(), flat_stats(sky_warm=0.7, brightness=0.4))
    assert re.search(r"sunset|evening", facts.caption) and facts.setting == "outdoors", facts


# --- colours ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("colours", "light"),
    [
        ({"top": (250, 120, 30), "bottom": (60, 40, 30)}, "sunset"),  # orange sky
        ({"top": (90, 140, 230), "bottom": (70, 150, 60)}, "clear"),  # blue sky over grass
        ({"top": (200, 200, 205), "bottom": (90, 70, 40)}, "overcast"),
        ({"top": (150, 110, 200), "bottom": (120, 80, 150)}, "dusk"),  # violet twilight
        ({"top": (15, 15, 25), "bottom": (10, 10, 10)}, "night"),
        ({"top": (20, 60, 20), "bottom": (15, 50, 15)}, None),  # a dark forest is not night
        ({"top": (170, 170, 170), "bottom": (170, 170, 170)}, "fog"),
    ],
)
def test_light_from_colours(colours: dict[str, tuple[int, int, int]], light: str | None) -> None:
    image = Image.new("RGB", (120, 90), colours["bottom"])
    image.paste(Image.new("RGB", (120, 45), colours["top"]))
    assert light_of(image_stats(image)) == light


# --- the word lists are checked when they load --------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "addition", "culprit"),
    [
        ("caption_vocabulary.toml", '[labels.unicorn]\nscene = "meadow"', "unicorn"),  # not an ImageNet label
        ("caption_vocabulary.toml", '[labels.bubble]\nscene = "moon"', "moon"),  # a scene that does not exist
        ("imagenet_groups.toml", '[groups.x]\nname = "x"\nkind = "animal"\nlabels = ["tabby"]', "vocabulary"),
        ("imagenet_groups.toml", '[groups.y]\nname = "y"\nkind = "gadget"\nlabels = []', "gadget"),
    ],
)
def test_vocabulary_is_checked_when_it_loads(tmp_path: Path, file: str, addition: str, culprit: str) -> None:
    source = Path(__file__).parents[2] / "pipeline" / "data"
    for name in ("imagenet_classes.txt", "caption_vocabulary.toml", "imagenet_groups.toml", "coco_words.toml"):
        shutil.copy(source / name, tmp_path / name)
    target = tmp_path / file
    target.write_text(target.read_text() + f"\n{addition}\n")
    with pytest.raises(ValueError, match=culprit):
        Vocabulary.load(tmp_path)


def test_every_class_is_in_exactly_one_group() -> None:
    classes = sorted(i for group in VOCAB.groups.values() for i in group.classes)
    assert classes == list(range(1000))


# --- the object detector's evidence (NanoDet, COCO labels) ------------------------------------------------


def seen(label: str, score: float, box: tuple[float, float, float, float] = (0.2, 0.2, 0.8, 0.8)) -> Detection:
    return Detection(label, score, box)


def with_objects(probs: np.ndarray, *objects: Detection, stats: ImageStats | None = None) -> PhotoFacts:
    return facts_from_evidence(Evidence(probs, stats or flat_stats(), (), tuple(objects)), VOCAB)


def test_every_coco_label_has_words() -> None:
    assert set(VOCAB.objects) == set(COCO_LABELS)
    assert VOCAB.objects["motorcycle"].group.name == "motorbike" and "scooter" in VOCAB.objects["motorcycle"].agrees


def test_when_the_models_agree_the_classifier_keeps_its_finer_word() -> None:
    facts = with_objects(probs_with(golden_retriever=0.45, stage=0.3), seen("dog", 0.6))
    assert facts.subject == "a dog", facts  # not "an animal": they agree


def test_the_detector_alone_names_a_thing_only_when_sure_else_its_kind() -> None:
    assert with_objects(probs_with(), seen("horse", 0.75)).subject == "a horse"
    assert with_objects(probs_with(), seen("horse", 0.55)).subject == "an animal"


def test_two_animals_that_disagree_become_an_animal_unless_the_classifier_is_sure() -> None:
    assert with_objects(probs_with(tabby=0.45), seen("dog", 0.64)).subject == "an animal"
    assert with_objects(probs_with(tabby=0.7), seen("dog", 0.64)).subject == "a cat"


def test_people_are_counted_from_bodies_when_faces_are_missing() -> None:
    backs = [seen("person", 0.8, (0.1 + 0.3 * i, 0.2, 0.3 + 0.3 * i, 0.9)) for i in range(2)]
    assert with_objects(probs_with(), *backs).people == 2
    passer_by = seen("person", 0.8, (0.1, 0.1, 0.15, 0.2))  # too small to be whom the photo is of
    assert with_objects(probs_with(), passer_by).people == 0
    pattern = seen("person", 0.8, (0.0, 0.0, 1.0, 0.95))  # fills the photo, and no face: not believed
    assert with_objects(probs_with(), pattern).people == 0
    unsure = seen("person", 0.5, (0.1, 0.2, 0.4, 0.9))
    assert with_objects(probs_with(), unsure).people == 0


def test_a_stage_needs_someone_on_it() -> None:
    assert "stage" not in with_objects(probs_with(stage=0.6)).caption
    assert "stage" in with_objects(probs_with(stage=0.6), seen("person", 0.45, (0.4, 0.5, 0.45, 0.6))).caption


def test_a_big_object_is_no_landscape_of_colours() -> None:
    snowy = flat_stats(lower_white=0.6, sky_grey=0.6)
    assert "snow" in with_objects(probs_with(), stats=snowy).caption
    assert "snow" not in with_objects(probs_with(), seen("cake", 0.45, (0.1, 0.3, 0.9, 0.9)), stats=snowy).caption


def test_light_is_said_of_a_thing_only_on_strong_evidence() -> None:
    under_blue = flat_stats(sky_blue=0.7, sky_brightness=0.7, brightness=0.6)
    assert "blue sky" in with_objects(probs_with(sorrel=0.8), stats=under_blue).caption
    warm_but_bright = flat_stats(sky_warm=0.5, sky_blue=0.5, brightness=0.6)
    assert not re.search(r"sunset|dusk|evening", with_objects(probs_with(sorrel=0.8), stats=warm_but_bright).caption)
    dark_blue = flat_stats(sky_blue=0.7, sky_brightness=0.3, brightness=0.3)
    assert "blue sky" not in with_objects(probs_with(sorrel=0.8), stats=dark_blue).caption
