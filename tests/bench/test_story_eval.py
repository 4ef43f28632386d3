"""`make story-eval`'s figures, on hand-written stories (no model, no dictionary: names are read without one)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import story_eval
from bench.story_eval import (
    KINDS,
    LENGTHS,
    Photo,
    Story,
    blind_markdown,
    blind_order,
    capitalised_words,
    check_names,
    distinct_share,
    edit_distance,
    ends_sentence,
    fallback_leak,
    finished,
    kind_kept,
    meta_talk,
    opening,
    place_words,
    proper_names,
    repeated_ngram_share,
    similar_names,
    split_part,
    story_options,
    subject_named,
    summary,
)
from pipeline.facts import PhotoFacts
from pipeline.story.models import StoryModel
from pipeline.story.styles import STYLES


def words(count: int) -> str:
    return " ".join(["word"] * count)


def test_split_part_keeps_each_photos_place_in_the_sorted_set():
    photos = [
        {"file": f"{name}.jpg", "part": part} for name, part in zip("dcba", ["report", "tuning"] * 2, strict=True)
    ]
    assert [(i, p["file"]) for i, p in split_part(photos, "report")] == [(1, "b.jpg"), (3, "d.jpg")]
    assert [(i, p["file"]) for i, p in split_part(photos, "tuning")] == [(0, "a.jpg"), (2, "c.jpg")]
    assert [p["file"] for _, p in split_part(photos, "all")] == ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]
    assert [(i, p["file"]) for i, p in split_part(photos, "report", {"b.jpg", "c.jpg"})] == [(3, "d.jpg")]


def test_kinds_and_lengths_cycle_through_every_pair_unless_fixed():
    pairs = {(story_options(i).kind, story_options(i).length) for i in range(21)}
    assert pairs == {(kind, length) for kind in KINDS for length in LENGTHS}
    fixed = {(story_options(i, "fable", "long").kind, story_options(i, "fable", "long").length) for i in range(5)}
    assert fixed == {("fable", "long")}


def test_finished_needs_a_sentence_end_and_a_count_within_the_limits():
    least, _, most = STYLES["classic"].word_limits("medium")
    assert finished(words(least - 1) + " end.", "classic", "medium")  # least words in all
    assert not finished(words(least) + " end", "classic", "medium")  # no full stop
    assert not finished(words(least - 2) + " end.", "classic", "medium")  # one word short
    assert not finished(words(most) + " end.", "classic", "medium")  # one word too many
    assert ends_sentence('She laughed. "Good night!"') and ends_sentence("And so it was…")
    assert not ends_sentence("And then she")
    poem_least, _, _ = STYLES["poem"].word_limits("short")  # a poem has half the words
    assert finished(words(poem_least - 1) + " end.", "poem", "short")
    assert not finished(words(poem_least - 1) + " end.", "classic", "short")


def test_capitalised_words_know_sentence_starts_quotes_and_possessives():
    found = capitalised_words('Clara smiled. "Look!" said Clara. It was Theo\'s dog: Rex ran.\nNina waved')
    assert found == [
        ("Clara", True),
        ("Look", True),
        ("Clara", False),
        ("It", True),
        ("Theo", False),
        ("Rex", True),
        ("Nina", True),
    ]


def test_proper_names_without_a_dictionary():
    story = "Once, Clara met Mr. Pike and Grandma by the lake on Saturday. The Moon was up. Clara waved at Pike."
    assert proper_names(story) == Counter({"Clara": 2, "Pike": 2, "Moon": 1})


def test_proper_names_with_a_dictionary_drop_english_words_and_find_names_at_sentence_starts():
    story = "Cara ran home. Later, Clara met Sunny. Maya laughed. Rex barked."
    english = {"sunny", "maya", "later"}  # Maya is our hero name: a name even where English has the word
    assert proper_names(story, english) == Counter({"Cara": 1, "Clara": 1, "Maya": 1, "Rex": 1})
    assert proper_names(story) == Counter({"Clara": 1, "Sunny": 1, "Maya": 1})


def test_edit_distance():
    assert edit_distance("clara", "cara") == 1
    assert edit_distance("clara", "lara") == 1
    assert edit_distance("clara", "lena") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("sofia", "sophia") == 2


def test_similar_names():
    assert similar_names("Clara", "Cara") and similar_names("Clara", "Lara")
    assert similar_names("Sofia", "Sophia") and similar_names("Theo", "Theodore") and similar_names("Tomas", "Tom")
    assert not similar_names("Clara", "Clara")
    assert not similar_names("Clara", "Lena")
    assert not similar_names("Bia", "Ben")  # two edits turn any three-letter name into another
    assert not similar_names("Nina", "Ana")


def test_a_hero_whose_name_changes_is_caught_and_one_who_keeps_it_is_not():
    english = "Clara found a kite. Then Clara ran to the hill, where Cara let it fly."
    check = check_names(proper_names(english), "Clara achou uma pipa. Então Clara correu, e Cara a soltou.")
    assert check.hero == "Clara" and check.similar == ("Cara",) and check.changed

    english = "Clara found a kite. Then Clara ran to the hill with Theo, and Clara let it fly."
    check = check_names(proper_names(english), "Clara achou uma pipa. Clara correu com Theo, e Clara a soltou.")
    assert check.hero == "Clara" and check.similar == () and not check.changed


def test_a_hero_lost_in_translation_is_a_change():
    english = "Once, Tomas found a kite, and Tomas flew it."
    assert check_names(proper_names(english), "Uma vez, Tomás achou uma pipa e a soltou.").missing_in_portuguese
    assert check_names(proper_names(english), "Uma vez, Tomas achou uma pipa.").changed is False


def test_a_story_naming_nobody_has_no_hero_and_no_change():
    check = check_names(proper_names("the cat sat on the mat. it was happy."), "o gato")
    assert check.hero is None and not check.changed


def test_meta_talk_and_the_leaked_fallback():
    assert meta_talk("In the picture, the main subject is a cat. This story has 100 words.") == [
        "picture",
        "main subject",
        "the story",
        "word count",
    ]
    assert meta_talk("As an AI, I looked at the photo and its caption.") == ["photo", "caption", "as an AI"]
    assert meta_talk("Clara fed the cat, and the cat purred.") == []
    assert meta_talk("Maya saw a picture of a dinosaur and took photos of it.") == []  # things in the story
    assert meta_talk("This image shows a lake.") == ["image"]
    assert fallback_leak("She looked at the photo of nothing standing out.")
    assert fallback_leak("Nothing in particular happened")
    assert "nothing stands out" in meta_talk("A room where nothing stands out.")
    assert not fallback_leak("Nothing could stop her.")
    assert meta_talk("The fox ran home. The moral of the story is that friends help.") == []  # the fable's ending


def test_place_words_are_the_captioners_words_for_the_subjects_place():
    assert place_words("a volcanic peak") == {"volcano", "peak", "mountain"}
    assert place_words("a rugged mountain landscape") == {"landscape", "mountain"}  # not the bare "landscape" scene
    assert place_words("a woodland") == {"forest", "woodland"}
    assert place_words("a dog") == set()


@pytest.mark.parametrize(
    ("subject", "story", "named"),
    [
        ("a shoreline", "Lucas walked along the shore.", True),  # the scene's name, its stem
        ("a woodland", "Theo went deep into the forest.", True),  # the scene's other noun
        ("a mountain landscape", "Rafael climbed the mountains.", True),
        ("a stretch of countryside", "Hugo lay in a clearing, among the trees.", False),
        ("a dog", "The puppy ran home.", False),  # not a place: its word only
        ("a dog", "The dogs ran home.", True),
    ],
)
def test_a_subject_is_named_by_its_word_or_the_captioners_words_for_its_place(subject, story, named):
    assert subject_named(PhotoFacts("", subject=subject), story) is named


def test_kind_kept():
    assert kind_kept("Nina yawned. The moon was up. Soon Nina was fast asleep.", "bedtime")
    assert not kind_kept("Nina was fast asleep. Then she woke up. She played all night long. It was fun.", "bedtime")
    assert kind_kept("The fox ran. The crow laughed. The moral of the story is that pride falls.", "fable")
    assert not kind_kept("A little pig named Clara lived in a chair. She was happy.", "fable")
    assert kind_kept("A chair by the wall,\nWaits for Nina, small.\nThe sky is grey,\nShe sits all day.", "poem")
    assert not kind_kept("A chair by the wall, waits for Nina. The sky is grey.", "poem")
    assert kind_kept("Clara found a map.", "adventure")  # no shape to check


def test_repeated_4grams():
    assert repeated_ngram_share("a b c d a b c d") == 2 / 5  # "a b c d" twice among five 4-grams
    assert repeated_ngram_share("The cat sat on the mat and slept.") == 0.0
    assert repeated_ngram_share("too short") == 0.0


def test_openings_and_their_distinct_share():
    assert opening('"Once upon a time," said Clara.') == "once upon a time"
    assert opening("Clara's cat") == "clara's cat"
    assert distinct_share(["once upon a time", "once upon a time", "clara had a"]) == 2 / 3


def story(file: str, tier: str, en: str, pt: str, **figures: object) -> Story:
    made = Story(file, tier, 1000, "classic", "medium", en, pt, 2.0, 2.5)
    for key, value in figures.items():
        setattr(made, key, value)
    return made


def test_summary_of_a_tier():
    stories = [
        story("a.jpg", "light", "Clara ran.", "Clara correu.", words=90, finished=True, opening="clara ran"),
        story("b.jpg", "light", "Cara ran.", "Cara correu.", words=20, similar_names=["Cara"], opening="clara ran"),
    ]
    stories[0].meta_talk, stories[0].pt_words, stories[0].pt_unknown = ["picture"], 10, ["xyz"]
    stories[1].pt_words, stories[1].write_s = 30, 4.0
    figures = summary(stories)
    assert figures["finished_share"] == 0.5
    assert figures["hero_kept_share"] == 0.5
    assert figures["meta_talk_stories"] == 1 and figures["meta_talk_kinds"] == {"picture": 1}
    assert figures["distinct_openings_share"] == 0.5
    assert figures["pt_unknown_share"] == 0.025
    assert (figures["words_mean"], figures["words_min"], figures["words_max"]) == (55.0, 20, 90)
    assert figures["write_median_s"] == 3.0 and figures["write_p90_s"] == 2.0


def test_blind_order_is_fixed_and_shuffled():
    assert blind_order(["quality", "light"], 20) == blind_order(["quality", "light"], 20)
    firsts = {order[0] for order in blind_order(["quality", "light"], 20)}
    assert firsts == {"quality", "light"}


def test_blind_file_hides_the_tiers_until_the_key():
    photos = [
        Photo(i, f"{name}.jpg", 1000 + i, "classic", "short", PhotoFacts(f"a {name}"), f"um {name}")
        for i, name in enumerate(("cat", "dog", "bus"))
    ]
    marks = {"quality": "azul", "light": "verde"}  # what tells the stories apart, not their tier's name
    stories = {
        (p.file, tier): story(p.file, tier, "", f"História {marks[tier]} de {p.file}.")
        for p in photos
        for tier in ("quality", "light")
    }
    text = blind_markdown(photos, stories, ["quality", "light"])
    body, key = text.split("## Chave")
    assert "quality" not in body and "light" not in body
    orders = blind_order(["quality", "light"], 3)
    for number, (photo, order) in enumerate(zip(photos, orders, strict=True), 1):
        section = body.split(f"## {number}. {photo.file}")[1].split("---")[0]
        assert f"**Legenda:** {photo.caption_pt}" in section
        assert section.index(f"### A\n\nHistória {marks[order[0]]}") < section.index("### B")
        assert f"| {number} | {photo.file} | {order[0]} | {order[1]} |" in key


def test_the_run_stops_when_the_quality_tier_would_fall_back_to_the_light_one(monkeypatch):
    fallback = StoryModel("light", None, "only 900 MB of memory available")
    monkeypatch.setattr("pipeline.story.llama.choose_story_model", lambda settings: fallback)
    with pytest.raises(SystemExit, match=r"quality tier was asked for but the light tier would run.*900 MB"):
        story_eval.writer_for("quality")
    writer, model = story_eval.writer_for("light")  # the light tier asked for is the light tier run
    assert model is fallback and writer.settings.story_tier == "light"
