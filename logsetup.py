"""Structured logging for the bot: one JSON object per line, secrets redacted everywhere.

Why a redacting filter on the handler and not just care: libraries log URLs (httpx logs every request,
and Telegram's API puts the bot token in the URL path), tracebacks include arguments, and a single leaked
token lets anyone impersonate the bot.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[REDACTED]"


class RedactSecrets(logging.Filter):
    """Replace each secret by [REDACTED] in the message, its arguments and the formatted traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        for key, value in list(record.__dict__.items()):
            if isinstance(value, str) and key not in ("msg", "exc_text"):
                setattr(record, key, self.redact(value))
        return True


def configure_logging(*, level: str = "INFO", json: bool = True, secrets: Iterable[str] = ()) -> None:
    """Send all logs to stderr, as JSON (or plain text for humans), with secrets redacted."""
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(
            JsonFormatter("{asctime}{levelname}{name}{message}", style="{", rename_fields={"levelname": "level"})
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; Bot API URLs contain the token (redacted anyway) and are noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
