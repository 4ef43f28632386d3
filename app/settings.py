"""Settings the bot and the worker share, on top of the pipeline's: storage, media server, health, admission
limits, logging.

Read from the environment or `.env` (see `.env.example`). Secrets are `SecretStr`, so printing the settings
never shows them. The Telegram settings are the bot's alone (`handlers/config.py`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from pipeline.config import PipelineSettings


class AppSettings(PipelineSettings):
    media_host: str = "127.0.0.1"
    media_port: int = Field(8080, description="0 picks a free port")
    media_public_url: str | None = Field(None, description="URL the pipeline workers use to reach the media server")
    media_ttl_s: float = 600.0
    media_max_total_mb: int = 500

    data_dir: Path = Field(Path("data"), description="persistence (chat settings) and the media store")

    metrics_host: str = Field("127.0.0.1", description="where /healthz, /readyz and /metrics listen")
    metrics_port: int = Field(9090, description="0 picks a free port")

    running_jobs: int = Field(2, description="pipeline jobs running at once (cores)")
    max_waiting: int = Field(20, description="jobs waiting in line before 'muito movimento'")
    per_user_jobs: int = Field(3, description="running + waiting jobs per user")
    per_chat_jobs: int = Field(6, description="running + waiting jobs per chat (groups)")
    shutdown_deadline_s: float = 20.0
    startup_max_wait_s: float = Field(
        0.0, description="give up on an unreachable Telegram or Redis at start-up after this long (0 = never)"
    )

    log_level: str = "INFO"
    log_json: bool = True

    def secrets(self) -> list[str]:
        """Every secret value set, for log redaction."""
        found = [v.get_secret_value() for v in self._secret_fields() if v is not None and v.get_secret_value()]
        queue_password = urlsplit(self.queue_url).password if self.queue_url else None
        return found + ([queue_password] if queue_password else [])

    def _secret_fields(self) -> list[SecretStr | None]:
        return [self.unsplash_access_key, self.openai_api_key]
