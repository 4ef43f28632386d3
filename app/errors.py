"""The exceptions of the app: an admission queue that says no, and Unsplash failures (the gallery answers)."""

from __future__ import annotations

from collections.abc import Hashable


class QueueRejected(Exception):
    """The job was not accepted."""


class QueueFull(QueueRejected):
    """Too many jobs are waiting overall."""


class KeyLimitReached(QueueRejected):
    """This key (user or chat) already has as many jobs as it may."""

    def __init__(self, key: Hashable) -> None:
        super().__init__(f"limit reached for {key!r}")
        self.key = key


class QueueClosed(QueueRejected):
    """The queue is shutting down."""


class UnsplashFailure(Exception):
    """Why Unsplash could not give us a photo; `kind` groups failures for logging and back-off."""

    def __init__(self, kind: str, detail: str, *, pause: str | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.pause = pause  # "hour": until the hour turns; "cooldown": a short pause; None: retry next time


EXIT_CONFIG = 2  # the exit code of a configuration error the person can fix


class StartupError(Exception):
    """A start-up problem with a one-line explanation (what happened and what to do) and an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class LeaseLost(Exception):
    """Another bot replica has taken this request over (this one stalled past its lease): stop answering it."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"request {request_id} is held by another replica")
        self.request_id = request_id
