"""Exceptions raised by the pipeline.

Each carries a machine-readable `reason` so that callers (the bot, the CLI) can pick their own wording —
the pipeline itself knows no Portuguese UI texts.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class for every error the pipeline raises on purpose."""

    reason: str = "pipeline_error"


class InvalidImageError(PipelineError):
    """The input is not a photo we can use. `reason` says why:

    empty, not_image, corrupt, unsupported_format, too_large (bytes), too_many_pixels.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class FetchError(PipelineError):
    """A photo URL could not be fetched (network, status, content type, size, redirects)."""

    reason = "fetch_failed"


class StageError(PipelineError):
    """A pipeline stage failed; `stage` names it and `__cause__` holds the backend's error."""

    reason = "stage_failed"

    def __init__(self, stage: str, message: str = "") -> None:
        super().__init__(f"{stage} failed: {message}" if message else f"{stage} failed")
        self.stage = stage


class StageTimeout(StageError):
    """A stage did not finish within its time budget."""

    reason = "stage_timeout"


class SpeechTextError(PipelineError):
    """Nothing speakable is left after cleaning the text (empty, only emojis, only markup)."""

    reason = "nothing_to_say"


class StoryError(PipelineError):
    """The model produced nothing usable as a story (after post-processing and retries)."""

    reason = "empty_story"


class UnsuitableStory(StoryError):
    """Every story the model wrote had something unsuitable for children too early to cut it there."""

    reason = "unsuitable_story"


class StoryStopped(StoryError):
    """The story was given up (its request timed out or was cancelled) before it was finished."""

    reason = "story_stopped"


class OpenAIAnswerError(PipelineError, ValueError):
    """The server answered, but with nothing usable (no message content, broken JSON, an empty story)."""

    reason = "bad_model_answer"
