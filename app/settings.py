"""Settings the bot and the worker share, on top of the pipeline's: storage, media server, health, admission
limits, logging.

Read from the environment or `.env` (see `.env.example`). Secrets are `SecretStr`, so printing the settings
never shows them. The Telegram settings are the bot's alone (`handlers/config.py`).
"""

from __future__ import annotations

import socket
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

    data_dir: Path = Field(Path("data"), description="persistence (chat settings), the media and the request store")
    database_url: SecretStr | None = Field(
        None, description="the request store as an SQLAlchemy async URL; default: SQLite under DATA_DIR"
    )
    replica_id: str = Field(
        default_factory=socket.gethostname,
        description="this bot replica's name in the store's leases: unique per replica (default: the host name)",
    )
    replica_lease_s: float = Field(
        30.0, description="a dead replica's open requests are taken over by another this long after its last sign"
    )
    resume_max_age_h: float = Field(24.0, description="after a restart, older unfinished requests get an apology")
    finished_requests_kept_s: float = Field(3600.0, description="how long answered requests stay in the store")
    stories_kept_days: float = Field(30.0, description="how long /historias keeps a story (and its voice)")

    metrics_host: str = Field("127.0.0.1", description="where /healthz, /readyz and /metrics listen")
    metrics_port: int = Field(9090, description="0 picks a free port")

    running_jobs: int = Field(2, description="pipeline jobs running at once (cores)")
    running_captions: int = Field(2, description="captions made at once, ahead of the story queue")
    max_waiting: int = Field(20, description="jobs waiting in line before 'muito movimento'")
    per_user_jobs: int = Field(3, description="running + waiting jobs per user")
    per_chat_jobs: int = Field(6, description="running + waiting jobs per chat (groups)")
    shutdown_deadline_s: float = 20.0
    startup_max_wait_s: float = Field(
        0.0, description="give up on an unreachable Telegram or Redis at start-up after this long (0 = never)"
    )

    # The web page (web/): without a token `make run` serves it; with a token, WEB_ENABLED serves it next to the bot.
    web_enabled: bool = Field(False, description="with a Telegram token: serve the web page in the bot's process too")
    web_host: str = Field("127.0.0.1", description="where the web page listens (0.0.0.0: every interface)")
    web_port: int = Field(8000, description="0 picks a free port")
    web_story_ttl_s: float = Field(600.0, description="a web story (its photo and voice) is kept this long")
    web_per_ip_jobs: int = Field(2, description="web stories waiting or running per IP address")
    web_per_ip_per_minute: int = Field(6, description="web stories started per IP address per minute")
    web_max_stored_mb: int = Field(200, description="photos and voices of web stories kept in memory, in total")
    web_trust_proxy: bool = Field(
        False, description="behind a reverse proxy: the client IP is the last X-Forwarded-For address"
    )

    log_level: str = "INFO"
    log_json: bool = True

    def secrets(self) -> list[str]:
        """Every secret value set, for log redaction."""
        found = [v.get_secret_value() for v in self._secret_fields() if v is not None and v.get_secret_value()]
        passwords = [urlsplit(url).password for url in (self.queue_url, self.store_url()) if url]
        return found + [password for password in passwords if password]

    def store_url(self) -> str:
        """Where the request store lives: DATABASE_URL, or a SQLite file under DATA_DIR."""
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.data_dir / 'conta_historias.db').resolve()}"

    def _secret_fields(self) -> list[SecretStr | None]:
        return [self.unsplash_access_key, self.openai_api_key, self.database_url]
