"""Structured logging for the bot: one JSON object per line, secrets redacted everywhere.

Why redact the formatted output and not just take care: libraries log URLs (httpx logs every request,
and Telegram's API puts the bot token in the URL path), tracebacks include arguments, and a single leaked
token lets anyone impersonate the bot.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import quote

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[REDACTED]"


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter and replaces every secret in its final output: message, extras and traceback."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # URLs carry secrets percent-encoded too (the ':' of a bot token becomes %3A).
        variants = {v for s in secrets if s for v in (s, quote(s, safe=""), quote(s))}
        self.secrets = sorted(variants, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(
    *, level: str = "INFO", json: bool = True, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Send all logs to stderr (or `stream`), as JSON (or plain text for humans), with secrets redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if json:
        formatter: logging.Formatter = JsonFormatter(
            "{asctime}{levelname}{name}{message}", style="{", rename_fields={"levelname": "level"}
        )
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(RedactingFormatter(formatter, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; Bot API URLs contain the token (redacted anyway) and are noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler
