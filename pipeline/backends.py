"""Which backend runs each stage: built from settings, in one place for the pipeline core, the worker and the doctor.

Each `build_*` returns a backend that is not loaded yet: call `load()` off the event loop (`Pipeline.warm_up`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.caption.captioners import BlipCaptioner, ClassifierCaptioner
from pipeline.caption.openai import openai_captioner
from pipeline.config import Language, PipelineSettings
from pipeline.interfaces import Backend, Captioner, StoryWriter, Translator, VoiceSynthesizer
from pipeline.logonce import WarnOnce
from pipeline.speech.rhvoice import installed_profile
from pipeline.speech.synthesizers import EspeakSynthesizer, PiperSynthesizer, RHVoiceSynthesizer, VitsSynthesizer
from pipeline.story.gpt2 import TransformersStoryWriter
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.openai import openai_story_writer
from pipeline.translation.translators import GoogleTranslator, OfflineTranslator

__all__ = ["Backends", "build_captioner", "build_story_writer", "build_synthesizer", "build_translator"]

log = logging.getLogger(__name__)


@dataclass
class Backends:
    """One instance of each stage's backend, shared by all requests (models load once)."""

    captioner: Captioner
    story_writer: StoryWriter
    translator: Translator  # English → Portuguese: the caption and the story
    words_translator: Translator  # Portuguese → English: the user's own words, for the writer
    synthesizers: Mapping[str, VoiceSynthesizer]  # by language

    @classmethod
    def from_settings(cls, settings: PipelineSettings) -> Backends:
        return cls(
            captioner=build_captioner(settings),
            story_writer=build_story_writer(settings),
            translator=build_translator(settings),
            words_translator=build_translator(settings, "pt", "en"),
            synthesizers={lang: build_synthesizer(settings, lang) for lang in ("pt", "en")},
        )

    def all(self) -> list[Backend]:
        return [self.captioner, self.story_writer, self.translator, self.words_translator, *self.synthesizers.values()]


# --- captions ------------------------------------------------------------------------------------------


def _classifier(settings: PipelineSettings) -> Captioner:
    return ClassifierCaptioner(
        threads=settings.torch_threads,
        variant=settings.caption_classifier,
        faces=settings.caption_faces,
        objects=settings.caption_objects,
        cache_dir=settings.model_cache_dir,
    )


_CAPTIONERS: dict[str, Callable[[PipelineSettings], Captioner]] = {
    "classifier": _classifier,
    "blip": lambda s: BlipCaptioner(s.blip_model_id, threads=s.torch_threads),
    "openai": lambda s: openai_captioner(s, offline=_classifier(s)),
}


def build_captioner(settings: PipelineSettings) -> Captioner:
    """The captioner `settings.caption_backend` names."""
    return _CAPTIONERS[settings.caption_backend](settings)


# --- stories -------------------------------------------------------------------------------------------

_STORY_WRITERS: dict[str, Callable[[PipelineSettings], StoryWriter]] = {
    "llama": LlamaStoryWriter,
    "transformers": TransformersStoryWriter,
    "openai": lambda s: openai_story_writer(s, offline=LlamaStoryWriter(s)),
}


def build_story_writer(settings: PipelineSettings) -> StoryWriter:
    """The story writer `settings.story_backend` names."""
    return _STORY_WRITERS[settings.story_backend](settings)


# --- translation ---------------------------------------------------------------------------------------

_TRANSLATORS: dict[str, Callable[[PipelineSettings, str, str], Translator]] = {
    "offline": lambda settings, source, target: OfflineTranslator(source, target),
    "googletrans": lambda settings, source, target: GoogleTranslator(settings, source=source, target=target),
}


def build_translator(settings: PipelineSettings, source: str = "en", target: str = "pt") -> Translator:
    """The translator of one direction `settings.translate_backend` names."""
    return _TRANSLATORS[settings.translate_backend](settings, source, target)


# --- voices --------------------------------------------------------------------------------------------

_warnings = WarnOnce(log)  # a missing voice is said once per process, not on every build


def _common(settings: PipelineSettings) -> dict[str, Any]:
    return {"max_seconds": settings.voice_max_seconds, "bitrate": settings.voice_bitrate_bps}


def _espeak(settings: PipelineSettings, language: Language) -> VoiceSynthesizer:
    return EspeakSynthesizer(language, settings.espeak_command, settings.stage_timeout_s, **_common(settings))


def _rhvoice(settings: PipelineSettings, language: Language) -> VoiceSynthesizer:
    try:
        installed_profile(settings.rhvoice_library, settings.rhvoice_voice)
    except (OSError, LookupError) as exc:
        _warnings.warn(
            "rhvoice",
            "RHVoice cannot read %s (%s): narration falls back to espeak-ng (install librhvoice5 and "
            "rhvoice-brazilian-portuguese, see scripts/setup-system.sh)",
            language,
            exc,
        )
        return _espeak(settings, language)
    return RHVoiceSynthesizer(
        language, settings.rhvoice_voice, settings.rhvoice_library, settings.stage_timeout_s, **_common(settings)
    )


def _piper(settings: PipelineSettings, language: Language) -> VoiceSynthesizer:
    return PiperSynthesizer(language, **_common(settings))


def _vits(settings: PipelineSettings, language: Language) -> VoiceSynthesizer:
    model_id = {"pt": settings.vits_model_id_pt, "en": settings.vits_model_id_en}[language]
    return VitsSynthesizer(language, model_id, **_common(settings))


_SYNTHESIZERS: dict[str, Callable[[PipelineSettings, Language], VoiceSynthesizer]] = {
    "rhvoice": _rhvoice,
    "espeak": _espeak,
    "piper": _piper,
    "transformers": _vits,
}


def build_synthesizer(settings: PipelineSettings, language: Language) -> VoiceSynthesizer:
    """The configured voice for `language` (settings.speech_backend_pt / speech_backend_en)."""
    backend = {"pt": settings.speech_backend_pt, "en": settings.speech_backend_en}[language]
    return _SYNTHESIZERS[backend](settings, language)
