"""Telegram's share of the metrics: every update and every error that reaches the error handler is counted."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, TypeHandler

from app.metrics import Monitor

from .context import Context

UPDATE_TYPES = [str(kind) for kind in Update.ALL_TYPES]


def install(application: Application, monitor: Monitor) -> None:
    """Count every update (group -1 runs before the handlers and lets them run) and every error."""

    async def count_update(update: object, context: Context) -> None:
        """Count one update by its kind (message, callback_query, ...)."""
        kind = "other"
        if isinstance(update, Update):
            kind = next((name for name in UPDATE_TYPES if getattr(update, name, None) is not None), "other")
        monitor.metrics.updates.labels(kind).inc()

    async def count_error(update: object, context: Context) -> None:
        """Count one error by its type."""
        monitor.metrics.errors.labels(type(context.error).__name__).inc()

    application.add_handler(TypeHandler(Update, count_update), group=-1)
    application.add_error_handler(count_error)
