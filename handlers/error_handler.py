"""The single error handler: a short apology with a request id for the user, the traceback for us."""

from __future__ import annotations

import logging
import secrets

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, TelegramError

from . import texts
from .context import Context

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """The single error handler: log the traceback with a request id, apologise to the chat with it."""
    if update is None and isinstance(context.error, NetworkError):  # polling met a 5xx or a dropped connection
        log.warning("Telegram did not answer; polling retries", extra={"error": str(context.error)})
        return
    request_id = getattr(context.error, "request_id", None) or secrets.token_hex(4)
    update_id = update.update_id if isinstance(update, Update) else None
    log.error(
        "update failed",
        exc_info=context.error,
        extra={"request_id": request_id, "update_id": update_id, "error": type(context.error).__name__},
    )
    chat_id = getattr(context.error, "chat_id", None)  # a story resumed at start has no update
    if isinstance(update, Update) and update.effective_chat is not None:
        chat_id = update.effective_chat.id
    if chat_id is not None:
        try:
            await context.bot.send_message(
                chat_id, texts.ERROR.format(request_id=request_id), parse_mode=ParseMode.HTML
            )
        except TelegramError:
            log.warning("could not send the apology", extra={"request_id": request_id})
