"""Errors as answers: a `Problem` is an HTTP status and a Portuguese message, raised from anywhere in a handler,
and the middleware turns it (and the router's 404/405, a too-large body) into JSON {error, message}.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from app.failures import invalid_image_text

from . import texts

__all__ = ["Problem", "bad_request", "problems", "too_large"]


class Problem(Exception):
    """An answer with an HTTP status and a Portuguese message, raised from anywhere in a handler."""

    def __init__(self, status: int, reason: str, message: str, **extra: Any) -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.message, self.extra = status, reason, message, extra

    def response(self) -> web.Response:
        """The JSON answer {error, message, …}, with Retry-After when the problem says when to come back."""
        headers = {"Retry-After": str(self.extra.pop("retry_after"))} if "retry_after" in self.extra else None
        body = {"error": self.reason, "message": self.message, **self.extra}
        return web.json_response(body, status=self.status, headers=headers)


def bad_request() -> Problem:
    """The answer to a request the page would never send."""
    return Problem(400, "bad_request", texts.BAD_REQUEST)


def too_large(max_image_bytes: int) -> Problem:
    """The answer to a photo (or a body) over MAX_IMAGE_BYTES."""
    return Problem(413, "too_large", invalid_image_text("too_large", max_image_bytes))


def problems(max_image_bytes: int) -> Middleware:
    """The middleware that answers every error as JSON {error, message} in Portuguese."""

    @web.middleware
    async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Ours, the router's 404/405, a too-large body: each as JSON in Portuguese."""
        try:
            return await handler(request)
        except Problem as problem:
            return problem.response()
        except web.HTTPNotFound:
            return Problem(404, "not_found", texts.PAGE_NOT_FOUND).response()
        except web.HTTPMethodNotAllowed as exc:
            reply = Problem(405, "method_not_allowed", texts.METHOD_NOT_ALLOWED.format(method=exc.method)).response()
            reply.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
            return reply
        except web.HTTPRequestEntityTooLarge:
            return too_large(max_image_bytes).response()
        except web.HTTPClientError as exc:
            return Problem(exc.status, "bad_request", texts.BAD_REQUEST).response()

    return answer
