"""Bot settings: Telegram, media server, queue limits — on top of the pipeline's settings.

Read from the environment or `.env` (see `.env.example`). Secrets are `SecretStr`, so printing the
settings never shows them.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from pipeline.config import PipelineSettings

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")


class InvalidTokenError(ValueError):
    """TELEGRAM_BOT_TOKEN does not look like a token from @BotFather."""


class BotSettings(PipelineSettings):
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = Field("https://api.telegram.org", description="Bot API root (or self-hosted)")

    media_host: str = "127.0.0.1"
    media_port: int = Field(8080, description="0 picks a free port")
    media_public_url: str | None = Field(None, description="URL the captioner uses to reach the media server")
    media_ttl_s: float = 600.0
    media_max_total_mb: int = 500

    data_dir: Path = Field(Path("data"), description="persistence (chat settings) and the media store")

    webhook_url: str | None = Field(None, description="public HTTPS URL; set it to use webhook mode")
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    metrics_host: str = Field("127.0.0.1", description="where /healthz, /readyz and /metrics listen")
    metrics_port: int = Field(9090, description="0 picks a free port")

    workers: int = Field(2, description="pipeline jobs running at once (cores)")
    max_waiting: int = Field(20, description="jobs waiting in line before 'muito movimento'")
    per_user_jobs: int = Field(3, description="running + waiting jobs per user")
    per_chat_jobs: int = Field(6, description="running + waiting jobs per chat (groups)")
    download_timeout_s: float = 30.0
    shutdown_deadline_s: float = 20.0

    log_level: str = "INFO"
    log_json: bool = True

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

    def secrets(self) -> list[str]:
        """Every secret value set, for log redaction."""
        values = [self.telegram_bot_token, self.webhook_secret, self.unsplash_access_key, self.openai_api_key]
        found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        queue_password = urlsplit(self.queue_url).password if self.queue_url else None
        return found + ([queue_password] if queue_password else [])
