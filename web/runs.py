"""Running a story: the admission queue's job streams the pipeline and records each event on the story, in the
page's words, for every follower; a failure ends the story with a `failed` event that says why in Portuguese.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from app.failures import EXPLAINED, failure
from pipeline.events import (
    CaptionReady,
    Event,
    Finished,
    PipelineInput,
    StageFailed,
    StageStarted,
    StoryPipeline,
    StoryReady,
    StorySentence,
    VoiceReady,
)

from . import texts
from .stories import Story, StoryStore

__all__ = ["Runner"]

log = logging.getLogger(__name__)


class Runner:
    """Tells the queued stories with the pipeline, one `tell` per queued job."""

    def __init__(self, pipeline: StoryPipeline, stories: StoryStore, max_image_bytes: int) -> None:
        self.pipeline = pipeline
        self.stories = stories
        self.max_image_bytes = max_image_bytes

    async def tell(self, story: Story) -> None:
        """The queued job: stream the pipeline and record each event for the page."""
        story.started = True
        story.stamps["started"] = time.monotonic()
        extra = {"request_id": story.request_id}
        if self.stories.get(story.id) is None:  # expired while it waited: nobody can read it any more
            await story.finish()
            return
        log.info("web story started", extra=extra)
        try:
            events = self.pipeline.stream(
                PipelineInput(story.photo, voice_language=story.voice_language, options=story.options)
            )
            async for event in events:
                await record(story, event)
        except EXPLAINED as exc:
            failed = failure(exc)
            await story.fail(failed.reason, failed.text(self.max_image_bytes))
        except asyncio.CancelledError:
            await story.fail("shutting_down", texts.SHUTTING_DOWN)
            raise
        except Exception:
            log.exception("web story crashed", extra=extra)
            message = texts.ERROR.format(request_id=story.request_id)
            await story.fail("error", message)
        finally:
            await story.finish()
            log.info("web story finished", extra=extra)


async def record(story: Story, event: Event) -> None:
    """One pipeline event as the page's event (and the story's state), in the page's words."""
    state = story.state
    match event:
        case StageStarted(stage):
            if stage.value in texts.STATUS:
                await story.add("stage", {"stage": stage.value, "message": texts.STATUS[stage.value]})
        case CaptionReady() | StoryReady():
            state.update(event.to_dict())
            await story.add("caption" if isinstance(event, CaptionReady) else "story", event.to_dict())
        case StorySentence(sentence_en, sentence_pt):  # the story as it is written, before the whole of it
            await story.add("sentence", {"sentence_pt": sentence_pt, "sentence_en": sentence_en})
        case VoiceReady(voice):
            story.voice = voice
            state["voice"] = voice_fields(story)
            await story.add("voice", state["voice"])
        case StageFailed(stage, _error):
            message = texts.STAGE_FAILED.get(stage.value, texts.PIPELINE_FAILED)
            state.setdefault("stage_failed", {})[stage.value] = message
            await story.add("stage_failed", {"stage": stage.value, "message": message})
        case Finished(timings):
            state["timings"] = {stage: round(seconds, 3) for stage, seconds in timings.items()}
            await story.add("done", {"timings": state["timings"]})


def voice_fields(story: Story) -> dict[str, Any]:
    """The voice as the page plays it: where, for how long, in which language."""
    assert story.voice is not None
    url = story.links["voice"]
    return {
        "url": url,
        "download_url": f"{url}?download=1",
        "seconds": round(story.voice.seconds, 2),
        "language": story.voice.language,
        "content_type": "audio/ogg; codecs=opus",
    }
