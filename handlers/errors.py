"""The exceptions of the Telegram side."""

from __future__ import annotations


class InvalidTokenError(ValueError):
    """TELEGRAM_BOT_TOKEN does not look like a token from @BotFather."""


class StoryFailed(Exception):
    """A story request crashed; carries its id so the user's apology and our logs match."""

    def __init__(self, request_id: str, chat_id: int) -> None:
        super().__init__(f"story request {request_id} failed")
        self.request_id = request_id
        self.chat_id = chat_id
