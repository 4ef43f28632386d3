"""Bot settings: Telegram (token, Bot API root, webhook), on top of the settings the app shares.

Read from the environment or `.env` (see `.env.example`). Secrets are `SecretStr`, so printing the
settings never shows them.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from app.settings import AppSettings

from .errors import InvalidTokenError

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")


class BotSettings(AppSettings):
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = Field("https://api.telegram.org", description="Bot API root (or self-hosted)")

    webhook_url: str | None = Field(None, description="public HTTPS URL; set it to use webhook mode")
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    download_timeout_s: float = 30.0

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def bot_token(self) -> str:
        """The token, checked; raises InvalidTokenError with a helpful message."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value().strip():
            raise InvalidTokenError("TELEGRAM_BOT_TOKEN is not set")
        token = self.telegram_bot_token.get_secret_value().strip()
        if not TOKEN_PATTERN.match(token):
            raise InvalidTokenError("TELEGRAM_BOT_TOKEN does not look like '123456789:AA…' from @BotFather")
        return token

    def _secret_fields(self) -> list[SecretStr | None]:
        return [*super()._secret_fields(), self.telegram_bot_token, self.webhook_secret]
