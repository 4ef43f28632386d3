"""Captioning: the offline classifier on real photos, its phrasing rules, a tiny BLIP, and caption_image."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web
from PIL import Image

from pipeline.backends import build_captioner
from pipeline.caption.captioners import BlipCaptioner, ClassifierCaptioner, strip_prompt
from pipeline.caption.evidence import default_vocabulary
from pipeline.caption.faces import FaceDetector, nms
from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.errors import FetchError, InvalidImageError, PipelineError
from pipeline.facts import PhotoFacts
from pipeline.images import ImageSource, decode_image
from pipeline.interfaces import Captioner
from tools.fake_backends import fake_backends
from tools.loopback import serve_on_loopback

DATA = Path(__file__).parents[1] / "data"
PHOTOS = ("mountain.jpg", "lake_sunset.jpg", "forest_path.jpg", "foggy_pier.jpg")
MAX_BYTES = 1_000_000
SETTINGS = PipelineSettings(_env_file=None, max_image_bytes=MAX_BYTES, fetch_timeout_s=5.0, fetch_max_redirects=3)
VOCAB = default_vocabulary()


def load_photo(name: str) -> Image.Image:
    data = (DATA / name).read_bytes()
    return decode_image(data, max_bytes=MAX_BYTES, max_pixels=SETTINGS.max_image_pixels).image


def imagenet_labels_in(caption: str) -> list[str]:
    text = caption.lower()
    return [label for label in VOCAB.labels if re.search(rf"\b{re.escape(label.lower())}\b", text)]


def assert_sentence(caption: str) -> None:
    assert isinstance(caption, str)
    assert re.fullmatch(r"[a-z][a-z ,'-]*[a-z]", caption), caption
    assert "  " not in caption
    assert len(caption.split()) >= 3


@pytest.fixture(scope="module")
def captioner() -> ClassifierCaptioner:
    model = ClassifierCaptioner(threads=1)
    model.load()
    return model


@pytest.fixture(scope="module")
async def photo_captions(captioner: ClassifierCaptioner) -> dict[str, str]:
    return {name: (await captioner.caption(load_photo(name))).caption for name in PHOTOS}


# --- the real classifier on real photos -------------------------------------------------------------------


@pytest.mark.models
async def test_mountain_photo_is_captioned_as_mountains(photo_captions: dict[str, str]) -> None:
    caption = photo_captions["mountain.jpg"]
    assert re.search(r"\b(mountain|peak|ridge|alps?|summit)\b", caption), caption
    assert "snowy" in caption and "blue sky" in caption, caption  # snow on the peaks, clear sky above


@pytest.mark.models
async def test_weak_spots_are_read_from_the_colours(photo_captions: dict[str, str]) -> None:
    # The classifier says "picket fence" for the forest and nothing useful for the sunset light.
    assert re.search(r"\b(forest|woodland|trees)\b", photo_captions["forest_path.jpg"])
    assert re.search(r"\b(sunset|dusk|evening)\b", photo_captions["lake_sunset.jpg"])
    assert re.search(r"\b(lake|coast|shore|seashore|shoreline|coastline|water)\b", photo_captions["lake_sunset.jpg"])
    assert re.search(r"\b(fog|mist|misty)\b", photo_captions["foggy_pier.jpg"])


@pytest.mark.models
async def test_captions_are_distinct_sentences(photo_captions: dict[str, str]) -> None:
    for caption in photo_captions.values():
        assert_sentence(caption)
    assert len(set(photo_captions.values())) == len(PHOTOS)


@pytest.mark.models
async def test_same_photo_same_caption(captioner: ClassifierCaptioner, photo_captions: dict[str, str]) -> None:
    again = await asyncio.gather(*(captioner.caption(load_photo("lake_sunset.jpg")) for _ in range(3)))
    assert {facts.caption for facts in again} == {photo_captions["lake_sunset.jpg"]}


@pytest.mark.models
@pytest.mark.parametrize("kind", ["noise", "flat grey"])
async def test_unrecognisable_image_is_not_called_a_landscape(captioner: ClassifierCaptioner, kind: str) -> None:
    if kind == "noise":
        pixels = np.random.default_rng(7).integers(0, 256, (300, 400, 3), dtype=np.uint8)
        image = Image.fromarray(pixels)
    else:
        image = Image.new("RGB", (400, 300), (128, 128, 128))
    facts = await captioner.caption(image)
    assert not re.search(r"\b(landscape|countryside|sky|mountain|forest|person|people)\b", facts.caption), facts
    assert facts.people == 0
    if kind == "flat grey":  # nothing at all to see: nothing is named
        assert_sentence(facts.caption)
        assert facts.subject is None and imagenet_labels_in(facts.caption) == [], facts


@pytest.mark.models
async def test_lazy_load_on_first_caption() -> None:
    import torch

    model = ClassifierCaptioner(threads=0)  # 0: leave torch's thread count alone
    threads = torch.get_num_threads()
    facts = await model.caption(Image.new("RGB", (64, 64), (10, 10, 10)))
    assert isinstance(facts, PhotoFacts) and facts.caption
    assert torch.get_num_threads() == threads


# --- BLIP, with a tiny random model built here ------------------------------------------------------------


def tiny_blip() -> tuple[object, object]:
    import torch
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    words = [
        "a",
        "picture",
        "of",
        "mountain",
        "lake",
        "sky",
        "tree",
        "river",
        "over",
        "under",
        "with",
        "the",
        "at",
        "sunset",
        "snow",
        "blue",
        "green",
    ]
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"]
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(special + words)}, bos_token="[DEC]")
    processor = BlipProcessor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer=tokenizer)
    text = {"hidden_size": 32, "encoder_hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2}
    text |= {"num_attention_heads": 2, "max_position_embeddings": 64, "vocab_size": len(special + words)}
    text |= {"bos_token_id": 5, "sep_token_id": 3, "eos_token_id": 3, "pad_token_id": 0}
    vision = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 2}
    vision |= {"image_size": 32, "patch_size": 8}
    torch.manual_seed(0)
    model = BlipForConditionalGeneration(BlipConfig(text_config=text, vision_config=vision, projection_dim=32))
    return model, processor


@pytest.mark.models  # imports transformers (seconds), though the model is tiny
async def test_blip_generates_a_caption_without_its_prompt() -> None:
    model, processor = tiny_blip()
    blip = BlipCaptioner(model=model, processor=processor, threads=0)
    captions = [
        (await blip.caption(Image.new("RGB", (80, 60), colour))).caption for colour in [(30, 120, 200), (200, 90, 20)]
    ]
    for caption in captions:
        assert isinstance(caption, str) and caption
        assert not caption.startswith("a picture of"), caption
        assert "[" not in caption and "\n" not in caption, caption  # no [SEP], [DEC], [PAD], [UNK]
    assert captions[0] == (await blip.caption(Image.new("RGB", (80, 60), (30, 120, 200)))).caption  # beam search


def test_strip_prompt() -> None:
    assert strip_prompt("a picture of  a lake at dusk ", "a picture of") == "a lake at dusk"
    assert strip_prompt("A Picture of a lake.", "a picture of") == "a lake"
    assert strip_prompt("two dogs", "a picture of") == "two dogs"


def test_blip_needs_model_and_processor_together() -> None:
    with pytest.raises(ValueError):
        BlipCaptioner(model=object())


def test_build_captioner_from_settings() -> None:
    assert isinstance(build_captioner(SETTINGS), ClassifierCaptioner)
    blip = build_captioner(SETTINGS.model_copy(update={"caption_backend": "blip", "blip_model_id": "my/blip"}))
    assert isinstance(blip, BlipCaptioner) and blip.model_id == "my/blip"


# --- photos as bytes, paths and URLs, and their failures -------------------------------------------------


async def caption_image(source: ImageSource, captioner: Captioner, settings: PipelineSettings) -> PhotoFacts:
    """What a run does up to its caption: the photo read and decoded within every input limit, then captioned."""
    loaded = await Pipeline(settings, fake_backends()).load_image(source)
    return await captioner.caption(loaded.image)


class MustNotRun:
    """A captioner for inputs that must be refused before any model work."""

    name = "must_not_run"

    def load(self) -> None:
        raise AssertionError("the model must not be loaded")

    async def caption(self, image: Image.Image) -> PhotoFacts:
        raise AssertionError("the model must not be called")


@pytest.fixture(scope="module")
async def photo_server():
    photo = (DATA / "mountain.jpg").read_bytes()

    async def jpeg(_: web.Request) -> web.Response:
        return web.Response(body=photo, content_type="image/jpeg")

    async def html(_: web.Request) -> web.Response:
        return web.Response(text="<html>not a photo</html>", content_type="text/html")

    async def endless(request: web.Request) -> web.StreamResponse:
        """An 'image' with no Content-Length that never stops: must be cut off at the limit."""
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        try:
            for _ in range(4 * MAX_BYTES // 65536):
                await response.write(b"\xff" * 65536)
        except ConnectionError:
            pass  # the client hung up, as it should
        return response

    async def declared_huge(_: web.Request) -> web.Response:
        return web.Response(body=b"\xff" * (MAX_BYTES + 1), content_type="image/jpeg")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/loop?n={int(request.query.get('n', 0)) + 1}")

    app = web.Application()
    app.router.add_get("/mountain.jpg", jpeg)
    app.router.add_get("/page", html)
    app.router.add_get("/endless.jpg", endless)
    app.router.add_get("/huge.jpg", declared_huge)
    app.router.add_get("/loop", loop)
    runner, root = await serve_on_loopback(app)
    yield root
    await runner.cleanup()


@pytest.mark.models
async def test_caption_image_from_bytes_path_and_url(
    captioner: ClassifierCaptioner, photo_captions: dict[str, str], photo_server: str
) -> None:
    expected = photo_captions["mountain.jpg"]
    path = DATA / "mountain.jpg"
    for source in (path.read_bytes(), path, str(path), f"{photo_server}/mountain.jpg"):
        assert (await caption_image(source, captioner, SETTINGS)).caption == expected


@pytest.mark.parametrize(
    ("path", "error", "reason"),
    [
        ("/page", InvalidImageError, "not_image"),
        ("/missing.jpg", FetchError, "fetch_failed"),
        ("/endless.jpg", InvalidImageError, "too_large"),
        ("/huge.jpg", InvalidImageError, "too_large"),
        ("/loop", FetchError, "fetch_failed"),
    ],
)
async def test_caption_image_url_failures(
    photo_server: str, path: str, error: type[PipelineError], reason: str
) -> None:
    with pytest.raises(error) as info:
        await caption_image(f"{photo_server}{path}", MustNotRun(), SETTINGS)
    assert info.value.reason == reason


async def test_caption_image_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FetchError):
        await caption_image(tmp_path / "nope.jpg", MustNotRun(), SETTINGS)


# --- everyday photos (tests/data/everyday): people from faces, things in plain words -----------------------

EVERYDAY = DATA / "everyday"


def load_everyday(name: str) -> Image.Image:
    data = (EVERYDAY / name).read_bytes()
    return decode_image(data, max_bytes=MAX_BYTES, max_pixels=SETTINGS.max_image_pixels).image


@pytest.mark.models
@pytest.mark.parametrize(
    ("photo", "people", "words"),
    [
        ("man-close-up.jpg", 1, r"\bportrait of a person\b"),
        ("couple-with-wine.jpg", 2, r"^two people\b"),
        ("three-friends.jpg", 3, r"^a group of people\b"),
        ("german-shepherd.jpg", 0, r"^a dog\b"),
        ("pizza.jpg", 0, r"\bpizza\b"),
        ("lighthouse.jpg", 0, r"^a lighthouse\b"),
    ],
)
async def test_everyday_photos_are_seen(captioner: ClassifierCaptioner, photo: str, people: int, words: str) -> None:
    facts = await captioner.caption(load_everyday(photo))
    assert facts.people == people and re.search(words, facts.caption), facts
    assert "landscape" not in facts.caption


@pytest.mark.models
def test_faces_are_found_in_portraits_and_not_in_landscapes() -> None:
    detector = FaceDetector()
    portrait = detector.detect(load_everyday("man-close-up.jpg"))
    assert len(portrait) == 1 and portrait[0].height > 0.3 and portrait[0].probability > 0.99
    assert len(detector.detect(load_everyday("three-friends.jpg"))) == 3
    for landscape in ("mountain.jpg", "lake_sunset.jpg", "forest_path.jpg", "foggy_pier.jpg"):
        assert detector.detect(load_photo(landscape)) == (), landscape


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=np.float32)
    scores = np.array([0.8, 0.9, 0.7], dtype=np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    inner = np.array([[0, 0, 20, 20], [5, 5, 10, 10]], dtype=np.float32)
    assert nms(inner, np.array([0.9, 0.8]), 0.7).tolist() == [0, 1]  # small overlap over the union ...
    assert nms(inner, np.array([0.9, 0.8]), 0.7, by_min=True).tolist() == [0]  # ... but inside the bigger one
