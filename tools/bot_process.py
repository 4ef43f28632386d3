"""The real bot (handlers, queue, store, recovery) in a process of its own, with the light fake backends, so a
test can kill it with SIGKILL at a chosen moment and start it again (tests/bot/test_recovery.py).

    python -m tools.bot_process --api http://127.0.0.1:PORT --data DIR [--hang STAGE] [--webhook PORT]

With --hang, the first request stops for good at STAGE (download, caption, story, speech or sending: the
voice upload) and the process prints "hanging at STAGE" on stdout: the moment to kill it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from telegram import Update

from app.logs import configure_logging
from bot import build_application, build_services
from handlers.config import BotSettings
from handlers.recovery import DurableBot
from pipeline.core import Pipeline

from .fake_backends import FakeBackends, fake_backends
from .fake_telegram import DEFAULT_TOKEN

STAGES = ("download", "caption", "story", "speech", "sending")


def hang_forever(stage: str) -> Any:
    """A coroutine function that announces `stage` on stdout and never returns."""

    async def forever(*args: Any, **kwargs: Any) -> Any:
        print(f"hanging at {stage}", flush=True)
        await asyncio.Event().wait()

    return forever


def install_hang(stage: str, backends: FakeBackends) -> None:
    """Make `stage` hang (the fakes are plain objects; the bot's methods are patched on its class)."""
    match stage:
        case "download":
            DurableBot.get_file = hang_forever(stage)  # type: ignore[method-assign]
        case "caption":
            backends.captioner.caption = hang_forever(stage)  # type: ignore[method-assign]
        case "story":
            backends.story_writer.write = hang_forever(stage)  # type: ignore[method-assign]
        case "speech":
            backends.synthesizers["pt"].synthesize = hang_forever(stage)  # type: ignore[method-assign]
        case "sending":
            DurableBot.send_voice = hang_forever(stage)  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True, help="the (fake) Bot API root")
    parser.add_argument("--data", type=Path, required=True, help="DATA_DIR, kept across restarts")
    parser.add_argument("--hang", choices=STAGES)
    parser.add_argument("--webhook", type=int, metavar="PORT", help="webhook mode, listening on 127.0.0.1:PORT")
    args = parser.parse_args(argv)
    configure_logging(level="INFO", json=True, secrets=[DEFAULT_TOKEN])
    settings = BotSettings(
        _env_file=None,
        telegram_bot_token=DEFAULT_TOKEN,
        telegram_api_url=args.api,
        data_dir=args.data,
        media_port=0,
        metrics_port=0,
    )
    backends = fake_backends()
    if args.hang:
        install_hang(args.hang, backends)
    services = build_services(settings, pipeline=Pipeline(settings, backends))
    application = build_application(settings, services, webhook=args.webhook is not None)
    if args.webhook is None:
        application.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=1)
    else:
        application.run_webhook(
            listen="127.0.0.1",
            port=args.webhook,
            url_path="telegram",
            webhook_url=f"http://127.0.0.1:{args.webhook}/telegram",
            allowed_updates=Update.ALL_TYPES,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
