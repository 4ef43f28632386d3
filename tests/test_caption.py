"""Captioning: the offline classifier on real photos, its phrasing rules, a tiny BLIP, and caption_image."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from aiohttp import web
from PIL import Image

from pipeline.caption import (
    BlipCaptioner,
    ClassifierCaptioner,
    ImageStats,
    Vocabulary,
    build_captioner,
    caption_image,
    default_vocabulary,
    describe,
    image_stats,
    light_of,
    strip_prompt,
)
from pipeline.config import PipelineSettings
from pipeline.errors import FetchError, InvalidImageError
from pipeline.images import decode_image

from .loopback import serve_on_loopback

DATA = Path(__file__).parent / "data"
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
    return {name: await captioner.caption(load_photo(name)) for name in PHOTOS}


# --- the real classifier on real photos -------------------------------------------------------------------


@pytest.mark.slow
async def test_mountain_photo_is_captioned_as_mountains(photo_captions: dict[str, str]) -> None:
    caption = photo_captions["mountain.jpg"]
    assert re.search(r"\b(mountain|peak|ridge|alps?|summit)\b", caption), caption
    assert "snowy" in caption and "blue sky" in caption, caption  # snow on the peaks, clear sky above


@pytest.mark.slow
async def test_weak_spots_are_read_from_the_colours(photo_captions: dict[str, str]) -> None:
    # The classifier says "picket fence" for the forest and nothing useful for the sunset light.
    assert re.search(r"\b(forest|woodland|trees)\b", photo_captions["forest_path.jpg"])
    assert re.search(r"\b(sunset|dusk|evening)\b", photo_captions["lake_sunset.jpg"])
    assert re.search(r"\b(lake|coast|shore|seashore|shoreline|coastline|water)\b", photo_captions["lake_sunset.jpg"])
    assert re.search(r"\b(fog|mist|misty)\b", photo_captions["foggy_pier.jpg"])


@pytest.mark.slow
async def test_captions_are_distinct_sentences(photo_captions: dict[str, str]) -> None:
    for caption in photo_captions.values():
        assert_sentence(caption)
    assert len(set(photo_captions.values())) == len(PHOTOS)


@pytest.mark.slow
async def test_same_photo_same_caption(captioner: ClassifierCaptioner, photo_captions: dict[str, str]) -> None:
    again = await asyncio.gather(*(captioner.caption(load_photo("lake_sunset.jpg")) for _ in range(3)))
    assert set(again) == {photo_captions["lake_sunset.jpg"]}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["noise", "flat grey"])
async def test_unrecognisable_image_gets_general_phrasing(captioner: ClassifierCaptioner, kind: str) -> None:
    if kind == "noise":
        pixels = np.random.default_rng(7).integers(0, 256, (300, 400, 3), dtype=np.uint8)
        image = Image.fromarray(pixels)
    else:
        image = Image.new("RGB", (400, 300), (128, 128, 128))
    caption = await captioner.caption(image)
    assert_sentence(caption)
    assert re.search(r"\b(landscape|countryside)\b", caption), caption
    assert imagenet_labels_in(caption) == [], caption


@pytest.mark.slow
async def test_lazy_load_on_first_caption() -> None:
    model = ClassifierCaptioner(threads=0)  # 0: leave torch's thread count alone
    threads = torch.get_num_threads()
    caption = await model.caption(Image.new("RGB", (64, 64), (10, 10, 10)))
    assert "night" in caption
    assert torch.get_num_threads() == threads


# --- phrasing rules, without the model --------------------------------------------------------------------


def flat_stats(seed: int = 1, **overrides: float) -> ImageStats:
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
    """A probability vector with the given labels (underscores for spaces) and the rest spread evenly."""
    probs = np.zeros(1000, dtype=np.float32)
    for label, p in labels.items():
        probs[VOCAB.labels.index(label.replace("_", " "))] = p
    rest = 1.0 - probs.sum()
    probs[probs == 0] = rest / np.count_nonzero(probs == 0)
    return probs


def test_confident_scene_is_named() -> None:
    caption = describe(probs_with(alp=0.8), flat_stats(sky_blue=0.7, middle_white=0.2), VOCAB)
    assert re.search(r"\bsnowy (mountain|volcano)", caption) and "blue sky" in caption, caption


@pytest.mark.parametrize(
    "probs",
    [
        probs_with(alp=0.2),  # a weak scene
        probs_with(golden_retriever=0.4),  # an animal, not sure enough
        probs_with(suspension_bridge=0.4),  # an object, not sure enough
        probs_with(jigsaw_puzzle=0.95),  # sure, but not a thing we ever name
        probs_with(fountain=0.7),  # the sun's flare in a sunset photo fools it into this
    ],
)
def test_unsure_or_unnameable_labels_are_not_claimed(probs: np.ndarray) -> None:
    for seed in range(10):
        caption = describe(probs, flat_stats(seed), VOCAB)
        assert imagenet_labels_in(caption) == [], caption
        assert not re.search(r"mountain|peak|ridge|retriever|dog|bridge|puzzle|fountain", caption), caption
        assert re.search(r"\b(landscape|countryside)\b", caption), caption


def test_confident_animal_is_placed_in_its_scene() -> None:
    probs = probs_with(golden_retriever=0.6, lakeside=0.35)
    caption = describe(probs, flat_stats(sky_warm=0.5), VOCAB)
    assert "a golden retriever by the water" in caption, caption
    assert re.search(r"\b(sunset|evening)\b", caption), caption


def test_second_scene_in_the_background() -> None:
    caption = describe(probs_with(lakeside=0.5, alp=0.2), flat_stats(), VOCAB)
    assert "with mountains in the distance" in caption, caption


def test_wording_varies_with_the_picture_but_not_for_one_picture() -> None:
    probs = probs_with(lakeside=0.6)
    captions = {describe(probs, flat_stats(seed, sky_grey=0.6), VOCAB) for seed in range(12)}
    assert len(captions) >= 4
    for caption in captions:
        assert re.search(r"\b(lake|lakeshore)\b", caption) and re.search(r"cloud|grey", caption), caption
    assert describe(probs, flat_stats(5), VOCAB) == describe(probs, flat_stats(5), VOCAB)


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


@pytest.mark.parametrize(
    ("addition", "culprit"),
    [
        ('[labels.unicorn]\nscene = "meadow"', "unicorn"),  # not an ImageNet label
        ('[labels.bubble]\nscene = "moon"', "moon"),  # a real label, but a scene that does not exist
    ],
)
def test_vocabulary_is_checked_when_it_loads(tmp_path: Path, addition: str, culprit: str) -> None:
    source = Path(__file__).parents[1] / "pipeline" / "data"
    for name in ("imagenet_classes.txt", "caption_vocabulary.toml"):
        shutil.copy(source / name, tmp_path / name)
    vocabulary = tmp_path / "caption_vocabulary.toml"
    vocabulary.write_text(vocabulary.read_text() + f"\n{addition}\n")
    with pytest.raises(ValueError, match=culprit):
        Vocabulary.load(tmp_path)


# --- BLIP, with a tiny random model built here ------------------------------------------------------------


def tiny_blip() -> tuple[object, object]:
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


async def test_blip_generates_a_caption_without_its_prompt() -> None:
    model, processor = tiny_blip()
    blip = BlipCaptioner(model=model, processor=processor, threads=0)
    captions = [await blip.caption(Image.new("RGB", (80, 60), colour)) for colour in [(30, 120, 200), (200, 90, 20)]]
    for caption in captions:
        assert isinstance(caption, str) and caption
        assert not caption.startswith("a picture of"), caption
        assert "[" not in caption and "\n" not in caption, caption  # no [SEP], [DEC], [PAD], [UNK]
    assert captions[0] == await blip.caption(Image.new("RGB", (80, 60), (30, 120, 200)))  # beam search


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


# --- caption_image: bytes, paths, URLs and their failures -------------------------------------------------


class MustNotRun:
    """A captioner for inputs that must be refused before any model work."""

    name = "must_not_run"

    def load(self) -> None:
        raise AssertionError("the model must not be loaded")

    async def caption(self, image: Image.Image) -> str:
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


@pytest.mark.slow
async def test_caption_image_from_bytes_path_and_url(
    captioner: ClassifierCaptioner, photo_captions: dict[str, str], photo_server: str
) -> None:
    expected = photo_captions["mountain.jpg"]
    path = DATA / "mountain.jpg"
    assert await caption_image(path.read_bytes(), captioner, SETTINGS) == expected
    assert await caption_image(path, captioner, SETTINGS) == expected
    assert await caption_image(str(path), captioner, SETTINGS) == expected
    assert await caption_image(f"{photo_server}/mountain.jpg", captioner, SETTINGS) == expected


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
async def test_caption_image_url_failures(photo_server: str, path: str, error: type, reason: str) -> None:
    with pytest.raises(error) as info:
        await caption_image(f"{photo_server}{path}", MustNotRun(), SETTINGS)
    assert info.value.reason == reason


async def test_caption_image_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FetchError):
        await caption_image(tmp_path / "nope.jpg", MustNotRun(), SETTINGS)
