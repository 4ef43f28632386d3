"""What went wrong with a story, read one way by the bot, the web page, the command line and the metrics.

A pipeline error that ends a story becomes a `Failure`: the `label` the metrics count it under (the stage that
failed, "invalid_image", "fetch" or "other"), the `reason` programs see (the web API's `error`: the photo's own
reason, "fetch_failed" or "pipeline_failed") and the Portuguese text the user reads (app/wording.py). A stage
that fails while the others still deliver is told with `wording.STAGE_FAILED`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.errors import FetchError, InvalidImageError, PipelineError, StageError

from . import wording

__all__ = ["EXPLAINED", "Failure", "failure", "invalid_image_text"]

# The errors a front end explains to the user; any other one is a bug: logged, and told with its request's code.
EXPLAINED: tuple[type[PipelineError], ...] = (InvalidImageError, FetchError, StageError)


@dataclass(frozen=True, slots=True)
class Failure:
    """How an error that ended a story is counted (`label`), named to programs (`reason`) and told (`text`)."""

    label: str
    reason: str

    @property
    def photo_refused(self) -> bool:
        """The photo itself could not be used (not a usable image, or not to be had): nothing to retry as is."""
        return self.label in ("invalid_image", "fetch")

    def text(
        self,
        max_image_bytes: int,
        *,
        invalid_image: Mapping[str, str] = wording.INVALID_IMAGE,
        fetch_failed: str = wording.FETCH_FAILED,
    ) -> str:
        """What the user is told, in Portuguese; a front end may say a bad photo or a failed download its own way."""
        if self.label == "invalid_image":
            return invalid_image_text(self.reason, max_image_bytes, invalid_image)
        return fetch_failed if self.label == "fetch" else wording.PIPELINE_FAILED


def failure(exc: PipelineError) -> Failure:
    """The one reading of a pipeline error that ended a story."""
    if isinstance(exc, InvalidImageError):
        return Failure("invalid_image", exc.reason)
    if isinstance(exc, FetchError):
        return Failure("fetch", "fetch_failed")
    return Failure(exc.stage if isinstance(exc, StageError) else "other", "pipeline_failed")


def invalid_image_text(reason: str, max_bytes: int, texts: Mapping[str, str] = wording.INVALID_IMAGE) -> str:
    """Why a file is not a usable photo, in Portuguese (`texts` by reason; an unknown one reads as "not_image")."""
    return texts.get(reason, texts["not_image"]).format(max_mb=wording.megabytes(max_bytes))
