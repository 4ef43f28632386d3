"""Conta-Histórias pipeline: a photo becomes captions, a story and a voice — with no Telegram inside.

    from pipeline import PipelineInput, StoryOptions
    from pipeline.core import Pipeline
    pipeline = Pipeline()
    await pipeline.warm_up()
    result = await pipeline.run(PipelineInput("photo.jpg"))   # or bytes, or an http(s) URL
    asked = PipelineInput(photo, options=StoryOptions("fable", "short"))
    async for event in pipeline.stream(asked): ...             # CaptionReady, StoryReady, VoiceReady, ..., Finished

Importing the package is cheap: it re-exports the contract (stages, events, the input of a run, its result, the
`StoryPipeline` protocol, the facts a caption is made of, the errors). The models' libraries load with `pipeline.core`.
"""

from pipeline import events
from pipeline.config import Language, PipelineSettings
from pipeline.errors import FetchError, InvalidImageError, PipelineError, SpeechTextError, StageError, StageTimeout
from pipeline.events import *  # noqa: F403 (the contract, as listed in events.__all__)
from pipeline.facts import PhotoFacts

__all__ = [
    *events.__all__,
    "FetchError",
    "InvalidImageError",
    "Language",
    "PhotoFacts",
    "PipelineError",
    "PipelineSettings",
    "SpeechTextError",
    "StageError",
    "StageTimeout",
]
