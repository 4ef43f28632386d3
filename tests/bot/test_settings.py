"""Settings: .env.example documents every one, secrets stay secret, tokens are checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlers.config import BotSettings
from handlers.errors import InvalidTokenError

EXAMPLE = Path(__file__).parents[2] / ".env.example"


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), re.MULTILINE))
    assert documented == {name.upper() for name in BotSettings.model_fields}


def test_env_example_loads_as_is(tmp_path: Path) -> None:
    """A user who copies .env.example to .env gets the defaults, not a validation error."""
    settings = BotSettings(_env_file=EXAMPLE)
    assert settings.telegram_bot_token is None and settings.story_seed is None
    assert settings.media_host == "127.0.0.1" and settings.caption_backend == "classifier"


@pytest.mark.parametrize("token", ["", "abc", "123:short", "123456789:has spaces in it and more chars"])
def test_malformed_tokens_are_refused_with_a_clear_message(token: str) -> None:
    with pytest.raises(InvalidTokenError, match="TELEGRAM_BOT_TOKEN"):
        BotSettings(_env_file=None, telegram_bot_token=token).bot_token()


def test_secrets_are_hidden_in_repr_and_listed_for_redaction() -> None:
    token = "123456789:AAH-abcdefghijklmnopqrstuvwxyz0123456"
    settings = BotSettings(
        _env_file=None, telegram_bot_token=token, unsplash_access_key="k3y", queue_url="redis://:pw@127.0.0.1:6379/0"
    )
    assert settings.bot_token() == token
    assert token not in repr(settings) and "k3y" not in repr(settings)
    assert set(settings.secrets()) == {token, "k3y", "pw"}


def test_env_file_is_ignored_by_git() -> None:
    ignored = (Path(__file__).parents[2] / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
